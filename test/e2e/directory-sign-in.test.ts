// Directory (LDAP bind) sign-in end to end, against a real OpenLDAP (test/support/slapd.ts): a
// person signs in on Caregate's own sign-in page with their directory password — in Chromium and
// through the HTTP agent — and the relying party (openid-client) gets verified tokens; the first
// sign-in creates the user with the roles the source's mapping rules grant, later ones reuse it.
// Every refusal is checked for what the person sees, the audit event, and that nothing else
// changed: a wrong password, LDAP filter injection in the username, an empty password (never sent
// to the directory), the directory down (503, and not counted towards lockout), lockout, a required second factor, TLS without the
// directory's CA, an account disabled in Caregate, and a reset link asked for a password that
// lives in the directory.
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { generate } from 'otplib';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, formOf, type Agent, type Page } from '../support/browser-agent.ts';
import { createClinicDirectory } from '../support/clinic-directory.ts';
import { GRACE, GROUPS, NINA, OMAR, ZOE, slapdAvailable, startSlapd, type TestSlapd } from '../support/slapd.ts';
import { startSmtpServer, type SmtpTestServer } from '../integration/notify/smtp-test-server.ts';

const haveSlapd = slapdAvailable();
if (!haveSlapd) console.warn('Skipping the directory sign-in tests: no /usr/sbin/slapd or ldap-utils (apt-get install slapd ldap-utils).');
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (haveSlapd && !haveChromium) console.warn(`Skipping the Chromium directory sign-in test: no Chromium at ${CHROMIUM}.`);

const WRONG_CREDENTIALS = 'The username or password is incorrect.';
const DIRECTORY_DOWN = 'Your organisation’s directory could not be reached to check your password. Try again in a few minutes.';
const ACR_PWD = 'urn:caregate:acr:pwd';
const ACR_MFA = 'urn:caregate:acr:mfa';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const cli = { type: 'cli' as const, id: 'test' };
/** The source's one mapping rule: ER Nurses keep the North clinic's inventory. */
const ER_NURSES_RULE = { claim: 'groups', equals: GROUPS.erNurses, role: 'inventory', scope: { type: 'location', key: 'loc-north' } };

