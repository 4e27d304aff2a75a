// Session rules end to end, through the HTML forms: devices and last use in the sessions list,
// the concurrent-session limit (end the oldest, or refuse the new one), per-role limits, and the
// self-service account page (sessions, password change with a fresh sign-in, second factors and
// recovery codes), with CSRF and every change audited.
import { generate } from 'otplib';
import { scheduleInactivitySweep } from '../../src/accounts/index.ts';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, formOf, type Agent, type Page } from '../support/browser-agent.ts';

const REDIRECT = 'https://chart.example/cb';
const PASSWORD = 'a-long-enough-password-for-tests';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const cli = { type: 'cli' as const, id: 'test' };

let cg: TestCaregate;

beforeAll(async () => {
  cg = await startTestCaregate();
});

afterAll(async () => {
  await cg?.close();
});

// ---- Helpers ------------------------------------------------------------------------------------

interface Clinic {
  slug: string;
  tenantId: string;
  clientId: string;
}

async function clinic(slug: string, policy: Record<string, unknown> = {}): Promise<Clinic> {
  const a = cg.runtime.accounts;
  const tenant = await a.tenants.create({ slug, name: `Clinic ${slug}` }, cli);
  if (Object.keys(policy).length) await a.tenants.updatePolicy(slug, policy, cli);
  const app = await a.applications.create(slug, { name: 'Chart', redirectUris: [REDIRECT] }, cli);
  return { slug, tenantId: tenant.id, clientId: app.client_id };
}

const user = (slug: string, username: string, roles: string[] = []) =>
  cg.runtime.accounts.users.create(slug, { username, password: PASSWORD }, roles.map((role) => ({ role })), cli);

function authUrl(c: Clinic, extra: Record<string, string> = {}) {
  const params = new URLSearchParams({
    client_id: c.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, state: 's', nonce: 'n',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSKUctwM', code_challenge_method: 'S256', ...extra,
  });
  return `${cg.issuer(c.slug)}/auth?${params}`;
}

/** Signs in through the application's authorization request; returns where the browser ended up. */
async function signIn(agent: Agent, c: Clinic, username: string, password = PASSWORD, extra: Record<string, string> = {}): Promise<Page> {
  const login = await agent.follow(await agent.get(authUrl(c, extra)), REDIRECT);
  if (login.location?.startsWith(REDIRECT)) return login;
  const { action, fields } = formOf(login);
  return agent.follow(await agent.postForm(action, { ...fields, username, password }), REDIRECT);
}

/** True when the browser still holds a sign-on session (the application gets a code without a form). */
async function stillSignedIn(agent: Agent, c: Clinic): Promise<boolean> {
  const page = await agent.follow(await agent.get(authUrl(c)), REDIRECT);
  return Boolean(page.location?.startsWith(`${REDIRECT}?code=`));
}

async function auditOf(c: Clinic, action: string) {
  return cg.runtime.storage.auditEvents.findBy({ tenantId: c.tenantId, action });
}

/** A form on the page by the path its action ends with (and a hidden field's value, if given). */
function form(page: Page, path: string, where?: [string, string]) {
  for (let i = 0; ; i++) {
    let f: ReturnType<typeof formOf>;
    try {
      f = formOf(page, i);
    } catch {
      throw new Error(`no form posting to ${path} on ${page.url} (status ${page.status}): ${page.html.slice(0, 400)}`);
    }
    if (new URL(f.action).pathname.endsWith(path) && (!where || f.fields[where[0]] === where[1])) return f;
  }
}

async function submit(agent: Agent, page: Page, path: string, values: Record<string, string> = {}, where?: [string, string]) {
  const { action, fields } = form(page, path, where);
  return agent.postForm(action, { ...fields, ...values });
}

