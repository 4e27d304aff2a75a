// Two-step sign-in end to end: a real relying party (openid-client) through the HTML forms, each ID
// token verified against the tenant's JWKS. Covers enrolment (authenticator app, email through a
// real SMTP server), verification, replay and recovery codes, step-up with acr_values, the "roles"
// policy, lockout seen through the form, a temporary password, and CSRF on the second-factor form.
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { generate } from 'otplib';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, formOf, type Agent, type Page } from '../support/browser-agent.ts';
import { startSmtpServer, type SmtpTestServer } from '../integration/notify/smtp-test-server.ts';

const REDIRECT = 'https://chart.example/cb';
const PASSWORD = 'a-long-enough-password-for-tests';
const ACR_PWD = 'urn:caregate:acr:pwd';
const ACR_MFA = 'urn:caregate:acr:mfa';
const WRONG_CREDENTIALS = 'The username or password is incorrect.';
const cli = { type: 'cli' as const, id: 'test' };

let cg: TestCaregate;
let smtp: SmtpTestServer;

beforeAll(async () => {
  // The test server offers no STARTTLS: smtp:// then delivers in clear (a self-signed STARTTLS is refused).
  smtp = await startSmtpServer({ disabledCommands: ['STARTTLS'] });
  cg = await startTestCaregate({ overrides: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Caregate <no-reply@test.example>' } });
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
});

// ---- Helpers ------------------------------------------------------------------------------------

interface Clinic {
  slug: string;
  config: oidc.Configuration;
}

/** A tenant of its own with a policy patch and one confidential application redirecting to REDIRECT. */
async function clinic(slug: string, policy: Record<string, unknown> = {}): Promise<Clinic> {
  const a = cg.runtime.accounts;
  await a.tenants.create({ slug, name: `Clinic ${slug}` }, cli);
  if (Object.keys(policy).length) await a.tenants.updatePolicy(slug, policy, cli);
  const app = await a.applications.create(slug, { name: 'Chart', redirectUris: [REDIRECT] }, cli);
  const config = await oidc.discovery(new URL(cg.issuer(slug)), app.client_id, app.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  return { slug, config };
}

async function user(slug: string, username: string, extra: { email?: string; phiAccess?: boolean } = {}, roles: string[] = []) {
  return cg.runtime.accounts.users.create(slug, { username, password: PASSWORD, ...extra }, roles.map((role) => ({ role })), cli);
}

/** An authorization request of the relying party, and what it needs to redeem the code. */
async function authorization(c: Clinic, params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(c.config, {
    redirect_uri: REDIRECT, scope: 'openid', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
  });
  return { url: url.href, verifier, state, nonce };
}
type Authorization = Awaited<ReturnType<typeof authorization>>;

/** Redeems the code the browser came back with; returns the ID token's claims, verified against the JWKS. */
async function redeem(c: Clinic, auth: Authorization, back: Page): Promise<JWTPayload> {
  expect(back.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
  const tokens = await oidc.authorizationCodeGrant(c.config, new URL(back.location!), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce });
  const jwks = createRemoteJWKSet(new URL(`${cg.issuer(c.slug)}/jwks`));
  const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: cg.issuer(c.slug), audience: c.config.clientMetadata().client_id });
  return payload;
}

/** Opens the authorization URL and submits the password form; returns the next page or the redirect back. */
async function passwordStep(agent: Agent, auth: Authorization, username: string, password = PASSWORD): Promise<Page> {
  const login = await agent.follow(await agent.get(auth.url), REDIRECT);
  expect(login.html).toContain('name="password"');
  const { action, fields } = formOf(login);
  return agent.follow(await agent.postForm(action, { ...fields, username, password }), REDIRECT);
}

/** The first form on a page whose action ends with `path` (and whose `method` field is `method`, if given). */
function form(page: Page, path: string, method?: string) {
  for (let i = 0; ; i++) {
    let f: ReturnType<typeof formOf>;
    try {
      f = formOf(page, i);
    } catch {
      throw new Error(`no form posting to ${path}${method ? ` with method=${method}` : ''} on ${page.url} (status ${page.status})`);
    }
    if (new URL(f.action).pathname.endsWith(path) && (method === undefined || f.fields.method === method)) return f;
  }
}

/** Fills and submits a form, then follows redirects until a page or the way back to the application. */
async function submit(agent: Agent, page: Page, path: string, values: Record<string, string>, method?: string): Promise<Page> {
  const { action, fields } = form(page, path, method);
  return agent.follow(await agent.postForm(action, { ...fields, ...values }), REDIRECT);
}

/** The page with its passkey challenge (random per rendering) blanked out. */
const withoutChallenge = (html: string) => html.replace(/(challenge&quot;:&quot;)[\w-]+/g, '$1…');
const alertOf = (page: Page) => /role="alert"[^>]*>([^<]*)</.exec(page.html)?.[1]?.trim();
const pathOf = (page: Page) => new URL(page.url).pathname;
const totpNow = (secret: string) => generate({ secret });

/** The enrolment page's TOTP secret, as printed (groups of four) with the spaces taken out. */
function secretOn(page: Page): string {
  const shown = /id="totp-secret">([A-Z2-7 ]+)</.exec(page.html)?.[1];
  if (!shown) throw new Error(`no TOTP secret on ${page.url}`);
  return shown.replace(/\s/g, '');
}

/** The recovery codes listed on the recovery-codes page. */
const recoveryCodesOn = (page: Page) => [...page.html.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]!);

