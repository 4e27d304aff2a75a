// Account security end to end in a real Chromium, through Caregate's own HTML pages: password plus
// an authenticator-app code (enrolment and the second-factor page), lockout after failed sign-ins,
// a password reset through the emailed link, switching accounts and a form_post response (pages that
// post themselves under the CSP), and accepting an invitation. Mail goes to a real SMTP
// server; the application is a relying party (openid-client) of tenant `demo` with a small HTTP
// server of its own on loopback as redirect_uri, so the browser really lands there and the test
// reads the code from that address. (Playwright's request routing does not see the hops of a
// redirect, so a made-up https host could not be answered inside the browser.)
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { generate } from 'otplib';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { startSmtpServer, type SmtpTestServer } from '../integration/notify/smtp-test-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`Skipping the browser account-security tests: no Chromium at ${CHROMIUM}.`);

const TENANT = 'demo';
const PASSWORD = 'a-long-enough-password-for-tests';
const NEW_PASSWORD = 'violet-harbour-lantern-forty-two';
const WRONG_CREDENTIALS = 'The username or password is incorrect.';
const ACR_MFA = 'urn:caregate:acr:mfa';
const cli = { type: 'cli' as const, id: 'test' };

/** Selectors of the forms in views/*.eta, by where they post (the pages also carry a Cancel form). */
const LOGIN_SUBMIT = 'form[action$="/login"] button[type="submit"]';
const ENROL_SUBMIT = 'form[action$="/enrol"]:has(input[name="method"][value="totp"]) button[type="submit"]';
const MFA_SUBMIT = 'form[action$="/mfa"]:has(input[name="method"][value="totp"]) button[type="submit"]';
const RECOVERY_CODES_SUBMIT = 'form[action$="/recovery-codes"] button[type="submit"]';
const FORGOT_SUBMIT = 'form[action$="/forgot"] button[type="submit"]';
const NEW_PASSWORD_SUBMIT = 'form:has(input[name="confirm"]) button[type="submit"]';