/** Opens the account page, signing in through the tenant's sign-in page if the browser has no session. */
async function accountPage(agent: Agent, c: Clinic, username: string, password = PASSWORD): Promise<Page> {
  const account = `${cg.issuer(c.slug)}/account`;
  let page = await agent.follow(await agent.get(account), REDIRECT);
  if (page.html.includes('name="password"') && !page.url.startsWith(account)) {
    const { action, fields } = formOf(page);
    page = await agent.follow(await agent.postForm(action, { ...fields, username, password }), REDIRECT);
  }
  expect(page.url).toBe(account);
  expect(page.status).toBe(200);
  return page;
}

/** Makes the browser's sign-in look `seconds` older (as if time had passed since the password). */
async function ageSignIn(c: Clinic, userId: string, seconds: number) {
  for (const s of await cg.runtime.sessions.list(c.tenantId, userId)) {
    const key = `oidc:${c.tenantId}:Session:${s.id}`;
    const payload = JSON.parse((await cg.runtime.ephemeral.get(key))!);
    payload.loginTs -= seconds;
    await cg.runtime.ephemeral.set(key, JSON.stringify(payload), 600);
  }
}

// ---- Tests --------------------------------------------------------------------------------------

describe('sessions list: devices, addresses, last use', () => {
  it('lists each browser with its device, address and times, for the admin', async () => {
    const c = await clinic('devices');
    const ann = await user(c.slug, 'ann');
    expect((await signIn(createAgent(FIREFOX), c, 'ann')).location).toMatch(/code=/);
    expect((await signIn(createAgent(CHROME), c, 'ann')).location).toMatch(/code=/);
    const sessions = await cg.runtime.security.sessions(c.slug, 'ann');
    expect(sessions.map((s) => s.device)).toEqual(['Firefox 128 on Windows', 'Chrome 131 on macOS']);
    for (const s of sessions) {
      expect(s.ip).toMatch(/127\.0\.0\.1/);
      expect(s.lastSeenAt!.getTime()).toBeGreaterThanOrEqual(s.signedInAt!.getTime());
      // The default policy: 30 minutes idle, within 12 hours absolute.
      expect(s.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(1801_000);
    }
    expect(ann.id).toBeDefined();
  });
});

describe('concurrent session limit', () => {
  it('"end_oldest": the third sign-in ends the first session, audited', async () => {
    const c = await clinic('limit-oldest', { sessions: { maxConcurrent: 2, onLimit: 'end_oldest' } });
    const bo = await user(c.slug, 'bo');
    const [first, second, third] = [createAgent(FIREFOX), createAgent(CHROME), createAgent()];
    for (const agent of [first, second, third]) expect((await signIn(agent, c, 'bo')).location).toMatch(/code=/);
    expect(await stillSignedIn(first, c)).toBe(false);
    expect(await stillSignedIn(second, c)).toBe(true);
    expect(await stillSignedIn(third, c)).toBe(true);
    expect(await cg.runtime.sessions.list(c.tenantId, bo.id)).toHaveLength(2);
    expect(await auditOf(c, 'session.end_oldest')).toEqual([expect.objectContaining({ targetId: bo.id, details: expect.objectContaining({ limit: 2 }) })]);
  });

  it('"deny": a second browser is refused with a clear page (403, audited); re-authenticating in the first is not', async () => {
    const c = await clinic('limit-deny', { sessions: { maxConcurrent: 1, onLimit: 'deny' } });
    const cy = await user(c.slug, 'cy');
    const first = createAgent(FIREFOX);
    expect((await signIn(first, c, 'cy')).location).toMatch(/code=/);
    const refused = await signIn(createAgent(CHROME), c, 'cy');
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('Too many sessions');
    expect(refused.html).toContain('already signed in on 1 devices');
    expect(await auditOf(c, 'session.limit_reached')).toEqual([expect.objectContaining({ targetId: cy.id, outcome: 'failure' })]);
    // The first browser signs in again (prompt=login) without counting against itself.
    expect((await signIn(first, c, 'cy', PASSWORD, { prompt: 'login' })).location).toMatch(/code=/);
    expect(await cg.runtime.sessions.list(c.tenantId, cy.id)).toHaveLength(1);
  });
});

describe('per-role session limits', () => {
  it('the shortest limit among the user\'s roles applies to their sessions', async () => {
    const c = await clinic('role-limits', { sessions: { idleSeconds: 3600, roles: { admin: { idleSeconds: 120, absoluteSeconds: 600 } } } });
    const admin = await user(c.slug, 'root', ['admin']);
    const plain = await user(c.slug, 'dee');
    await signIn(createAgent(), c, 'root');
    await signIn(createAgent(), c, 'dee');
    const [adminSession] = await cg.runtime.sessions.list(c.tenantId, admin.id);
    const [plainSession] = await cg.runtime.sessions.list(c.tenantId, plain.id);
    const left = (s: typeof adminSession) => (s!.expiresAt!.getTime() - Date.now()) / 1000;
    expect(left(adminSession)).toBeLessThanOrEqual(120);
    expect(left(adminSession)).toBeGreaterThan(60);
    expect(left(plainSession)).toBeGreaterThan(3000);
  });
});

describe('account page', () => {
  let c: Clinic;
  beforeAll(async () => {
    c = await clinic('self-service', { mfa: { mode: 'optional' } });
  });

  it('asks for a sign-in, then shows the user their sessions and devices', async () => {
    await user(c.slug, 'eve');
    const other = createAgent(CHROME);
    await signIn(other, c, 'eve');
    const page = await accountPage(createAgent(FIREFOX), c, 'eve');
    expect(page.html).toContain('Signed in as');
    expect(page.html).toMatch(/Firefox 128 on Windows<\/strong> · this device/);
    expect(page.html).toContain('Chrome 131 on macOS');
  });

  it('ends another session from the list, and then everywhere else', async () => {
    const flo = await user(c.slug, 'flo');
    const [phone, laptop] = [createAgent(CHROME), createAgent()];
    await signIn(phone, c, 'flo');
    await signIn(laptop, c, 'flo');
    const browser = createAgent(FIREFOX);
    let page = await accountPage(browser, c, 'flo');
    const phoneSession = (await cg.runtime.sessions.list(c.tenantId, flo.id)).find((s) => s.device?.startsWith('Chrome'))!;
    const ended = await submit(browser, page, '/sessions/end', {}, ['session', phoneSession.id]);
    expect(ended.status).toBe(303);
    page = await browser.follow(ended);
    expect(page.html).toContain('The session was ended.');
    expect(await stillSignedIn(phone, c)).toBe(false);
    expect(await stillSignedIn(laptop, c)).toBe(true);
    page = await browser.follow(await submit(browser, page, '/sessions/end-others'));
    expect(page.html).toContain('signed out everywhere else');
    expect(await stillSignedIn(laptop, c)).toBe(false);
    expect(await stillSignedIn(browser, c)).toBe(true);
    const events = (await auditOf(c, 'user.sessions.end')).filter((e) => e.targetId === flo.id);
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.actorType === 'user' && e.actorId === flo.id)).toBe(true);
  });

  it('refuses a form without its CSRF token (403, audited), and one from another browser session', async () => {
    await user(c.slug, 'gus');
    const browser = createAgent();
    const page = await accountPage(browser, c, 'gus');
    const { action, fields } = form(page, '/sessions/end');
    expect((await browser.postForm(action, { ...fields, csrf: '' })).status).toBe(403);
    const stranger = createAgent();
    await accountPage(stranger, c, 'gus');
    const otherPage = await accountPage(stranger, c, 'gus');
    const theirs = form(otherPage, '/sessions/end').fields.csrf;
    expect((await browser.postForm(action, { ...fields, csrf: theirs })).status).toBe(403);
    expect((await auditOf(c, 'account.csrf_rejected')).length).toBeGreaterThanOrEqual(2);
    expect(await cg.runtime.sessions.list(c.tenantId, (await cg.runtime.accounts.users.findUser(c.slug, 'gus')).id)).toHaveLength(2);
  });

  it('changes the password: current one checked, new one twice and within policy; other sessions end', async () => {
    const hal = await user(c.slug, 'hal');
    const elsewhere = createAgent();
    await signIn(elsewhere, c, 'hal');
    const browser = createAgent();
    const page = await accountPage(browser, c, 'hal');
    const NEW = 'another-long-password-for-hal';
    let res = await submit(browser, page, '/password', { current: 'wrong-password-entirely', password: NEW, confirm: NEW });
    expect(res.status).toBe(401);
    expect(res.html).toContain('Your current password is not right.');
    res = await submit(browser, page, '/password', { current: PASSWORD, password: NEW, confirm: `${NEW}x` });
    expect(res.status).toBe(400);
    expect(res.html).toContain('The two new passwords are not the same.');
    res = await submit(browser, page, '/password', { current: PASSWORD, password: 'short', confirm: 'short' });
    expect(res.status).toBe(400);
    expect(res.html).toMatch(/at least 12 characters/);
    res = await submit(browser, page, '/password', { current: PASSWORD, password: NEW, confirm: NEW });
    expect(res.status).toBe(303);
    expect((await browser.follow(res)).html).toContain('Your password was changed.');
    expect(await stillSignedIn(elsewhere, c)).toBe(false);
    expect(await stillSignedIn(browser, c)).toBe(true);
    expect((await signIn(createAgent(), c, 'hal', NEW)).location).toMatch(/code=/);
    const failures = (await auditOf(c, 'user.password.change')).filter((e) => e.targetId === hal.id);
    expect(failures.map((e) => e.outcome).sort()).toEqual(['failure', 'success']);
  });

  it('asks for a fresh sign-in before a change when the last one is more than five minutes old', async () => {
    const ida = await user(c.slug, 'ida');
    const browser = createAgent();
    const page = await accountPage(browser, c, 'ida');
    await ageSignIn(c, ida.id, 600);
    const res = await submit(browser, page, '/password', { current: PASSWORD, password: 'never-applied-password', confirm: 'never-applied-password' });
    expect(res.status).toBe(303);
    const to = new URL(res.location!);
    expect(to.pathname).toBe(`/t/${c.slug}/auth`);
    expect(to.searchParams.get('prompt')).toBe('login');
    expect(to.searchParams.get('client_id')).toBe('account');
    // Signing in again (the form asks, despite the session) lands back on the account page.
    const login = await browser.follow(res);
    expect(login.html).toContain('name="password"');
    const { action, fields } = formOf(login);
    const back = await browser.follow(await browser.postForm(action, { ...fields, username: 'ida', password: PASSWORD }));
    expect(back.url).toBe(`${cg.issuer(c.slug)}/account#password`);
    // Nothing was changed by the first submission.
    expect((await signIn(createAgent(), c, 'ida')).location).toMatch(/code=/);
  });

  it('adds an authenticator app, shows recovery codes once, makes new ones, and removes the app', async () => {
    const jo = await user(c.slug, 'jo');
    const browser = createAgent();
    let page = await accountPage(browser, c, 'jo');
    const enrol = await submit(browser, page, '/totp');
    expect(enrol.status).toBe(200);
    const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(enrol.html)![1]!.replace(/\s/g, '');
    const good = await generate({ secret });
    let res = await submit(browser, enrol, '/enrol', { code: good === '000000' ? '111111' : '000000' });
    expect(res.status).toBe(401);
    res = await submit(browser, res, '/enrol', { code: good });
    expect(res.status).toBe(200);
    const codes = [...res.html.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]);
    expect(codes).toHaveLength(10);
    expect(res.html).toContain('Your authenticator app is set up.');
    expect(await cg.runtime.factors.confirmed(jo.id)).toEqual([expect.objectContaining({ type: 'totp' })]);

    page = res;
    res = await submit(browser, page, '/recovery-codes');
    const fresh = [...res.html.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]);
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toEqual(codes);
    expect(await cg.runtime.factors.useRecoveryCode(jo.id, codes[0]!)).toBe(-1);

    const [factor] = await cg.runtime.factors.confirmed(jo.id);
    res = await submit(browser, res, '/factors/remove', {}, ['factor', factor!.id]);
    expect(res.status).toBe(303);
    expect(await cg.runtime.factors.confirmed(jo.id)).toEqual([]);
    expect(await cg.runtime.factors.recoveryCodesLeft(jo.id)).toBe(0);
    const actions = (await cg.runtime.storage.auditEvents.findBy({ tenantId: c.tenantId, targetId: jo.id })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['mfa.enrol', 'mfa.recovery_codes.generate', 'mfa.remove']));
  });

  it('will not remove the last second factor when the policy requires one', async () => {
    const strict = await clinic('self-service-strict', { mfa: { mode: 'required', methods: ['totp'] } });
    const kim = await user(strict.slug, 'kim');
    const secret = cg.runtime.totp.generateSecret();
    const factor = await cg.runtime.factors.beginTotp(await cg.runtime.storage.users.findOneByOrFail({ id: kim.id }), secret);
    await cg.runtime.factors.confirm(factor, cli);
    const browser = createAgent();
    const account = `${cg.issuer(strict.slug)}/account`;
    const login = await browser.follow(await browser.get(account));
    const afterPassword = await browser.follow(await browser.postForm(formOf(login).action, { ...formOf(login).fields, username: 'kim', password: PASSWORD }));
    const mfa = form(afterPassword, '/mfa', ['method', 'totp']);
    const page = await browser.follow(await browser.postForm(mfa.action, { ...mfa.fields, code: await generate({ secret }) }));
    expect(page.url).toBe(account);
    const res = await submit(browser, page, '/factors/remove', {}, ['factor', factor.id]);
    expect(res.status).toBe(409);
    expect(res.html).toContain('Add another method before removing this one.');
    expect(await cg.runtime.factors.confirmed(kim.id)).toHaveLength(1);
  });

  it('sends a visitor without a session to the sign-in, and reports a cancelled one plainly', async () => {
    const res = await createAgent().get(`${cg.issuer(c.slug)}/account`);
    expect(res.status).toBe(303);
    expect(new URL(res.location!).searchParams.get('client_id')).toBe('account');
    const cancelled = await createAgent().get(`${cg.issuer(c.slug)}/account/callback?error=access_denied&error_description=The+user+cancelled+the+request.`);
    expect(cancelled.status).toBe(400);
    expect(cancelled.html).toContain('The user cancelled the request.');
  });
});