/** The six-digit code of the last mail to `to` (quoted-printable soft breaks undone). */
async function codeMailedTo(to: string, after: number): Promise<string> {
  for (let i = 0; i < 100 && smtp.received.length <= after; i++) await new Promise((r) => setTimeout(r, 50));
  const mail = smtp.received.slice(after).findLast((m) => m.to.includes(to));
  if (!mail) throw new Error(`no mail to ${to}`);
  const body = mail.data.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const code = /sign-in code is (\d{6})/.exec(body)?.[1];
  if (!code) throw new Error(`no code in mail to ${to}: ${body.slice(0, 500)}`);
  return code;
}

// ---- Tests --------------------------------------------------------------------------------------

describe('policy "required": enrolment with an authenticator app, then verification', () => {
  let c: Clinic;
  let usedCode: string;
  let recoveryCodes: string[];

  beforeAll(async () => {
    c = await clinic('mfa-required', { mfa: { mode: 'required' } });
    await user(c.slug, 'ada');
  });

  it('shows the enrolment page (and its secret) only to the browser holding the interaction, not to anyone who knows its address', async () => {
    const auth = await authorization(c);
    const enrol = await passwordStep(createAgent(), auth, 'ada');
    expect(enrol.status).toBe(200);
    const stranger = await fetch(enrol.url, { redirect: 'manual' });
    expect(stranger.status).toBeGreaterThanOrEqual(400);
    expect(await stranger.text()).not.toContain(secretOn(enrol).slice(0, 8));
  });

  it('sends the enrolment page, which shows the shared secret, with Cache-Control: no-store and the CSP', async () => {
    await user(c.slug, 'ada-uncached');
    const enrol = await passwordStep(createAgent(), await authorization(c), 'ada-uncached');
    expect(secretOn(enrol)).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrol.headers.get('cache-control')).toBe('no-store');
    expect(enrol.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
  });

  it('sends a user without factors to enrolment (inline SVG QR and secret), then shows 10 recovery codes, and the ID token says acr mfa with amr pwd+otp+mfa', async () => {
    const agent = createAgent();
    const auth = await authorization(c);
    const enrol = await passwordStep(agent, auth, 'ada');
    expect(pathOf(enrol)).toMatch(/\/interaction\/[^/]+\/enrol$/);
    expect(enrol.status).toBe(200);
    expect(enrol.html).toMatch(/<figure class="qr"[^>]*>\s*<svg[\s\S]*<\/svg>\s*<\/figure>/);
    const secret = secretOn(enrol);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 20 bytes in base32

    usedCode = await totpNow(secret);
    const codesPage = await submit(agent, enrol, '/enrol', { code: usedCode }, 'totp');
    expect(pathOf(codesPage)).toMatch(/\/recovery-codes$/);
    recoveryCodes = recoveryCodesOn(codesPage);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);

    const back = await submit(agent, codesPage, '/recovery-codes', {});
    const id = await redeem(c, auth, back);
    expect(id.acr).toBe(ACR_MFA);
    expect(id.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
  });

  it('on the next sign-in asks for the second factor, refuses the code just used (replay), and accepts a recovery code only once', async () => {
    expect(usedCode).toBeDefined(); // set by the enrolment test above

    const agent = createAgent();
    const auth = await authorization(c);
    const mfa = await passwordStep(agent, auth, 'ada');
    expect(pathOf(mfa)).toMatch(/\/mfa$/);
    expect(mfa.html).toContain('id="totp-code"');

    const replay = await submit(agent, mfa, '/mfa', { code: usedCode }, 'totp');
    expect(replay.status).toBe(401);
    expect(alertOf(replay)).toBe('That code is not right, or it was already used. Try again.');

    const back = await submit(agent, replay, '/mfa', { code: recoveryCodes[0]! }, 'recovery');
    const id = await redeem(c, auth, back);
    expect(id.acr).toBe(ACR_MFA);
    expect(id.amr).toEqual(expect.arrayContaining(['pwd', 'mfa']));

    // A later sign-in: the same recovery code no longer works.
    const later = createAgent();
    const again = await passwordStep(later, await authorization(c), 'ada');
    const refused = await submit(later, again, '/mfa', { code: recoveryCodes[0]! }, 'recovery');
    expect(refused.status).toBe(401);
    expect(refused.location).toBeUndefined();
    expect(alertOf(refused)).toBe('That code is not right, or it was already used. Try again.');
  });
});

