// A password's life end to end, with mail delivered to a real SMTP server: forgot password (same
// answer for unknown accounts, mail only to real ones), reset links (single use, expiry reported,
// sessions ended), invitations (activation, resend voids the old link), and what an admin does
// through the admin API (lock state, unlock, temporary password, 2FA reset, policy validation) and
// the CLI (policy change, temporary password).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, formOf, type Agent, type Page } from '../support/browser-agent.ts';
import { freshDatabaseUrl, redisUrlForTest, tempDataDir, type FreshDatabase, type TempDataDir } from '../support/stores.ts';
import { startSmtpServer, type SmtpTestServer } from '../integration/notify/smtp-test-server.ts';

const REDIRECT = 'https://chart.example/cb';
const PASSWORD = 'a-long-enough-password-for-tests';
const NEW_PASSWORD = 'violet-harbour-lantern-forty-two';
const WRONG_CREDENTIALS = 'The username or password is incorrect.';
const SLUG = 'lifecycle';
const cli = { type: 'cli' as const, id: 'test' };

let cg: TestCaregate;
let smtp: SmtpTestServer;
let rp: oidc.Configuration;
let adminApi: string;
let adminToken: string;
let adminClientId: string;

beforeAll(async () => {
  // The test server offers no STARTTLS: smtp:// then delivers in clear.
  smtp = await startSmtpServer({ disabledCommands: ['STARTTLS'] });
  cg = await startTestCaregate({ overrides: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Caregate <no-reply@test.example>' } });
  adminApi = `${cg.baseUrl}/admin/api`;
  const a = cg.runtime.accounts;
  await a.tenants.create({ slug: SLUG, name: 'Lifecycle Clinic' }, cli);
  const app = await a.applications.create(SLUG, { name: 'Chart', redirectUris: [REDIRECT] }, cli);
  rp = await oidc.discovery(new URL(cg.issuer(SLUG)), app.client_id, app.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const svc = await a.applications.create(SLUG, { name: 'svc admin', grantTypes: ['client_credentials'], serviceRoles: ['admin'], adminApi: true }, cli);
  adminClientId = svc.client_id;
  const svcConfig = await oidc.discovery(new URL(cg.issuer(SLUG)), svc.client_id, svc.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
  adminToken = (await oidc.clientCredentialsGrant(svcConfig, { resource: adminApi })).access_token;
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
});

// ---- Helpers ------------------------------------------------------------------------------------

const url = (path: string) => `${cg.issuer(SLUG)}${path}`;
const pathOf = (page: Page) => new URL(page.url).pathname;
const alertOf = (page: Page) => /role="alert"[^>]*>([^<]*)</.exec(page.html)?.[1]?.trim();
/** The visible text of a page's main content, without per-response values (CSP nonces). */
const textOf = (page: Page) => page.html.replace(/nonce="[^"]*"/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

async function user(username: string, extra: { email?: string } = {}) {
  return cg.runtime.accounts.users.create(SLUG, { username, password: PASSWORD, ...extra }, [], cli);
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${adminApi}/v1/t/${SLUG}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Audit events of this tenant with `action` about the user `userId`. */
async function auditOf(action: string, userId: string) {
  const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ slug: SLUG });
  return cg.runtime.storage.auditEvents.findBy({ tenantId: tenant.id, action, targetId: userId });
}

/** An authorization request of the relying party (PKCE), as a URL. */
async function authorizationUrl(): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  return oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT, scope: 'openid', state: oidc.randomState(), nonce: oidc.randomNonce(),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).href;
}

/** Opens an authorization request with `agent`: the login page, or the redirect back when a session exists. */
async function authorize(agent: Agent): Promise<Page> {
  return agent.follow(await agent.get(await authorizationUrl()), REDIRECT);
}

/** Signs in through the login form of a fresh authorization request; returns the next page or the redirect back. */
async function passwordStep(agent: Agent, username: string, password: string): Promise<Page> {
  const login = await authorize(agent);
  expect(login.html).toContain('name="password"');
  const { action, fields } = formOf(login);
  return agent.follow(await agent.postForm(action, { ...fields, username, password }), REDIRECT);
}

const signedIn = (page: Page) => page.location?.startsWith(`${REDIRECT}?code=`) ?? false;

/** The body of a received mail with quoted-printable encoding undone. */
const decode = (data: string) => data.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** Waits for the next mail to `to` after the first `after` received, and returns the link in it to `/kind/`. */
async function linkMailedTo(to: string, after: number, kind: 'reset' | 'invite'): Promise<string> {
  for (let i = 0; i < 100 && !smtp.received.slice(after).some((m) => m.to.includes(to)); i++) await new Promise((r) => setTimeout(r, 50));
  const mail = smtp.received.slice(after).findLast((m) => m.to.includes(to));
  if (!mail) throw new Error(`no mail to ${to}`);
  const link = new RegExp(`${cg.baseUrl}/t/${SLUG}/${kind}/[A-Za-z0-9_-]{43}`).exec(decode(mail.data))?.[0];
  if (!link) throw new Error(`no ${kind} link in mail to ${to}: ${decode(mail.data).slice(0, 600)}`);
  return link;
}

/** Submits the new-password form of a reset or invitation link page. */
async function choosePassword(agent: Agent, page: Page, password: string): Promise<Page> {
  const { action, fields } = formOf(page);
  return agent.postForm(action, { ...fields, password, confirm: password });
}

/** Opens a link and sets `password` through its form. */
async function useLink(link: string, password: string): Promise<Page> {
  const agent = createAgent();
  const page = await agent.get(link);
  expect(page.status).toBe(200);
  return choosePassword(agent, page, password);
}

/** Posts the forgot-password form for `login` with a fresh agent (csrf from the GET page). */
async function forgot(login: string): Promise<Page> {
  const agent = createAgent();
  const page = await agent.get(url('/forgot'));
  expect(page.status).toBe(200);
  const { action, fields } = formOf(page);
  return agent.postForm(action, { ...fields, login });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- Forgot password and reset links ------------------------------------------------------------

describe('forgot password', () => {
  let link: string;

  beforeAll(async () => {
    await user('fran', { email: 'fran@clinic.example' });
  });

  it('answers the same for an existing account and an unknown name, and mails a reset link only to the existing one', async () => {
    const before = smtp.received.length;
    const known = await forgot('fran');
    const unknown = await forgot('nobody-by-this-name');
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(known.status);
    expect(textOf(unknown)).toBe(textOf(known));
    expect(textOf(known)).toContain('If an account matches, we have sent a link');

    link = await linkMailedTo('fran@clinic.example', before, 'reset');
    await sleep(300); // the unknown request is handled after its answer too: give it time to (not) send
    expect(smtp.received.slice(before).map((m) => m.to)).toEqual([['fran@clinic.example']]);
    const fran = await cg.runtime.accounts.users.findUser(SLUG, 'fran');
    expect(await auditOf('user.password_reset.issue', fran.id)).toHaveLength(1);
  });

  it('the mailed link opens the reset page, which refuses a too-short password naming the rule', async () => {
    expect(link).toBeDefined();
    const agent = createAgent();
    const page = await agent.get(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Choose a new password');
    const short = await choosePassword(agent, page, 'short-pass1');
    expect(short.status).toBe(400);
    expect(short.html).toContain('Use at least 12 characters.');
  });

  it('accepts a good password: the old one no longer signs in and the new one does', async () => {
    const agent = createAgent();
    const done = await choosePassword(agent, await agent.get(link), NEW_PASSWORD);
    expect(done.status).toBe(200);
    expect(done.html).toContain('Your password has been changed');

    const old = await passwordStep(createAgent(), 'fran', PASSWORD);
    expect(old.status).toBe(401);
    expect(alertOf(old)).toBe(WRONG_CREDENTIALS);
    expect(signedIn(await passwordStep(createAgent(), 'fran', NEW_PASSWORD))).toBe(true);
  });

  it('a used link answers 410 "already been used" and offers no form', async () => {
    const agent = createAgent();
    const again = await agent.get(link);
    expect(again.status).toBe(410);
    expect(again.html).toContain('already been used');
    expect(again.html).not.toContain('name="password"');
  });

  it('a made-up token answers 404 "not valid"', async () => {
    const page = await createAgent().get(url(`/reset/${'A'.repeat(43)}`));
    expect(page.status).toBe(404);
    expect(page.html).toContain('This link is not valid');
  });
});

describe('reset link', () => {
  it('ends the existing sign-on session: the same browser is asked for its password again', async () => {
    const rosa = await user('rosa', { email: 'rosa@clinic.example' });
    const agent = createAgent();
    expect(signedIn(await passwordStep(agent, 'rosa', PASSWORD))).toBe(true);
    // With the session, a new authorization request goes straight back to the application.
    expect(signedIn(await authorize(agent))).toBe(true);

    const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ slug: SLUG });
    const row = await cg.runtime.storage.users.findOneByOrFail({ id: rosa.id });
    const { url: link } = await cg.runtime.links.issue(tenant, row, 'reset', 5, cli);
    expect((await useLink(link, NEW_PASSWORD)).status).toBe(200);

    const after = await authorize(agent);
    expect(signedIn(after)).toBe(false);
    expect(after.status).toBe(200);
    expect(after.html).toContain('name="password"');
  });

  it('that has expired says so with 410 "expired"', async () => {
    const ezra = await user('ezra', { email: 'ezra@clinic.example' });
    const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ slug: SLUG });
    const row = await cg.runtime.storage.users.findOneByOrFail({ id: ezra.id });
    const { url: link } = await cg.runtime.links.issue(tenant, row, 'reset', 5, cli);
    const hash = createHash('sha256').update(link.split('/').at(-1)!).digest('hex');
    await cg.runtime.storage.query(`UPDATE action_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = $1`, [hash]);

    const page = await createAgent().get(link);
    expect(page.status).toBe(410);
    expect(page.html).toContain('This link has expired');
    expect(page.html).not.toContain('name="password"');
  });
});