describe('signing a user out everywhere', () => {
  it('disabling a user ends their sessions and their refresh tokens', async () => {
    const c = await clinic('sign-out-all');
    const lee = await user(c.slug, 'lee');
    const browser = createAgent();
    await signIn(browser, c, 'lee');
    await cg.runtime.storage.query(`INSERT INTO oidc_payloads (tenant_id, model, id, payload) VALUES ($1, 'RefreshToken', 'rt-lee', $2)`, [c.tenantId, JSON.stringify({ accountId: lee.id })]);
    await cg.runtime.accounts.users.setStatus(c.slug, 'lee', 'disabled', cli);
    expect(await stillSignedIn(browser, c)).toBe(false);
    expect(await cg.runtime.storage.query(`SELECT id FROM oidc_payloads WHERE id = 'rt-lee'`)).toEqual([]);
  });
});

describe('inactivity', () => {
  it('expires accounts unused for the policy\'s days (sessions and tokens end); an admin re-enables them for a new period', async () => {
    const c = await clinic('inactive', { accounts: { inactivityDays: 90 } });
    const untouched = await clinic('inactive-no-policy');
    const old = await user(c.slug, 'old');
    const recent = await user(c.slug, 'recent');
    const fresh = await user(c.slug, 'fresh');
    const back = await user(c.slug, 'back');
    const elsewhere = await user(untouched.slug, 'old');
    const browser = createAgent();
    await signIn(browser, c, 'old');
    const age = (id: string, lastLoginDays: number | null, reenabledDays: number | null = null) =>
      cg.runtime.storage.query(
        `UPDATE users SET created_at = now() - interval '200 days', last_login_at = $2::timestamptz, reenabled_at = $3::timestamptz WHERE id = $1`,
        [id, lastLoginDays === null ? null : new Date(Date.now() - lastLoginDays * 86_400_000), reenabledDays === null ? null : new Date(Date.now() - reenabledDays * 86_400_000)],
      );
    await age(old.id, 100);
    await age(recent.id, 10);
    await age(back.id, 150, 5);
    await age(elsewhere.id, 300);

    const expired = await cg.runtime.security.expireInactive();
    expect(expired.map((a) => `${a.tenant}/${a.username}`)).toEqual(['inactive/old']);
    const status = async (slug: string, name: string) => (await cg.runtime.accounts.users.findUser(slug, name)).status;
    expect(await status(c.slug, 'old')).toBe('expired');
    for (const name of ['recent', 'fresh', 'back']) expect(await status(c.slug, name)).toBe('active');
    expect(await status(untouched.slug, 'old')).toBe('active');
    expect(fresh.id).toBeDefined();
    expect(await stillSignedIn(browser, c)).toBe(false);
    expect(await auditOf(c, 'user.expire')).toEqual([expect.objectContaining({ targetId: old.id, actorType: 'system', actorId: 'inactivity' })]);

    // An expired account cannot sign in: the same answer as a wrong password.
    const refused = await signIn(createAgent(), c, 'old');
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('The username or password is incorrect.');

    // Re-enabled: a new period starts, so the next sweep leaves it alone.
    await cg.runtime.accounts.users.setStatus(c.slug, 'old', 'active', cli);
    expect(await cg.runtime.security.expireInactive(c.slug)).toEqual([]);
    expect((await signIn(createAgent(), c, 'old')).location).toMatch(/code=/);
  });
});