describe('email codes through a real SMTP server', () => {
  let c: Clinic;

  beforeAll(async () => {
    c = await clinic('mfa-email', { mfa: { mode: 'required', methods: ['email'] } });
    await user(c.slug, 'erin', { email: 'erin@clinic.example' });
    // A second user with email already enrolled, so a lockout of the first does not interfere.
    const erin2 = await user(c.slug, 'erin-two', { email: 'erin-two@clinic.example' });
    await cg.runtime.factors.addContactFactor(await cg.runtime.storage.users.findOneByOrFail({ id: erin2.id }), 'email', cli);
  });

  it('enrols email as a factor with a mailed code, and the ID token has amr otp', async () => {
    const agent = createAgent();
    const auth = await authorization(c);
    const enrol = await passwordStep(agent, auth, 'erin');
    expect(pathOf(enrol)).toMatch(/\/enrol$/);
    expect(enrol.html).toContain('e•••@clinic.example');

    const before = smtp.received.length;
    const sent = await submit(agent, enrol, '/enrol/send', {}, 'email');
    expect(sent.status).toBe(200);
    expect(new URL(sent.url).searchParams.get('sent')).toBe('email');
    const code = await codeMailedTo('erin@clinic.example', before);
    const mail = smtp.received.at(-1)!;
    expect(mail.from).toBe('no-reply@test.example');
    expect(mail.data).toMatch(/^Subject: Clinic mfa-email sign-in code\r$/m);

    const codesPage = await submit(agent, sent, '/enrol', { code }, 'email');
    expect(recoveryCodesOn(codesPage)).toHaveLength(10);
    const id = await redeem(c, auth, await submit(agent, codesPage, '/recovery-codes', {}));
    expect(id.acr).toBe(ACR_MFA);
    expect(id.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
  });

  it('refuses a wrong emailed code five times in a row, and then the right one too (the account is locked)', async () => {
    const agent = createAgent();
    const mfa = await passwordStep(agent, await authorization(c), 'erin');
    expect(pathOf(mfa)).toMatch(/\/mfa$/);
    const before = smtp.received.length;
    const sent = await submit(agent, mfa, '/mfa/send', {}, 'email');
    const code = await codeMailedTo('erin@clinic.example', before);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');

    // The code form of the page the code was sent from, submitted again and again (as a browser would).
    const { action, fields } = form(sent, '/mfa', 'email');
    for (let i = 0; i < 5; i++) {
      const page = await agent.postForm(action, { ...fields, code: wrong });
      expect(page.status).toBe(401);
      expect(page.location).toBeUndefined();
      expect(alertOf(page)).toBe('That code is not right, or it was already used. Try again.');
    }
    const locked = await agent.postForm(action, { ...fields, code });
    expect(locked.status).toBe(429);
    expect(locked.location).toBeUndefined();
  });

  it('after a wrong emailed code, offers the code field again (without sending a new code)', async () => {
    const agent = createAgent();
    const mfa = await passwordStep(agent, await authorization(c), 'erin-two');
    const before = smtp.received.length;
    const sent = await submit(agent, mfa, '/mfa/send', {}, 'email');
    const code = await codeMailedTo('erin-two@clinic.example', before);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');

    const retry = await submit(agent, sent, '/mfa', { code: wrong }, 'email');
    expect(retry.status).toBe(401);
    expect(retry.html).toContain('id="email-code"');
    const back = await submit(agent, retry, '/mfa', { code }, 'email');
    expect(back.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
  });
});

describe('policy "optional" and step-up with acr_values', () => {
  let c: Clinic;

  beforeAll(async () => {
    c = await clinic('mfa-optional', { mfa: { mode: 'optional' } });
    await user(c.slug, 'otto');
  });

  it('signs in with the password alone (acr pwd); acr_values=mfa on the same session goes to enrolment without the password and ends with acr mfa', async () => {
    const agent = createAgent();
    const first = await authorization(c);
    const plain = await redeem(c, first, await passwordStep(agent, first, 'otto'));
    expect(plain.acr).toBe(ACR_PWD);
    expect(plain.amr).toEqual(['pwd']);

    const stepUp = await authorization(c, { acr_values: ACR_MFA });
    const enrol = await agent.follow(await agent.get(stepUp.url), REDIRECT);
    expect(pathOf(enrol)).toMatch(/\/enrol$/);
    expect(enrol.html).not.toContain('name="password"');

    const codesPage = await submit(agent, enrol, '/enrol', { code: await totpNow(secretOn(enrol)) }, 'totp');
    const id = await redeem(c, stepUp, await submit(agent, codesPage, '/recovery-codes', {}));
    expect(id.acr).toBe(ACR_MFA);
    expect(id.sub).toBe(plain.sub);
    expect(id.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
  });
});

describe('policy "roles" with phiRoles', () => {
  let c: Clinic;

  beforeAll(async () => {
    c = await clinic('mfa-roles', { mfa: { mode: 'roles', phiRoles: true } });
    await user(c.slug, 'petra', { phiAccess: true }, ['provider']);
    await user(c.slug, 'rory', {}, ['report_viewer']);
  });

  it('sends the holder of a PHI role (provider) to enrolment', async () => {
    const page = await passwordStep(createAgent(), await authorization(c), 'petra');
    expect(page.location).toBeUndefined();
    expect(pathOf(page)).toMatch(/\/enrol$/);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Set up two-step sign-in');
  });

  it('lets a holder of report_viewer only sign in with the password alone', async () => {
    const auth = await authorization(c);
    const id = await redeem(c, auth, await passwordStep(createAgent(), auth, 'rory'));
    expect(id.acr).toBe(ACR_PWD);
  });
});

describe('lockout through the sign-in form', () => {
  it('answers the right password on a locked account with the same 401 page as a wrong one, and audits account_locked', async () => {
    const c = await clinic('lockout');
    const lou = await user(c.slug, 'lou');
    const agent = createAgent();
    const auth = await authorization(c);
    const login = await agent.follow(await agent.get(auth.url));
    const { action, fields } = formOf(login);

    const wrong: Page[] = [];
    for (let i = 0; i < 5; i++) wrong.push(await agent.postForm(action, { ...fields, username: 'lou', password: `wrong-password-${i}` }));
    expect(wrong.map((p) => p.status)).toEqual([401, 401, 401, 401, 401]);
    expect(alertOf(wrong[4]!)).toBe(WRONG_CREDENTIALS);

    const right = await agent.postForm(action, { ...fields, username: 'lou', password: PASSWORD });
    expect(right.status).toBe(wrong[4]!.status);
    expect(right.location).toBeUndefined();
    // Identical but for the passkey challenge, which is fresh on every rendering of the page.
    expect(withoutChallenge(right.html)).toBe(withoutChallenge(wrong[4]!.html));

    const tenant = await cg.runtime.accounts.tenants.findBySlug(c.slug);
    const failures = await cg.runtime.storage.auditEvents.find({ where: { tenantId: tenant!.id, action: 'login.failure', targetId: lou.id } });
    expect(failures.map((e) => e.details?.reason)).toContain('account_locked');
  });
});

describe('a temporary password', () => {
  it('must be replaced after sign-in: a short one is refused naming the rule, a good one continues, and the old one stops working', async () => {
    const c = await clinic('temp-password');
    const tess = await user(c.slug, 'tess');
    await cg.runtime.storage.users.update({ id: tess.id }, { mustChangePassword: true });

    const agent = createAgent();
    const auth = await authorization(c);
    const change = await passwordStep(agent, auth, 'tess');
    expect(pathOf(change)).toMatch(/\/password$/);
    expect(change.html).toContain('Choose a new password');

    const short = await submit(agent, change, '/password', { password: 'short-pass1', confirm: 'short-pass1' });
    expect(short.status).toBe(400);
    expect(short.html).toMatch(/at least 12/);

    const fresh = 'violet-harbour-lantern-forty-two';
    const id = await redeem(c, auth, await submit(agent, short, '/password', { password: fresh, confirm: fresh }));
    expect(id.sub).toBe(tess.id);

    const old = await passwordStep(createAgent(), await authorization(c), 'tess', PASSWORD);
    expect(old.status).toBe(401);
    expect(alertOf(old)).toBe(WRONG_CREDENTIALS);
    const again = await authorization(c);
    expect((await redeem(c, again, await passwordStep(createAgent(), again, 'tess', fresh))).sub).toBe(tess.id);
  });
});

describe('CSRF on the second-factor form', () => {
  it('refuses the mfa form posted without its csrf field (403), though the same code is accepted with it', async () => {
    const c = await clinic('mfa-csrf');
    const cora = await user(c.slug, 'cora');
    const secret = cg.runtime.totp.generateSecret();
    const stored = await cg.runtime.storage.users.findOneByOrFail({ id: cora.id });
    await cg.runtime.factors.confirm(await cg.runtime.factors.beginTotp(stored, secret), cli);

    const agent = createAgent();
    const auth = await authorization(c);
    const mfa = await passwordStep(agent, auth, 'cora');
    expect(pathOf(mfa)).toMatch(/\/mfa$/);
    const { action, fields } = form(mfa, '/mfa', 'totp');
    const code = await totpNow(secret);
    const { csrf, ...withoutCsrf } = fields;
    expect(csrf).toBeTruthy();

    const forged = await agent.postForm(action, { ...withoutCsrf, code });
    expect(forged.status).toBe(403);
    expect(forged.location).toBeUndefined();

    const id = await redeem(c, auth, await agent.follow(await agent.postForm(action, { ...fields, code }), REDIRECT));
    expect(id.acr).toBe(ACR_MFA);
  });
});