// ---- Invitations --------------------------------------------------------------------------------

describe('invitation', () => {
  it('created through the admin API mails an activation link; choosing a password activates the user, who then signs in', async () => {
    const before = smtp.received.length;
    const created = await call('POST', '/users', { username: 'ivy', email: 'ivy@clinic.example', invite: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'invited', invitation: { sent: true } });
    const link = await linkMailedTo('ivy@clinic.example', before, 'invite');

    const agent = createAgent();
    const page = await agent.get(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Activate your account');
    const done = await choosePassword(agent, page, NEW_PASSWORD);
    expect(done.status).toBe(200);
    expect(done.html).toContain('Your account is ready');

    expect((await call('GET', '/users/ivy')).body.status).toBe('active');
    expect(signedIn(await passwordStep(createAgent(), 'ivy', NEW_PASSWORD))).toBe(true);
    expect(await auditOf('user.invite.accept', created.body.id)).toHaveLength(1);
  });

  it('sent again voids the earlier link (410), and the new one works', async () => {
    let before = smtp.received.length;
    const created = await call('POST', '/users', { username: 'ines', email: 'ines@clinic.example', invite: true });
    expect(created.status).toBe(201);
    const first = await linkMailedTo('ines@clinic.example', before, 'invite');

    before = smtp.received.length;
    const resent = await call('POST', '/users/ines/invitation');
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ sent: true });
    const second = await linkMailedTo('ines@clinic.example', before, 'invite');
    expect(second).not.toBe(first);

    const old = await createAgent().get(first);
    expect(old.status).toBe(410);
    expect((await useLink(second, NEW_PASSWORD)).status).toBe(200);
    expect((await call('GET', '/users/ines')).body.status).toBe('active');
  });
});