describe('inactivity sweep on a schedule', () => {
  it('runs on each node\'s timer but only where it takes the lock that another node may hold', async () => {
    const c = await clinic('inactive-scheduled', { accounts: { inactivityDays: 30 } });
    const ned = await user(c.slug, 'ned');
    await cg.runtime.storage.query(`UPDATE users SET created_at = now() - interval '60 days' WHERE id = $1`, [ned.id]);
    const status = async () => (await cg.runtime.accounts.users.findUser(c.slug, 'ned')).status;
    await cg.runtime.ephemeral.set('jobs:inactivity:lock', 'another-node', 30); // another node is sweeping
    const expiredRounds: string[][] = [];
    const stop = scheduleInactivitySweep({ ...cg.runtime, onError: (e) => { throw e; }, onExpired: (a) => expiredRounds.push(a.map((x) => x.username)) }, 100);
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(await status()).toBe('active');
      await cg.runtime.ephemeral.del('jobs:inactivity:lock');
      for (let i = 0; i < 60 && (await status()) === 'active'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await status()).toBe('expired');
      expect(expiredRounds).toContainEqual(['ned']);
    } finally {
      stop();
    }
  });
});

describe('single-use links under concurrency', () => {
  it('of two simultaneous uses of one reset link, exactly one gets through (an UPDATE … RETURNING in a transaction)', async () => {
    const c = await clinic('links-race');
    const mo = await user(c.slug, 'mo');
    const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ id: c.tenantId });
    const moRow = await cg.runtime.storage.users.findOneByOrFail({ id: mo.id });
    const { url } = await cg.runtime.links.issue(tenant, moRow, 'reset', 30, cli);
    const check = await cg.runtime.links.check(tenant, 'reset', url.split('/').pop()!);
    if (!check.ok) throw new Error('expected a usable link');
    let ran = 0;
    const results = await Promise.all([0, 1].map(() => cg.runtime.links.use(tenant, check.token, async () => void ran++)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(ran).toBe(1);
  });
});