(haveSlapd ? describe : describe.skip)('signing in with a directory password (LDAP bind) on the sign-in page', () => {
  let ldap: TestSlapd;
  let cg: TestCaregate;
  let smtp: SmtpTestServer;
  /** The relying application's callback: a page saying the browser is back (the test redeems the code). */
  let app: Server;
  let redirectUri: string;

  beforeAll(async () => {
    // The test SMTP server offers no STARTTLS: smtp:// then delivers in clear.
    [ldap, smtp] = await Promise.all([startSlapd(), startSmtpServer({ disabledCommands: ['STARTTLS'] })]);
    cg = await startTestCaregate({ overrides: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Caregate <no-reply@test.example>' } });
    app = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Chart</title><p id="app">Back at the application</p>');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://127.0.0.1:${(app.address() as AddressInfo).port}/cb`;
  });

  afterAll(async () => {
    await cg?.close();
    await Promise.all([ldap?.close(), smtp?.close(), new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)))]);
  });

  // ---- Helpers ----------------------------------------------------------------------------------

  interface Clinic {
    slug: string;
    tenantId: string;
    config: oidc.Configuration;
  }

  /** The directory source "clinic" as an admin would create it (StartTLS, the test CA); `overrides` replace fields. */
  const sourceSettings = (overrides: Record<string, unknown> = {}) => ({
    key: 'clinic', name: 'Clinic', preset: 'openldap', urls: [ldap.url], caCertificates: ldap.caPem,
    bindDn: ldap.bindDn, bindPassword: ldap.bindPassword, baseDn: ldap.peopleDn, groupBaseDn: ldap.groupsDn,
    // Only sign-ins bring users here: no scheduled sync runs behind the tests' back.
    syncIntervalMinutes: 0, connectTimeoutSeconds: 2, timeoutSeconds: 5,
    mappings: [ER_NURSES_RULE], ...overrides,
  });

  /**
   * A tenant (`demo`, or a new one) with the clinic directory's locations, the Chart application
   * (redirecting to the loopback app) and the directory source; `policy` patches its security policy.
   */
  async function clinic(slug: string, options: { policy?: Record<string, unknown>; source?: Record<string, unknown> } = {}): Promise<Clinic> {
    const a = cg.runtime.accounts;
    if (slug !== 'demo') await a.tenants.create({ slug, name: `Clinic ${slug}` }, cli);
    if (options.policy) await a.tenants.updatePolicy(slug, options.policy, cli);
    await createClinicDirectory(cg, slug);
    const chart = await a.applications.create(slug, { name: 'Chart', redirectUris: [redirectUri], permissions: ['inventory:read'] }, cli);
    const config = await oidc.discovery(new URL(cg.issuer(slug)), chart.client_id, chart.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    await cg.runtime.ldap.sources.create(slug, sourceSettings(options.source), cli);
    return { slug, tenantId: (await a.tenants.findBySlug(slug))!.id, config };
  }

  /** An authorization request of the Chart application, and what redeeming its code needs. */
  async function authorization(c: Clinic) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(c.config, {
      redirect_uri: redirectUri, scope: 'openid profile email roles locations', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    return { url: url.href, verifier, state, nonce };
  }
  type Authorization = Awaited<ReturnType<typeof authorization>>;

  /** Redeems the code the browser came back with: the ID token verified against the tenant's JWKS, and the tokens. */
  async function redeem(c: Clinic, auth: Authorization, landedAt: string): Promise<{ id: JWTPayload; tokens: oidc.TokenEndpointResponse }> {
    expect(landedAt.startsWith(`${redirectUri}?code=`)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(c.config, new URL(landedAt), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce });
    const jwks = createRemoteJWKSet(new URL(`${cg.issuer(c.slug)}/jwks`));
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: cg.issuer(c.slug), audience: c.config.clientMetadata().client_id });
    return { id: payload, tokens };
  }

  /** Opens the authorization URL and submits the sign-in form; returns the next page or the redirect back. */
  async function passwordStep(agent: Agent, auth: Authorization, username: string, password: string): Promise<Page> {
    const login = await agent.follow(await agent.get(auth.url), redirectUri);
    expect(login.status).toBe(200);
    expect(login.html).toContain('name="password"');
    const { action, fields } = formOf(login);
    return agent.follow(await agent.postForm(action, { ...fields, username, password }), redirectUri);
  }

  /** A whole sign-in that must succeed: the ID token's claims and the tokens. */
  async function signIn(c: Clinic, username: string, password: string, agent = createAgent()) {
    const auth = await authorization(c);
    const back = await passwordStep(agent, auth, username, password);
    expect(back.location?.startsWith(`${redirectUri}?code=`)).toBe(true);
    return redeem(c, auth, back.location!);
  }

  /** Whether the agent holds a Caregate session: a new authorization request comes straight back with a code. */
  async function hasSession(agent: Agent, c: Clinic): Promise<boolean> {
    const page = await agent.follow(await agent.get((await authorization(c)).url), redirectUri);
    return page.location?.startsWith(`${redirectUri}?code=`) ?? false;
  }

  const alertOf = (page: Page) => /role="alert"[^>]*>([^<]*)</.exec(page.html)?.[1]?.trim();
  const pathOf = (page: Page) => new URL(page.url).pathname;
  const user = (c: Clinic, username: string) => cg.runtime.storage.users.findOneBy({ tenantId: c.tenantId, username });

  interface AuditRow { action: string; outcome: string; actor_type: string; target_id: string | null; details: Record<string, any> | null }
  /** The newest audit sequence number: what a step writes comes after it. */
  const auditMark = async () => (await cg.runtime.storage.query<{ seq: string }>('SELECT coalesce(max(seq), 0)::text AS seq FROM audit_events'))[0]!.seq;
  const auditSince = (c: Clinic, mark: string) =>
    cg.runtime.storage.query<AuditRow>('SELECT action, outcome, actor_type, target_id, details FROM audit_events WHERE tenant_id = $1 AND seq > $2::bigint ORDER BY seq', [c.tenantId, mark]);

  /**
   * What a sign-in could change in a tenant: its users (status, last sign-in, profile), their
   * directory links, and their role assignments.
   */
  async function tenantState(c: Clinic) {
    const [users, links, assignments] = await Promise.all([
      cg.runtime.storage.query(`SELECT id, username, email, display_name, status, source, external_id, password_hash, last_login_at::text, locked_at::text, updated_at::text FROM users WHERE tenant_id = $1 ORDER BY id`, [c.tenantId]),
      cg.runtime.storage.query(`SELECT user_id, upstream, subject, email, last_login_at::text FROM user_identities WHERE tenant_id = $1 ORDER BY user_id, upstream`, [c.tenantId]),
      cg.runtime.storage.query(`SELECT id, user_id, role_id, scope_type, scope_id, upstream FROM assignments WHERE tenant_id = $1 ORDER BY id`, [c.tenantId]),
    ]);
    return { users, links, assignments };
  }

  /**
   * A sign-in that must be refused: the page (status, message, no way back to the application),
   * exactly one audit event (login.failure with `reason`), nothing changed in the tenant, no session.
   */
  async function refused(c: Clinic, username: string, password: string, expected: { status: 401 | 503; reason: string }) {
    const agent = createAgent();
    const before = await tenantState(c);
    const mark = await auditMark();
    const page = await passwordStep(agent, await authorization(c), username, password);
    expect({ username, status: page.status }).toEqual({ username, status: expected.status });
    expect(page.location).toBeUndefined();
    expect(alertOf(page)).toBe(expected.status === 503 ? DIRECTORY_DOWN : WRONG_CREDENTIALS);
    expect(page.html).not.toMatch(/at .*\.ts:\d+/); // never a stack trace
    const events = await auditSince(c, mark);
    expect(events).toEqual([expect.objectContaining({ action: 'login.failure', outcome: 'failure' })]);
    expect({ username, reason: events[0]!.details?.reason }).toEqual({ username, reason: expected.reason });
    expect(events[0]!.details?.method).toBe('pwd');
    expect(await tenantState(c)).toEqual(before);
    expect(await hasSession(agent, c)).toBe(false);
    return { page, event: events[0]! };
  }

  // ---- 1. Sign-in, first and later --------------------------------------------------------------

  describe('a directory user at the sign-in page', () => {
    let demo: Clinic;
    let browser: Browser | undefined;
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      demo = await clinic('demo');
      if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
    });
    afterAll(async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser?.close();
    });

    (haveChromium ? it : it.skip)('types their directory username and password in Chromium and lands at the application with tokens; the first sign-in creates the user (source ldap:clinic) with the mapped role', async () => {
      expect(await user(demo, NINA.uid)).toBeNull();
      const context = await browser!.newContext();
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const mark = await auditMark();

      const auth = await authorization(demo);
      const opened = await page.goto(auth.url);
      expect(opened?.status()).toBe(200);
      expect((await page.locator('h1#page-title').textContent())?.trim()).toBe('Sign in');
      await page.fill('input[name="username"]', NINA.uid);
      await page.fill('input[name="password"]', NINA.password);
      await Promise.all([page.waitForURL((url) => url.href.startsWith(redirectUri)), page.click('form[action$="/login"] button[type="submit"]')]);
      expect(await page.locator('#app').textContent()).toBe('Back at the application');

      const { id, tokens } = await redeem(demo, auth, page.url());
      const nina = await user(demo, NINA.uid);
      expect(nina).toMatchObject({ source: 'ldap:clinic', email: NINA.mail, displayName: NINA.cn, status: 'active', passwordHash: null });
      expect(nina!.externalId).toMatch(UUID); // the entry's entryUUID
      expect(id).toMatchObject({ sub: nina!.id, email: NINA.mail, name: NINA.cn, acr: ACR_PWD, amr: ['pwd'], locations: { 'loc-north': ['inventory'] } });
      // The access token works at the userinfo endpoint, for the same person.
      expect(await oidc.fetchUserInfo(demo.config, tokens.access_token, nina!.id)).toMatchObject({ sub: nina!.id, email: NINA.mail });

      expect(await cg.runtime.storage.userIdentities.findBy({ tenantId: demo.tenantId, userId: nina!.id })).toEqual([
        expect.objectContaining({ upstream: 'ldap:clinic', subject: nina!.externalId, email: NINA.mail }),
      ]);
      const [assignment, ...more] = await cg.runtime.storage.query<{ role: string; scope_type: string; scope: string; origin: string; upstream: string }>(
        `SELECT r.key AS role, a.scope_type, l.key AS scope, a.origin, a.upstream FROM assignments a JOIN roles r ON r.id = a.role_id LEFT JOIN locations l ON l.id = a.scope_id WHERE a.user_id = $1`, [nina!.id]);
      expect(more).toEqual([]);
      expect(assignment).toEqual({ role: 'inventory', scope_type: 'location', scope: 'loc-north', origin: 'ldap-group', upstream: 'ldap:clinic' });

      const events = await auditSince(demo, mark);
      expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['user.create', 'assignment.create', 'login.success']));
      expect(events.filter((e) => e.outcome === 'failure')).toEqual([]);
      expect(events.find((e) => e.action === 'user.create')).toMatchObject({ target_id: nina!.id, actor_type: 'system', details: { upstream: 'ldap:clinic' } });
      expect(events.find((e) => e.action === 'login.success')).toMatchObject({ target_id: nina!.id, details: { method: 'pwd', login: NINA.uid } });
    });

    it('signs in again (by username, then by email address) as the same user: no second account, link or assignment', async () => {
      const first = await signIn(demo, NINA.uid, NINA.password);
      const nina = await user(demo, NINA.uid);
      expect(first.id.sub).toBe(nina!.id);
      const before = await tenantState(demo);
      const mark = await auditMark();

      const agent = createAgent();
      const again = await signIn(demo, NINA.mail, NINA.password, agent);
      expect(again.id).toMatchObject({ sub: nina!.id, locations: { 'loc-north': ['inventory'] } });
      expect(await hasSession(agent, demo)).toBe(true);

      const after = await tenantState(demo);
      expect(after.users.map((u: any) => u.id)).toEqual(before.users.map((u: any) => u.id));
      expect(after.links.map((l: any) => [l.user_id, l.upstream, l.subject])).toEqual(before.links.map((l: any) => [l.user_id, l.upstream, l.subject]));
      expect(after.assignments).toEqual(before.assignments);
      const events = await auditSince(demo, mark);
      expect(events.map((e) => e.action)).toEqual(['login.success']);
      expect(events[0]).toMatchObject({ target_id: nina!.id, details: { method: 'pwd', login: NINA.mail } });
      expect(await cg.runtime.storage.query(`SELECT 1 FROM users WHERE tenant_id = $1 AND source = 'ldap:clinic' AND external_id = $2`, [demo.tenantId, nina!.externalId])).toHaveLength(1);
    });

    it('a user in no mapped group signs in with no role, and keeps a non-ASCII name', async () => {
      const { id } = await signIn(demo, ZOE.uid, ZOE.password);
      const zoe = await user(demo, ZOE.uid);
      expect(zoe).toMatchObject({ source: 'ldap:clinic', displayName: 'Zoë Ångström' });
      expect(id).toMatchObject({ sub: zoe!.id, name: 'Zoë Ångström' });
      expect(id.locations ?? {}).toEqual({});
      expect(await cg.runtime.storage.assignments.findBy({ tenantId: demo.tenantId, userId: zoe!.id })).toEqual([]);
    });

    // ---- 2. A wrong password ----------------------------------------------------------------------

    it('a wrong directory password: 401 with the generic message, audited bad_password against the user, no session', async () => {
      const nina = await user(demo, NINA.uid);
      const { page, event } = await refused(demo, NINA.uid, 'not-ninas-password', { status: 401, reason: 'bad_password' });
      expect(event.target_id).toBe(nina!.id);
      expect(page.html).toContain(`value="${NINA.uid}"`); // the username stays filled in
      // Another directory user's password is as wrong as any.
      await refused(demo, NINA.uid, OMAR.password, { status: 401, reason: 'bad_password' });
    });

    it('someone the directory knows but Caregate does not yet, with a wrong password: 401, nobody created (audited bad_password: the directory knows her)', async () => {
      const { event } = await refused(demo, GRACE.uid, 'not-graces-password', { status: 401, reason: 'bad_password' });
      expect(event).toMatchObject({ target_id: null, actor_type: 'anonymous' });
      expect(await user(demo, GRACE.uid)).toBeNull();
    });

    it('a name neither Caregate nor the directory knows: the same 401, audited unknown_user, nobody created', async () => {
      const { event } = await refused(demo, 'nobody.here', 'some-password', { status: 401, reason: 'unknown_user' });
      expect(event).toMatchObject({ target_id: null, actor_type: 'anonymous' });
    });

    // ---- 3. LDAP filter injection in the username ---------------------------------------------------

    const INJECTIONS = ['*', 'nina*', '*)(uid=*', 'nina.patel)(|(uid=*', '\\2a', 'admin*)((|userPassword=*)', '*)(|(mail=*', '(uid=nina.patel)'];

    it.each(INJECTIONS.map((login) => [JSON.stringify(login), login]))('username %s: never signed in, with Nina\'s password or a wrong one; audited unknown_user; no user created', async (_shown, login) => {
      for (const password of [NINA.password, 'wrong-password']) {
        const { event } = await refused(demo, login, password, { status: 401, reason: 'unknown_user' });
        // Nobody was matched: the event names no user; the name is recorded as typed.
        expect(event).toMatchObject({ target_id: null, actor_type: 'anonymous' });
        expect(event.details?.login).toBe(login);
      }
    });

    const NUL_INJECTIONS = ['nina.patel\u0000', 'nina.patel\u0000)(uid=*'];

    it.each(NUL_INJECTIONS.map((login) => [JSON.stringify(login), login]))('username %s: a NUL byte is refused with 400 before any lookup or bind; no session, no user created', async (_shown, login) => {
      const agent = createAgent();
      const before = await tenantState(demo);
      const mark = await auditMark();
      const page = await passwordStep(agent, await authorization(demo), login, NINA.password);
      expect({ status: page.status, location: page.location }).toEqual({ status: 400, location: undefined });
      expect(page.html).toContain('NUL character');
      expect(await auditSince(demo, mark)).toEqual([]);
      expect(await tenantState(demo)).toEqual(before);
      expect(await hasSession(agent, demo)).toBe(false);
    });

    // ---- 9. Disabled in Caregate -------------------------------------------------------------------

    it('a user disabled in Caregate cannot sign in with the right directory password (audited not_active); enabled again, they can', async () => {
      const omarFirst = await signIn(demo, OMAR.uid, OMAR.password);
      const omar = await user(demo, OMAR.uid);
      expect(omarFirst.id.sub).toBe(omar!.id);
      await cg.runtime.accounts.users.setStatus('demo', omar!.id, 'disabled', cli);
      try {
        const { event } = await refused(demo, OMAR.uid, OMAR.password, { status: 401, reason: 'not_active' });
        expect(event.target_id).toBe(omar!.id);
        // Nor by email, nor with a wrong password (which says nothing more).
        await refused(demo, OMAR.mail, OMAR.password, { status: 401, reason: 'not_active' });
        await refused(demo, OMAR.uid, 'wrong-password', { status: 401, reason: 'bad_password' });
      } finally {
        await cg.runtime.accounts.users.setStatus('demo', omar!.id, 'active', cli);
      }
      expect((await signIn(demo, OMAR.uid, OMAR.password)).id.sub).toBe(omar!.id);
    });

    // ---- 10. Forgot password -------------------------------------------------------------------------

    it('forgot password for a directory user: the usual answer, but no link is mailed (audited directory_managed)', async () => {
      const lena = await cg.runtime.accounts.users.create('demo', { username: 'lena', email: 'lena@clinic.example', password: 'a-long-enough-local-password' }, [], cli);
      const nina = await user(demo, NINA.uid);
      const before = smtp.received.length;
      const mark = await auditMark();

      const forgot = async (login: string) => {
        const agent = createAgent();
        const page = await agent.get(`${cg.issuer('demo')}/forgot`);
        const { action, fields } = formOf(page);
        return agent.postForm(action, { ...fields, login });
      };
      const byName = await forgot(NINA.uid);
      const byEmail = await forgot(NINA.mail);
      const local = await forgot('lena');
      for (const page of [byName, byEmail]) {
        expect(page.status).toBe(200);
        expect(page.html).toContain('If an account matches, we have sent a link');
      }
      expect(local.status).toBe(200);

      // The requests are handled after the answer: wait for all three to be audited.
      let events: AuditRow[] = [];
      for (let i = 0; i < 100; i++) {
        events = (await auditSince(demo, mark)).filter((e) => e.action.startsWith('user.password_reset.'));
        if (events.length >= 3 && smtp.received.length > before) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Handled after the answer, the two requests may be audited in either order.
      const refusals = events.filter((e) => e.action === 'user.password_reset.request')
        .sort((a, b) => String((a.details as { login?: string }).login).localeCompare(String((b.details as { login?: string }).login)));
      expect(refusals).toEqual([
        expect.objectContaining({ outcome: 'failure', target_id: nina!.id, details: expect.objectContaining({ reason: 'directory_managed', login: NINA.uid }) }),
        expect.objectContaining({ outcome: 'failure', target_id: nina!.id, details: expect.objectContaining({ reason: 'directory_managed', login: NINA.mail }) }),
      ]);
      expect(events.filter((e) => e.action === 'user.password_reset.issue').map((e) => e.target_id)).toEqual([lena.id]);
      // The local user's mail came (so mail works here); none went to Nina.
      expect(smtp.received.slice(before).map((m) => m.to)).toEqual([['lena@clinic.example']]);
    });
  });

  // ---- 4. An empty password -----------------------------------------------------------------------

  describe('an empty password', () => {
    let c: Clinic;
    /** A server that takes connections and closes them at once (no LDAP), counting them. */
    let trap: TcpServer;
    let connections = 0;

    beforeAll(async () => {
      trap = createTcpServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
      c = await clinic('dsi-empty');
      await signIn(c, NINA.uid, NINA.password); // Nina becomes a user of this source
      await cg.runtime.ldap.sources.update(c.slug, 'clinic', { urls: [`ldap://127.0.0.1:${(trap.address() as AddressInfo).port}`], bindPassword: ldap.bindPassword }, cli);
    });
    afterAll(async () => {
      await new Promise((resolve) => (trap ? trap.close(resolve) : resolve(undefined)));
    });

    it('is refused without contacting the directory: 401 bad_password, whether or not Caregate knows the name yet — not 503', async () => {
      const nina = await user(c, NINA.uid);
      const { event } = await refused(c, NINA.uid, '', { status: 401, reason: 'bad_password' });
      expect(event.target_id).toBe(nina!.id);
      await refused(c, GRACE.uid, '', { status: 401, reason: 'bad_password' });
      expect(connections).toBe(0);
    });

    it('a non-empty password does go to the directory, which cannot be reached: 503 directory_unavailable', async () => {
      const { event } = await refused(c, NINA.uid, NINA.password, { status: 503, reason: 'directory_unavailable' });
      expect(connections).toBeGreaterThan(0);
      expect(event.details?.detail).toMatch(/^unreachable: /);
    });
  });

  // ---- 5. The directory down ----------------------------------------------------------------------

  describe('the directory down', () => {
    let c: Clinic;
    const lockout = { threshold: 3, lockSeconds: 300, maxLockSeconds: 86_400, mode: 'timed' as const };

    beforeAll(async () => {
      c = await clinic('dsi-outage', { policy: { lockout } });
      await signIn(c, NINA.uid, NINA.password);
    });

    it('answers 503 "could not be reached", audited directory_unavailable (right or wrong password, known or new user); once it is back the sign-in works', async () => {
      const nina = await user(c, NINA.uid);
      await ldap.stop();
      try {
        for (const password of [NINA.password, 'wrong-password']) {
          const { page, event } = await refused(c, NINA.uid, password, { status: 503, reason: 'directory_unavailable' });
          expect(page.html).toContain('directory could not be reached');
          expect(page.html).toContain(`value="${NINA.uid}"`);
          expect(event.target_id).toBe(nina!.id);
          expect(event.details?.detail).toMatch(/^unreachable: .*ECONNREFUSED/);
        }
        // Someone Caregate does not know yet is not "unknown" either: the directory could not be asked.
        await refused(c, GRACE.uid, GRACE.password, { status: 503, reason: 'directory_unavailable' });
      } finally {
        await ldap.start();
      }
      const mark = await auditMark();
      expect((await signIn(c, NINA.uid, NINA.password)).id.sub).toBe(nina!.id);
      expect((await auditSince(c, mark)).map((e) => [e.action, e.details?.reason])).toEqual([['login.success', undefined]]);
    });

    // The lockout reserves an attempt before the directory is asked; an outage gives it back.
    it('an outage does not count towards lockout: more attempts than the threshold leave the account unlocked, with no failures counted', async () => {
      const nina = await user(c, NINA.uid);
      await ldap.stop();
      try {
        for (let i = 0; i <= lockout.threshold; i++) {
          await refused(c, NINA.uid, i % 2 ? 'wrong-password' : NINA.password, { status: 503, reason: 'directory_unavailable' });
        }
        expect(await cg.runtime.accounts.users.lockState(c.slug, nina!.id, lockout)).toMatchObject({ locked: false, failures: 0 });
      } finally {
        await ldap.start();
        await cg.runtime.accounts.users.unlock(c.slug, nina!.id, cli);
      }
      expect((await signIn(c, NINA.uid, NINA.password)).id.sub).toBe(nina!.id);
    });
  });

  // ---- 6. Lockout ---------------------------------------------------------------------------------

  describe('lockout', () => {
    let c: Clinic;
    const lockout = { threshold: 3, lockSeconds: 300, maxLockSeconds: 86_400, mode: 'timed' as const };

    beforeAll(async () => {
      c = await clinic('dsi-lockout', { policy: { lockout } });
      await signIn(c, NINA.uid, NINA.password);
    });

    /** A sign-in page without what differs per rendering: interaction, CSRF token, passkey challenge. */
    const samePage = (page: Page) => page.html.replace(/\/interaction\/[\w-]+\//g, '/interaction/…/').replace(/name="csrf" value="[^"]*"/g, 'name="csrf"').replace(/(challenge&quot;:&quot;)[\w-]+/g, '$1…');

    it('wrong directory passwords lock the Caregate account at the policy threshold; then even the right one is refused (account_locked) until an admin unlocks it', async () => {
      const nina = await user(c, NINA.uid);
      const failures = [];
      for (let i = 0; i < lockout.threshold; i++) failures.push(await refused(c, NINA.uid, `wrong-password-${i}`, { status: 401, reason: 'bad_password' }));
      expect(await cg.runtime.accounts.users.lockState(c.slug, nina!.id, lockout)).toMatchObject({ locked: true });

      // The same page as a wrong password: a locked account is not revealed.
      const locked = await refused(c, NINA.uid, NINA.password, { status: 401, reason: 'account_locked' });
      expect(locked.event.target_id).toBe(nina!.id);
      expect(samePage(locked.page)).toBe(samePage(failures.at(-1)!.page));
      await refused(c, NINA.mail, NINA.password, { status: 401, reason: 'account_locked' });

      await cg.runtime.accounts.users.unlock(c.slug, nina!.id, cli);
      expect((await signIn(c, NINA.uid, NINA.password)).id.sub).toBe(nina!.id);
    });

    it('with policy mode "admin" the lock is kept on the account (status locked, user.lock audited)', async () => {
      await cg.runtime.accounts.tenants.updatePolicy(c.slug, { lockout: { mode: 'admin' } }, cli);
      try {
        await signIn(c, OMAR.uid, OMAR.password);
        const omar = await user(c, OMAR.uid);
        for (let i = 0; i < lockout.threshold - 1; i++) await refused(c, OMAR.uid, `wrong-password-${i}`, { status: 401, reason: 'bad_password' });
        const mark = await auditMark();
        const page = await passwordStep(createAgent(), await authorization(c), OMAR.uid, 'wrong-password-last');
        expect(page.status).toBe(401);
        expect(alertOf(page)).toBe(WRONG_CREDENTIALS);
        expect((await auditSince(c, mark)).map((e) => [e.action, e.target_id, e.details?.reason])).toEqual([
          ['user.lock', omar!.id, undefined],
          ['login.failure', omar!.id, 'bad_password'],
        ]);
        expect(await user(c, OMAR.uid)).toMatchObject({ status: 'locked' });
        await refused(c, OMAR.uid, OMAR.password, { status: 401, reason: 'account_locked' });
      } finally {
        await cg.runtime.accounts.tenants.updatePolicy(c.slug, { lockout: { mode: 'timed' } }, cli);
      }
    });
  });

  // ---- 7. A second factor -------------------------------------------------------------------------

  describe('a tenant requiring a second factor', () => {
    let c: Clinic;

    beforeAll(async () => {
      c = await clinic('dsi-mfa', { policy: { mfa: { mode: 'required', methods: ['totp'] } } });
    });

    /** The first form on a page whose action ends with `path` (and whose `method` field is `method`, if given). */
    function form(page: Page, path: string, method?: string) {
      for (let i = 0; ; i++) {
        const f = formOf(page, i);
        if (new URL(f.action).pathname.endsWith(path) && (method === undefined || f.fields.method === method)) return f;
      }
    }
    async function submit(agent: Agent, page: Page, path: string, values: Record<string, string>, method?: string): Promise<Page> {
      const { action, fields } = form(page, path, method);
      return agent.follow(await agent.postForm(action, { ...fields, ...values }), redirectUri);
    }

    it('the directory password alone does not finish the sign-in: enrolment comes next, and the tokens say mfa only after it', async () => {
      const agent = createAgent();
      const auth = await authorization(c);
      const enrol = await passwordStep(agent, auth, NINA.uid, NINA.password);
      expect(enrol.status).toBe(200);
      expect(enrol.location).toBeUndefined();
      expect(pathOf(enrol)).toMatch(/\/interaction\/[^/]+\/enrol$/);
      const nina = await user(c, NINA.uid);
      expect(nina).toMatchObject({ source: 'ldap:clinic' });

      const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(enrol.html)![1]!.replace(/\s/g, '');
      const codes = await submit(agent, enrol, '/enrol', { code: await generate({ secret }) }, 'totp');
      expect(pathOf(codes)).toMatch(/\/recovery-codes$/);
      const back = await submit(agent, codes, '/recovery-codes', {});
      const { id } = await redeem(c, auth, back.location!);
      expect(id).toMatchObject({ sub: nina!.id, acr: ACR_MFA });
      expect(id.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    });

    it('once enrolled, the directory password leads to the second-factor page, not to the application', async () => {
      const agent = createAgent();
      const mark = await auditMark();
      const mfa = await passwordStep(agent, await authorization(c), NINA.uid, NINA.password);
      expect(mfa.status).toBe(200);
      expect(mfa.location).toBeUndefined();
      expect(pathOf(mfa)).toMatch(/\/mfa$/);
      expect(mfa.html).toContain('id="totp-code"');
      expect(await hasSession(agent, c)).toBe(false);
      const nina = await user(c, NINA.uid);
      // The password step is recorded as such; no session began.
      expect((await auditSince(c, mark)).map((e) => [e.action, e.target_id])).toEqual([['login.success', nina!.id]]);
      // A wrong directory password never reaches the second factor.
      await refused(c, NINA.uid, 'wrong-password', { status: 401, reason: 'bad_password' });
    });
  });

  // ---- 8. TLS -------------------------------------------------------------------------------------

  describe('TLS to the directory', () => {
    let c: Clinic;

    beforeAll(async () => {
      c = await clinic('dsi-tls', { source: { urls: [ldap.url], caCertificates: undefined } });
    });

    it('without the directory\'s CA, StartTLS and ldaps:// are both refused (503, audited with the certificate problem); with it, both work', async () => {
      // ldap:// with StartTLS, the server's certificate not trusted.
      const startTls = await refused(c, GRACE.uid, GRACE.password, { status: 503, reason: 'directory_unavailable' });
      expect(startTls.event.details?.detail).toMatch(/^tls_failed: .*certificate/);
      // ldaps://, likewise.
      await cg.runtime.ldap.sources.update(c.slug, 'clinic', { urls: [ldap.ldapsUrl], bindPassword: ldap.bindPassword }, cli);
      const ldaps = await refused(c, GRACE.uid, GRACE.password, { status: 503, reason: 'directory_unavailable' });
      expect(ldaps.event.details?.detail).toMatch(/^tls_failed: .*ldaps:\/\/.*certificate/);
      expect(await user(c, GRACE.uid)).toBeNull();

      // With the CA: ldaps:// …
      await cg.runtime.ldap.sources.update(c.slug, 'clinic', { caCertificates: ldap.caPem, bindPassword: ldap.bindPassword }, cli);
      const overLdaps = await signIn(c, GRACE.uid, GRACE.password);
      const grace = await user(c, GRACE.uid);
      expect(grace).toMatchObject({ source: 'ldap:clinic', email: GRACE.mail });
      expect(overLdaps.id.sub).toBe(grace!.id);
      // … and StartTLS.
      await cg.runtime.ldap.sources.update(c.slug, 'clinic', { urls: [ldap.url], bindPassword: ldap.bindPassword }, cli);
      expect((await signIn(c, GRACE.uid, GRACE.password)).id.sub).toBe(grace!.id);
    });
  });
});