// ---- Admin API ----------------------------------------------------------------------------------

describe('admin API on sign-in security', () => {
  beforeAll(async () => {
    const patched = await call('PATCH', '/policy', { lockout: { threshold: 3 } });
    expect(patched.status).toBe(200);
    expect(patched.body.lockout.threshold).toBe(3);
  });

  it('shows failures and the lock after wrong passwords (policy threshold 3), and unlock clears both', async () => {
    const lena = await user('lena');
    for (let i = 0; i < 2; i++) expect((await passwordStep(createAgent(), 'lena', `wrong-password-${i}-long`)).status).toBe(401);
    const failing = await call('GET', '/users/lena/security');
    expect(failing.status).toBe(200);
    expect(failing.body.lock).toMatchObject({ failures: 2, locked: false, locks: 0 });

    // The third failure locks; the admin sees the run of failures that caused it.
    expect((await passwordStep(createAgent(), 'lena', 'wrong-password-2-long')).status).toBe(401);
    const locked = await call('GET', '/users/lena/security');
    expect(locked.body.lock).toMatchObject({ failures: 3, locked: true, locks: 1, lockedUntil: expect.any(String) });
    // Locked: even the right password is refused.
    expect(signedIn(await passwordStep(createAgent(), 'lena', PASSWORD))).toBe(false);

    expect((await call('POST', '/users/lena/unlock')).status).toBe(200);
    const unlocked = await call('GET', '/users/lena/security');
    expect(unlocked.body.lock).toMatchObject({ failures: 0, locked: false, locks: 0, lockedUntil: null });
    expect(signedIn(await passwordStep(createAgent(), 'lena', PASSWORD))).toBe(true);
    expect(await auditOf('user.unlock', lena.id)).toEqual([expect.objectContaining({ actorType: 'client', actorId: adminClientId, outcome: 'success' })]);
  });

  it('a temporary password is returned once, signs in, and then requires a password change', async () => {
    const tom = await user('tom');
    const reply = await call('POST', '/users/tom/password/reset', { mode: 'temporary' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ password: expect.any(String), mustChange: true });

    expect((await passwordStep(createAgent(), 'tom', PASSWORD)).status).toBe(401);
    const change = await passwordStep(createAgent(), 'tom', reply.body.password);
    expect(signedIn(change)).toBe(false);
    expect(pathOf(change)).toMatch(/\/password$/);
    expect(change.html).toContain('Choose a new password');
    expect((await call('GET', '/users/tom/security')).body.mustChangePassword).toBe(true);
    expect(await auditOf('user.password.temporary', tom.id)).toEqual([expect.objectContaining({ actorType: 'client', actorId: adminClientId })]);
  });

  it('2FA reset removes the enrolled factors', async () => {
    const mia = await user('mia');
    const row = await cg.runtime.storage.users.findOneByOrFail({ id: mia.id });
    const factor = await cg.runtime.factors.beginTotp(row, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    await cg.runtime.factors.confirm(factor, cli);
    expect((await call('GET', '/users/mia/security')).body.factors).toEqual([expect.objectContaining({ type: 'totp' })]);

    const reset = await call('POST', '/users/mia/mfa/reset');
    expect(reset.status).toBe(200);
    expect((await call('GET', '/users/mia/security')).body.factors).toEqual([]);
    expect((await cg.runtime.factors.list(mia.id)).length).toBe(0);
    const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ slug: SLUG });
    const events = await cg.runtime.storage.auditEvents.findBy({ tenantId: tenant.id, targetId: mia.id, actorId: adminClientId });
    expect(events.map((e) => e.action)).toEqual([expect.stringMatching(/mfa/)]);
  });

  it('refuses an invalid policy value (lockout.threshold 500) with 400 naming the field, and keeps the stored policy', async () => {
    const before = (await call('GET', '/policy')).body;
    const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ slug: SLUG });
    const eventsBefore = await cg.runtime.storage.auditEvents.countBy({ tenantId: tenant.id, action: 'tenant.policy.update' });

    const bad = await call('PATCH', '/policy', { lockout: { threshold: 500 } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('lockout.threshold') });
    expect((await call('GET', '/policy')).body).toEqual(before);
    expect(before.lockout.threshold).toBe(3);
    expect(await cg.runtime.storage.auditEvents.countBy({ tenantId: tenant.id, action: 'tenant.policy.update' })).toBe(eventsBefore);
  });

  it('audited the policy change made through the API, with the client as actor', async () => {
    const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ slug: SLUG });
    const events = await cg.runtime.storage.auditEvents.findBy({ tenantId: tenant.id, actorId: adminClientId });
    expect(events.filter((e) => e.action.includes('policy'))).toHaveLength(1);
  });
});