(haveChromium ? describe : describe.skip)('account security in Chromium, through the HTML pages', () => {
  let cg: TestCaregate;
  let smtp: SmtpTestServer;
  let browser: Browser;
  let app: Server;
  let redirectUri: string;
  let rp: oidc.Configuration;
  let adminApi: string;
  let adminToken: string;
  const contexts: BrowserContext[] = [];
  /** The fields of each form_post the application received. */
  const posted: Record<string, string>[] = [];

  beforeAll(async () => {
    // The test server offers no STARTTLS: smtp:// then delivers in clear.
    smtp = await startSmtpServer({ disabledCommands: ['STARTTLS'] });
    cg = await startTestCaregate({ overrides: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Caregate <no-reply@test.example>' } });
    adminApi = `${cg.baseUrl}/admin/api`;
    // The application's callback: a page saying the browser is back (the test redeems the code itself).
    // A form_post response arrives as a POST; its fields are kept for the test.
    app = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method === 'POST') posted.push(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())));
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>Chart</title><p id="app">Back at the application</p>');
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://127.0.0.1:${(app.address() as AddressInfo).port}/cb`;
    const apps = cg.runtime.accounts.applications;
    const chart = await apps.create(TENANT, { name: 'Chart', redirectUris: [redirectUri] }, cli);
    rp = await oidc.discovery(new URL(cg.issuer(TENANT)), chart.client_id, chart.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const svc = await apps.create(TENANT, { name: 'svc admin', grantTypes: ['client_credentials'], serviceRoles: ['admin'], adminApi: true }, cli);
    const svcConfig = await oidc.discovery(new URL(cg.issuer(TENANT)), svc.client_id, svc.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
    adminToken = (await oidc.clientCredentialsGrant(svcConfig, { resource: adminApi })).access_token;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await cg?.close();
    await smtp?.close();
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
  });

  // ---- Helpers ----------------------------------------------------------------------------------

  /** A page in a fresh browser profile (no cookies). */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  /**
   * Clicks a submit button or link and waits for the page the browser lands on (after any redirects):
   * its response gives the status. (A failed sign-in stays on the same address, so waiting for a URL
   * would not tell the new page from the old; the navigation is awaited together with the click.)
   */
  async function press(page: Page, selector: string): Promise<Response> {
    const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
    if (!response) throw new Error(`pressing ${selector} on ${page.url()} did not load a page`);
    return response;
  }

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${adminApi}/v1/t/${TENANT}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Changes the tenant's policy through the admin API (objects merge, values replace). */
  async function setPolicy(patch: Record<string, unknown>) {
    const reply = await call('PATCH', '/policy', patch);
    expect(reply.status).toBe(200);
    return reply.body;
  }

  async function user(username: string, extra: { email?: string } = {}) {
    return cg.runtime.accounts.users.create(TENANT, { username, password: PASSWORD, ...extra }, [], cli);
  }

  /** An authorization request of the application (PKCE, state, nonce), and what redeeming its code needs. */
  async function authorization(params: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: redirectUri, scope: 'openid', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
    });
    return { url: url.href, verifier, state, nonce };
  }
  type Authorization = Awaited<ReturnType<typeof authorization>>;

  /** The application opens the authorization request in the browser: Caregate's sign-in page. */
  async function openSignIn(page: Page, params: Record<string, string> = {}): Promise<Authorization> {
    const auth = await authorization(params);
    const response = await page.goto(auth.url);
    expect(response?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toMatch(new RegExp(`^/t/${TENANT}/interaction/[^/]+$`));
    expect(await heading(page)).toBe('Sign in');
    return auth;
  }

  /** Types a username and password into the sign-in page and presses "Sign in". */
  async function typePassword(page: Page, username: string, password: string): Promise<Response> {
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', password);
    return press(page, LOGIN_SUBMIT);
  }

  /** Redeems the code of the address the browser landed on; returns the ID token's claims, verified against the JWKS. */
  async function redeem(page: Page, auth: Authorization): Promise<JWTPayload> {
    expect(page.url().slice(0, `${redirectUri}?code=`.length)).toBe(`${redirectUri}?code=`);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce });
    const jwks = createRemoteJWKSet(new URL(`${cg.issuer(TENANT)}/jwks`));
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: cg.issuer(TENANT), audience: rp.clientMetadata().client_id });
    return payload;
  }

  const heading = async (page: Page) => (await page.locator('h1#page-title').textContent())?.trim();
  const alertText = async (page: Page) => (await page.locator('[role="alert"]').first().textContent())?.trim();
  const statusText = async (page: Page) => (await page.locator('[role="status"]').first().textContent())?.trim();
  const pathOf = (page: Page) => new URL(page.url()).pathname;
  const totpAt = (secret: string, epoch = Math.floor(Date.now() / 1000)) => generate({ secret, epoch });

  /** The body of a received mail with quoted-printable encoding undone. */
  const decode = (data: string) => data.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

  /** Waits for a mail to `to` among those received after the first `after`; returns its link to `/kind/`. */
  async function linkMailedTo(to: string, after: number, kind: 'reset' | 'invite'): Promise<string> {
    // Delivery is asynchronous (the forgot-password mail is sent after the page answered): wait
    // for it to arrive; a mail that never comes fails the test through Jest's own timeout.
    const arrived = () => smtp.received.slice(after).findLast((m) => m.to.includes(to));
    while (!arrived()) await new Promise((resolve) => setTimeout(resolve, 25));
    const body = decode(arrived()!.data);
    const link = new RegExp(`${cg.baseUrl}/t/${TENANT}/${kind}/[A-Za-z0-9_-]{43}`).exec(body)?.[0];
    if (!link) throw new Error(`no ${kind} link in the mail to ${to}: ${body.slice(0, 600)}`);
    return link;
  }

  async function auditOf(action: string, userId: string) {
    const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ slug: TENANT });
    return cg.runtime.storage.auditEvents.find({ where: { tenantId: tenant.id, action, targetId: userId }, order: { seq: 'ASC' } });
  }

  // ---- 1. Password + authenticator app ----------------------------------------------------------

  describe('password and an authenticator-app code', () => {
    beforeAll(async () => {
      // Only the authenticator app is offered: no passkey forms on the pages.
      const policy = await setPolicy({ mfa: { mode: 'required', methods: ['totp'] } });
      expect(policy.mfa).toMatchObject({ mode: 'required', methods: ['totp'] });
    });

    it('walks a user without a factor through enrolment (secret read off the page), shows the recovery codes, and returns a code whose ID token says amr pwd+otp+mfa', async () => {
      const ada = await user('ada');
      const page = await newPage();
      const auth = await openSignIn(page);

      const enrol = await typePassword(page, 'ada', PASSWORD);
      expect(enrol.status()).toBe(200);
      expect(pathOf(page)).toMatch(/\/interaction\/[^/]+\/enrol$/);
      expect(await heading(page)).toBe('Set up two-step sign-in');
      expect(await page.locator('figure.qr svg').count()).toBe(1);
      const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s/g, '');
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);

      await page.fill('input#totp-code[name="code"]', await totpAt(secret));
      const codesPage = await press(page, ENROL_SUBMIT);
      expect(codesPage.status()).toBe(200);
      expect(pathOf(page)).toMatch(/\/recovery-codes$/);
      expect(await heading(page)).toBe('Save your recovery codes');
      const codes = await page.locator('ul.codes li code').allTextContents();
      expect(codes).toHaveLength(10);
      for (const code of codes) expect(code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);

      await press(page, RECOVERY_CODES_SUBMIT);
      expect(await page.locator('#app').textContent()).toBe('Back at the application');
      const id = await redeem(page, auth);
      expect(id.sub).toBe(ada.id);
      expect(id.acr).toBe(ACR_MFA);
      expect(id.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
      expect((await call('GET', '/users/ada/security')).body.factors).toEqual([expect.objectContaining({ type: 'totp' })]);
    });

    it('asks a user with an enrolled authenticator app for its code on the second-factor page, refuses a wrong one, and accepts the right one (amr pwd+otp+mfa)', async () => {
      const bo = await user('bo');
      const secret = cg.runtime.totp.generateSecret();
      const row = await cg.runtime.storage.users.findOneByOrFail({ id: bo.id });
      await cg.runtime.factors.confirm(await cg.runtime.factors.beginTotp(row, secret), cli);

      const page = await newPage();
      const auth = await openSignIn(page);
      const mfa = await typePassword(page, 'bo', PASSWORD);
      expect(mfa.status()).toBe(200);
      expect(pathOf(page)).toMatch(/\/interaction\/[^/]+\/mfa$/);
      expect(await heading(page)).toBe('Confirm it is you');

      // A six-digit code that is none of the codes the server accepts now (its window is one step either side).
      const now = Math.floor(Date.now() / 1000);
      const valid = await Promise.all([-90, -60, -30, 0, 30, 60, 90].map((shift) => totpAt(secret, now + shift)));
      const wrong = ['000000', '111111', '222222', '333333', '444444', '555555', '666666', '777777'].find((c) => !valid.includes(c))!;
      await page.fill('input#totp-code[name="code"]', wrong);
      const refused = await press(page, MFA_SUBMIT);
      expect(refused.status()).toBe(401);
      expect(pathOf(page)).toMatch(/\/interaction\/[^/]+\/mfa$/);
      expect(await alertText(page)).toBe('That code is not right, or it was already used. Try again.');

      await page.fill('input#totp-code[name="code"]', await totpAt(secret));
      await press(page, MFA_SUBMIT);
      expect(await page.locator('#app').textContent()).toBe('Back at the application');
      const id = await redeem(page, auth);
      expect(id.sub).toBe(bo.id);
      expect(id.acr).toBe(ACR_MFA);
      expect(id.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    });
  });

  // ---- 2. Lockout -------------------------------------------------------------------------------

  describe('lockout after failed sign-ins', () => {
    beforeAll(async () => {
      const policy = await setPolicy({ mfa: { mode: 'off' }, lockout: { threshold: 3 } });
      expect(policy.lockout).toMatchObject({ threshold: 3, mode: 'timed' });
    });

    it('answers three wrong passwords and then the right one (locked) with the same generic page, and the admin API and audit log show the lock', async () => {
      const lou = await user('lou');
      const page = await newPage();
      await openSignIn(page);

      const answers: { status: number; alert?: string; text: string }[] = [];
      const attempt = async (password: string) => {
        const response = await typePassword(page, 'lou', password);
        answers.push({ status: response.status(), alert: await alertText(page), text: await page.locator('main').innerText() });
      };

      for (let i = 0; i < 3; i++) await attempt(`wrong-password-number-${i}`);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401]);
      expect(answers.map((a) => a.alert)).toEqual([WRONG_CREDENTIALS, WRONG_CREDENTIALS, WRONG_CREDENTIALS]);
      expect(new Set(answers.map((a) => a.text)).size).toBe(1);

      const locked = await call('GET', '/users/lou/security');
      expect(locked.status).toBe(200);
      expect(locked.body.lock).toMatchObject({ locked: true, locks: 1, lockedUntil: expect.any(String) });

      // Locked: the right password gets exactly the page a wrong one got, and no way back to the application.
      await attempt(PASSWORD);
      expect(answers[3]).toEqual(answers[0]);
      expect(pathOf(page)).toMatch(/\/interaction\/[^/]+\/login$/);
      expect(await page.locator('input[name="password"]').count()).toBe(1);

      const reasons = (await auditOf('login.failure', lou.id)).map((e) => e.details?.reason);
      expect(reasons).toEqual(['bad_password', 'bad_password', 'bad_password', 'account_locked']);
      expect(await auditOf('login.success', lou.id)).toEqual([]);
      expect((await call('GET', '/users/lou/security')).body.lock).toMatchObject({ locked: true, locks: 1 });
    });
  });

  // ---- 3. Forgot password -----------------------------------------------------------------------

  describe('password reset through the emailed link', () => {
    beforeAll(async () => {
      await setPolicy({ mfa: { mode: 'off' } });
    });

    it('"Forgot your password?" mails a link; the link sets a new password (typed twice); the old password is refused and the new one signs in', async () => {
      const fran = await user('fran', { email: 'fran@clinic.example' });
      const page = await newPage();
      await openSignIn(page);

      await press(page, 'a[href$="/forgot"]');
      expect(pathOf(page)).toBe(`/t/${TENANT}/forgot`);
      expect(await heading(page)).toBe('Reset your password');
      const before = smtp.received.length;
      await page.fill('input[name="login"]', 'fran@clinic.example');
      const sent = await press(page, FORGOT_SUBMIT);
      expect(sent.status()).toBe(200);
      expect(await heading(page)).toBe('Check your email');
      expect(await statusText(page)).toContain('If an account matches, we have sent a link');

      const link = await linkMailedTo('fran@clinic.example', before, 'reset');
      const mail = smtp.received.slice(before).find((m) => m.to.includes('fran@clinic.example'))!;
      expect(mail.data).toMatch(/^Subject: Reset your Demo Clinic password\r$/m);

      const reset = await page.goto(link);
      expect(reset?.status()).toBe(200);
      expect(await heading(page)).toBe('Choose a new password');
      await page.fill('input[name="password"]', NEW_PASSWORD);
      await page.fill('input[name="confirm"]', NEW_PASSWORD);
      const changed = await press(page, NEW_PASSWORD_SUBMIT);
      expect(changed.status()).toBe(200);
      expect(await heading(page)).toBe('Password changed');
      expect(await statusText(page)).toContain('Your password has been changed');

      // Back at the application, signing in afresh: the old password no longer works, the new one does.
      const auth = await openSignIn(page);
      const old = await typePassword(page, 'fran', PASSWORD);
      expect(old.status()).toBe(401);
      expect(await alertText(page)).toBe(WRONG_CREDENTIALS);
      await typePassword(page, 'fran', NEW_PASSWORD);
      const id = await redeem(page, auth);
      expect(id.sub).toBe(fran.id);
      expect(id.amr).toEqual(['pwd']);
      expect(await auditOf('user.password_reset.use', fran.id)).toHaveLength(1);

      // The link worked once.
      const again = await page.goto(link);
      expect(again?.status()).toBe(410);
      expect(await page.locator('input[name="password"]').count()).toBe(0);
    });
  });

  // ---- 4. Pages that post themselves: switching accounts, response_mode=form_post ---------------

  describe('pages that post themselves under the CSP', () => {
    beforeAll(async () => {
      await setPolicy({ mfa: { mode: 'off' } });
    });

    it('switches to another user with prompt=login on the first try: the first is signed out by a self-posting page, and the code is for the second', async () => {
      const [gil, hal] = [await user('gil'), await user('hal')];
      const page = await newPage();
      const first = await openSignIn(page);
      await typePassword(page, 'gil', PASSWORD);
      expect((await redeem(page, first)).sub).toBe(gil.id);

      const second = await openSignIn(page, { prompt: 'login' });
      await typePassword(page, 'hal', PASSWORD);
      // The sign-out page submits itself (its script allowed by hash), then the sign-in completes.
      await page.waitForURL((url) => url.href.startsWith(`${redirectUri}?code=`));
      expect(await page.locator('#app').textContent()).toBe('Back at the application');
      expect((await redeem(page, second)).sub).toBe(hal.id);
    });

    it('returns the code with response_mode=form_post: the browser posts it to the application by itself', async () => {
      await user('ines');
      const page = await newPage();
      const auth = await openSignIn(page, { response_mode: 'form_post' });
      const before = posted.length;
      await typePassword(page, 'ines', PASSWORD);
      await page.waitForURL(redirectUri);
      expect(await page.locator('#app').textContent()).toBe('Back at the application');
      expect(posted.slice(before)).toEqual([expect.objectContaining({ code: expect.any(String), state: auth.state })]);
    });
  });

  // ---- 5. Invitation ----------------------------------------------------------------------------

  describe('invitation', () => {
    beforeAll(async () => {
      await setPolicy({ mfa: { mode: 'off' } });
    });

    it('an admin invites a user through the admin API; the mailed link activates the account with a chosen password, and the user signs in', async () => {
      const before = smtp.received.length;
      const created = await call('POST', '/users', { username: 'ivy', email: 'ivy@clinic.example', invite: true });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ status: 'invited', invitation: { sent: true } });
      const link = await linkMailedTo('ivy@clinic.example', before, 'invite');
      const mail = smtp.received.slice(before).find((m) => m.to.includes('ivy@clinic.example'))!;
      expect(mail.data).toMatch(/^Subject: You are invited to Demo Clinic\r$/m);

      const page = await newPage();
      const invite = await page.goto(link);
      expect(invite?.status()).toBe(200);
      expect(await heading(page)).toBe('Activate your account');
      await page.fill('input[name="password"]', NEW_PASSWORD);
      await page.fill('input[name="confirm"]', NEW_PASSWORD);
      const activated = await press(page, NEW_PASSWORD_SUBMIT);
      expect(activated.status()).toBe(200);
      expect(await heading(page)).toBe('Account activated');
      expect(await statusText(page)).toContain('Your account is ready');
      expect((await call('GET', '/users/ivy')).body.status).toBe('active');

      const auth = await openSignIn(page);
      await typePassword(page, 'ivy', NEW_PASSWORD);
      const id = await redeem(page, auth);
      expect(id.sub).toBe(created.body.id);
      expect(id.amr).toEqual(['pwd']);
      expect(await auditOf('user.invite.accept', created.body.id)).toHaveLength(1);
    });
  });
});