// ---- CLI ----------------------------------------------------------------------------------------

describe('CLI', () => {
  const BIN = fileURLToPath(new URL('../../bin/caregate.js', import.meta.url));
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  let db: FreshDatabase | undefined;
  let dir: TempDataDir;
  let env: Record<string, string>;

  /** Runs `caregate --json <args>` against this describe's own store; it must succeed with one JSON document. */
  function ok(args: string[]): Promise<any> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [BIN, '--json', ...args], { cwd: ROOT, env, timeout: 45_000 }, (error, stdout, stderr) => {
        if (error) return reject(new Error(`caregate ${args.join(' ')} failed: ${stderr}`));
        const lines = stdout.trimEnd().split('\n');
        if (lines.length !== 1) return reject(new Error(`caregate ${args.join(' ')} printed ${lines.length} lines`));
        resolve(JSON.parse(lines[0]!));
      });
    });
  }

  beforeAll(async () => {
    // A store of its own: in embedded mode the CLI may not share the running server's data dir.
    db = await freshDatabaseUrl();
    dir = await tempDataDir();
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir.path,
      USER: 'cli-test-operator',
      CAREGATE_DATA_DIR: dir.path,
      ...(db ? { DATABASE_URL: db.url, CAREGATE_MASTER_KEY: process.env.CAREGATE_MASTER_KEY! } : {}),
      ...(redisUrlForTest() ? { REDIS_URL: redisUrlForTest()! } : {}),
    };
    await ok(['tenant', 'create', 'acme', '--name', 'Acme Health']);
    await ok(['user', 'create', '--tenant', 'acme', '--username', 'carl', '--password', PASSWORD]);
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
    await dir?.cleanup();
  });

  it('tenant policy --set mfa.mode=required prints the policy with mfa.mode required', async () => {
    const policy = await ok(['tenant', 'policy', 'acme', '--set', 'mfa.mode=required']);
    expect(policy.mfa.mode).toBe('required');
    expect((await ok(['tenant', 'policy', 'acme'])).mfa.mode).toBe('required');
  }, 30_000);

  it('user reset-password --temporary prints a new password that must be changed', async () => {
    const out = await ok(['user', 'reset-password', 'carl', '--tenant', 'acme', '--temporary']);
    expect(out).toEqual({ password: expect.stringMatching(/^[A-Za-z0-9_-]{20}$/), mustChange: true });
  }, 30_000);
});
