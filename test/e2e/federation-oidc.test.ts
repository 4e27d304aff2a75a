// Federation with an upstream OpenID Provider that is not Caregate (a separately configured
// oidc-provider standing in for Okta, Entra ID and Google Workspace): first sign-in creates the
// user, groups become roles, a group removed upstream removes the role, home-realm discovery picks
// the connection, and every failure — upstream down or slow, bad signature, wrong audience or
// issuer, replay, unverified email, another Entra tenant or Google domain, a PHI role for a user
// without the flag — gets a page, an audit event, and provisions nobody. The application's tokens
// are verified with openid-client.
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, formOf, type Agent, type Page } from '../support/browser-agent.ts';
import { createClinicDirectory } from '../support/clinic-directory.ts';
import { startUpstreamOidc, type UpstreamOidc } from '../support/upstream-oidc.ts';

const cli = { type: 'cli' as const, id: 'test' };
const REDIRECT = 'https://records.example/cb';
const ENTRA_TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const PASSWORD = 'upstream-password';

let cg: TestCaregate;
let okta: UpstreamOidc;
let entra: UpstreamOidc;
let google: UpstreamOidc;
let records: oidc.Configuration;

async function connect(upstream: UpstreamOidc, settings: Record<string, unknown>) {
  const created = await cg.runtime.federation.connections.create('demo', { type: 'oidc', clientId: `caregate-${settings.key}`, clientSecret: `secret-of-${settings.key}`, ...settings }, cli);
  upstream.addClient({ client_id: `caregate-${settings.key}`, client_secret: `secret-of-${settings.key}`, redirect_uris: [(created.urls as { redirectUri: string }).redirectUri] });
  return created;
}

beforeAll(async () => {
  [okta, entra, google] = await Promise.all([
    startUpstreamOidc({ groupsScopeRequired: true, extraClaims: ['department', 'title'] }),
    startUpstreamOidc({ issuerPath: `/${ENTRA_TID}/v2.0` }),
    startUpstreamOidc(),
  ]);
  cg = await startTestCaregate();
  await createClinicDirectory(cg);
  const a = cg.runtime.accounts;
  await a.roles.create('demo', { key: 'chart_reader', name: 'Chart reader', permissions: ['patients:read'], requiresPhi: true }, cli);
  const app = await a.applications.create('demo', { name: 'Records', redirectUris: [REDIRECT], permissions: ['inventory:read', 'reports:read', 'patients:read'] }, cli);
  records = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });

  await connect(okta, {
    key: 'northwell', name: 'Northwell (Okta)', preset: 'okta', issuer: okta.issuer, domains: ['northwell.example'],
    mappings: [
      { claim: 'groups', equals: 'ER Nurses', role: 'inventory', scope: { type: 'location', key: 'loc-north' } },
      { claim: 'groups', equals: 'Reporting', role: 'report_viewer' },
      { claim: 'department', equals: 'Research', team: 'study-coordinators' },
      { claim: 'groups', equals: 'Charts', role: 'chart_reader' },
    ],
  });
  await connect(entra, { key: 'contoso', name: 'Contoso (Entra ID)', preset: 'entra', issuer: entra.issuer, entraTenant: ENTRA_TID, graphUrl: entra.graphUrl, domains: ['contoso.example'], mappings: [{ claim: 'groups', equals: 'group-reporting', role: 'report_viewer' }] });
  await connect(google, { key: 'acmehealth', name: 'Acme Health (Google)', preset: 'google', issuer: google.issuer, hostedDomains: ['acmehealth.example'], domains: ['acmehealth.example'], button: false });

  okta.users.set('00u-ava', { sub: '00u-ava', password: PASSWORD, email: 'ava@northwell.example', email_verified: true, name: 'Ava Okafor', preferred_username: 'ava@northwell.example', groups: ['ER Nurses', 'Reporting'], department: 'Research' });
  okta.users.set('00u-ben', { sub: '00u-ben', password: PASSWORD, email: 'ben@northwell.example', email_verified: false, name: 'Ben Unverified', groups: ['Reporting'] });
  okta.users.set('00u-cy', { sub: '00u-cy', password: PASSWORD, email: 'cy@northwell.example', email_verified: true, name: 'Cy Charts', groups: ['Charts'] });
  entra.users.set('entra-dana', { sub: 'entra-dana', password: PASSWORD, tid: ENTRA_TID, email: 'dana@contoso.example', xms_edov: true, name: 'Dana Diaz', preferred_username: 'dana@contoso.example', groups: ['group-reporting', 'group-x', 'group-y'] });
  entra.users.set('entra-guest', { sub: 'entra-guest', password: PASSWORD, tid: '00000000-0000-4000-8000-000000000001', email: 'guest@contoso.example', xms_edov: true, name: 'Guest Elsewhere' });
  google.users.set('g-eli', { sub: 'g-eli', password: PASSWORD, hd: 'acmehealth.example', email: 'eli@acmehealth.example', email_verified: true, name: 'Eli Evans' });
  google.users.set('g-gmail', { sub: 'g-gmail', password: PASSWORD, email: 'someone@gmail.example', email_verified: true, name: 'Personal Account' });
});

afterAll(async () => {
  await cg?.close();
  await Promise.all([okta?.stop(), entra?.stop(), google?.stop()]);
});

/** An authorization request from the Records application, and what it needs to redeem the code. */
async function authorization(params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(records, {
    redirect_uri: REDIRECT, scope: 'openid profile email roles locations teams', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
  });
  return { url: url.href, redeem: (back: Page) => oidc.authorizationCodeGrant(records, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }) };
}

/** From the Caregate sign-in page to the upstream's, through home-realm discovery or a button. */
async function toUpstream(agent: Agent, start: string, via: { email: string } | { button: string }): Promise<Page> {
  const login = await agent.follow(await agent.get(start));
  if ('email' in via) {
    const { action, fields } = formOf(login);
    return agent.follow(await agent.postForm(action, { ...fields, username: via.email, password: '' }));
  }
  const forms = [...login.html.matchAll(/<form[^>]*action="([^"]+\/federate\/[^"]+)"[^>]*>[\s\S]*?<\/form>/g)];
  const index = [...login.html.matchAll(/<form[^>]*action="([^"]+)"/g)].findIndex((m) => m[1]!.endsWith(`/federate/${via.button}`));
  if (!forms.length || index < 0) throw new Error(`no button for ${via.button} on ${login.url}`);
  const { action, fields } = formOf(login, index);
  return agent.follow(await agent.postForm(action, fields));
}

/** Signs in at the upstream and follows the browser back through Caregate to the application. */
async function upstreamSignIn(agent: Agent, upstreamPage: Page, login: string): Promise<Page> {
  const { action, fields } = formOf(upstreamPage);
  return agent.follow(await agent.postForm(action, { ...fields, login, password: PASSWORD }), REDIRECT);
}

async function federatedSignIn(via: { email: string } | { button: string }, login: string, agent = createAgent()) {
  const { url, redeem } = await authorization();
  const back = await upstreamSignIn(agent, await toUpstream(agent, url, via), login);
  return { back, redeem, agent };
}

const lastAudit = async (action: string) =>
  (await cg.runtime.storage.query<{ action: string; details: Record<string, any>; target_id: string | null }>('SELECT action, details, target_id FROM audit_events WHERE action = $1 ORDER BY seq DESC LIMIT 1', [action]))[0]!;
const userBySubject = (subject: string) => cg.runtime.storage.users.findOneBy({ externalId: subject });

describe('first sign-in through Okta', () => {
  it('home-realm discovery sends an email at the claimed domain upstream; the user is created with mapped roles, and the tokens say so', async () => {
    const { back, redeem } = await federatedSignIn({ email: 'ava@northwell.example' }, '00u-ava');
    expect(back.location).toMatch(/^https:\/\/records\.example\/cb\?code=/);
    const tokens = await redeem(back);
    const claims = tokens.claims()!;
    const ava = await userBySubject('00u-ava');
    expect(ava).toMatchObject({ source: 'federation:northwell', email: 'ava@northwell.example', displayName: 'Ava Okafor', passwordHash: null });
    expect(claims).toMatchObject({ sub: ava!.id, email: 'ava@northwell.example', amr: ['fed'], roles: expect.arrayContaining(['report_viewer']), locations: { 'loc-north': ['inventory'] }, teams: expect.arrayContaining(['study-coordinators']) });
    expect(await lastAudit('login.success')).toMatchObject({ target_id: ava!.id, details: { method: 'federation', connection: 'northwell', created: true } });
  });

  it('a later sign-in follows the upstream: a group removed there removes the role here', async () => {
    okta.users.get('00u-ava')!.groups = ['Reporting'];
    const { back, redeem } = await federatedSignIn({ button: 'northwell' }, '00u-ava');
    const claims = (await redeem(back)).claims()!;
    expect(claims.locations ?? {}).toEqual({});
    expect(claims.roles).toEqual(['report_viewer']);
    expect(await lastAudit('assignment.delete')).toMatchObject({ details: { upstream: 'federation:northwell', reason: 'mapping' } });
  });

  it('signs in once: another application in the same browser needs no second trip upstream', async () => {
    const { agent } = await federatedSignIn({ email: 'ava@northwell.example' }, '00u-ava');
    const { url } = await authorization();
    const back = await agent.follow(await agent.get(url), REDIRECT);
    expect(back.location).toMatch(/^https:\/\/records\.example\/cb\?code=/);
  });

  it('an application\'s login_hint at a claimed domain goes straight upstream', async () => {
    const agent = createAgent();
    const { url } = await authorization({ login_hint: 'ava@northwell.example' });
    const page = await agent.follow(await agent.get(url));
    expect(page.url.startsWith(okta.issuer)).toBe(true);
    expect(page.html).toContain('Upstream sign-in');
  });
});

describe('client authentication', () => {
  it('private_key_jwt: Caregate signs its client assertion with a key it generated, whose public half it publishes', async () => {
    const created = await cg.runtime.federation.connections.create('demo', { type: 'oidc', key: 'keyed', name: 'Keyed', issuer: okta.issuer, clientId: 'caregate-keyed', clientAuth: 'private_key_jwt' }, cli);
    const urls = created.urls as { redirectUri: string; jwks: string };
    // Parsed here rather than by fetch's json(): the upstream, in this test's realm, checks for plain objects.
    const jwks = JSON.parse(await (await fetch(urls.jwks)).text()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig' })]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    okta.addClient({ client_id: 'caregate-keyed', redirect_uris: [urls.redirectUri], token_endpoint_auth_method: 'private_key_jwt', jwks });
    okta.users.set('00u-kay', { sub: '00u-kay', password: PASSWORD, email: 'kay@northwell.example', email_verified: true, name: 'Kay Keyed' });
    const { back } = await federatedSignIn({ button: 'keyed' }, '00u-kay');
    expect(back.location).toMatch(/code=/);
    expect(await userBySubject('00u-kay')).toMatchObject({ source: 'federation:keyed' });
  });
});

describe("the upstream's second factor", () => {
  it('counts only where the connection trusts it: amr fed + mfa and the MFA acr; elsewhere amr fed alone', async () => {
    okta.users.set('00u-max', { sub: '00u-max', password: PASSWORD, email: 'max@trusting.example', email_verified: true, name: 'Max Factor', amr: ['pwd', 'mfa'] });
    await connect(okta, { key: 'trusting', name: 'Trusting', preset: 'okta', issuer: okta.issuer, trustUpstreamMfa: true });
    const trusted = await federatedSignIn({ button: 'trusting' }, '00u-max');
    expect((await trusted.redeem(trusted.back)).claims()).toMatchObject({ amr: ['fed', 'mfa'], acr: 'urn:caregate:acr:mfa' });
    okta.users.set('00u-mia', { sub: '00u-mia', password: PASSWORD, email: 'mia@northwell.example', email_verified: true, name: 'Mia Factor', amr: ['pwd', 'mfa'] });
    const untrusted = await federatedSignIn({ button: 'northwell' }, '00u-mia');
    const claims = (await untrusted.redeem(untrusted.back)).claims()!;
    expect(claims.amr).toEqual(['fed']);
    expect(claims.acr).not.toBe('urn:caregate:acr:mfa');
  });
});

describe('presets', () => {
  it('Entra ID: the tenant (tid) is checked, and group overage is read from Microsoft Graph', async () => {
    entra.faults.overage = true;
    try {
      const { back, redeem } = await federatedSignIn({ email: 'dana@contoso.example' }, 'entra-dana');
      const claims = (await redeem(back)).claims()!;
      expect(claims.roles).toEqual(['report_viewer']);
      expect(await lastAudit('login.success')).toMatchObject({ details: { connection: 'contoso', created: true } });
    } finally {
      entra.faults.overage = false;
    }
  });

  it('Entra ID: a user of another Microsoft tenant is refused', async () => {
    const { back } = await federatedSignIn({ button: 'contoso' }, 'entra-guest');
    expect(back.status).toBe(403);
    expect(back.html).toContain('Accounts from your organisation may not sign in here.');
    expect(await lastAudit('login.failure')).toMatchObject({ details: { method: 'federation', connection: 'contoso', reason: 'tenant_not_allowed' } });
    expect(await userBySubject('entra-guest')).toBeNull();
  });

  it('Google Workspace: an account of the hosted domain signs in; a personal account is refused', async () => {
    const ok = await federatedSignIn({ email: 'eli@acmehealth.example' }, 'g-eli');
    expect(ok.back.location).toMatch(/code=/);
    const { back } = await federatedSignIn({ email: 'someone@acmehealth.example' }, 'g-gmail');
    expect(back.status).toBe(403);
    expect(await lastAudit('login.failure')).toMatchObject({ details: { connection: 'acmehealth', reason: 'domain_not_allowed' } });
    expect(await userBySubject('g-gmail')).toBeNull();
  });

  it('a connection without a button is reached by its domain only', async () => {
    const agent = createAgent();
    const page = await agent.follow(await agent.get((await authorization()).url));
    expect(page.html).toContain('Sign in with Northwell (Okta)');
    expect(page.html).not.toContain('Acme Health');
  });
});

describe('refusals: a page, an audit event, nobody provisioned', () => {
  async function refused(login: string, reason: string, status: number, via: { email: string } | { button: string } = { button: 'northwell' }) {
    const { back } = await federatedSignIn(via, login);
    expect(back.status).toBe(status);
    expect(back.html).not.toMatch(/at .*\.ts:\d+/); // never a stack trace
    expect(await lastAudit('login.failure')).toMatchObject({ details: { method: 'federation', reason } });
    return back;
  }

  it('an unverified email', async () => {
    const page = await refused('00u-ben', 'email_unverified', 400);
    expect(page.html).toContain('did not confirm your email address');
    expect(await userBySubject('00u-ben')).toBeNull();
  });

  it('a PHI role mapped for a user without the PHI flag: refused whole, not half-applied', async () => {
    await refused('00u-cy', 'mapping_refused', 403);
    expect(await userBySubject('00u-cy')).toBeNull();
  });

  for (const [fault, reason] of [['wrongAudience', 'wrong_audience'], ['wrongIssuer', 'wrong_issuer'], ['badSignature', 'invalid_signature']] as const) {
    it(`an ID token with ${fault.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`, async () => {
      okta.users.set('00u-fault', { sub: '00u-fault', password: PASSWORD, email: 'fault@northwell.example', email_verified: true, groups: ['Reporting'] });
      okta.faults[fault] = true;
      try {
        await refused('00u-fault', reason, 400);
      } finally {
        okta.faults[fault] = false;
      }
      expect(await userBySubject('00u-fault')).toBeNull();
    });
  }

  it('the upstream refusing the sign-in (error=access_denied)', async () => {
    okta.faults.error = 'access_denied';
    try {
      const agent = createAgent();
      const { url } = await authorization();
      const back = await agent.follow(await toUpstream(agent, url, { button: 'northwell' }), REDIRECT);
      expect(back.status).toBe(403);
      expect(await lastAudit('login.failure')).toMatchObject({ details: { reason: 'access_denied', connection: 'northwell' } });
    } finally {
      okta.faults.error = undefined;
    }
  });

  it('an upstream that goes down before the code is redeemed: a page saying so (502), audited, nobody provisioned', async () => {
    okta.users.set('00u-down', { sub: '00u-down', password: PASSWORD, email: 'down@northwell.example', email_verified: true });
    const agent = createAgent();
    const { url } = await authorization();
    const upstreamPage = await toUpstream(agent, url, { button: 'northwell' });
    const { action, fields } = formOf(upstreamPage);
    const toCallback = await agent.follow(await agent.postForm(action, { ...fields, login: '00u-down', password: PASSWORD }), `${cg.issuer()}/federation/`);
    await okta.down();
    try {
      const back = await agent.follow(await agent.get(toCallback.location!), REDIRECT);
      expect(back.status).toBe(502);
      expect(back.html).toContain('could not be reached');
      expect(await lastAudit('login.failure')).toMatchObject({ details: { connection: 'northwell', reason: 'upstream_unreachable' } });
    } finally {
      await okta.up();
    }
    expect(await userBySubject('00u-down')).toBeNull();
  });

  it('an upstream that is down when the sign-in begins: the sign-in page says so (502)', async () => {
    await connect(okta, { key: 'fresh', name: 'Fresh', issuer: okta.issuer });
    await okta.down();
    try {
      const agent = createAgent();
      const page = await toUpstream(agent, (await authorization()).url, { button: 'fresh' });
      expect(page.status).toBe(502);
      expect(await lastAudit('login.failure')).toMatchObject({ details: { connection: 'fresh', reason: 'upstream_unreachable' } });
    } finally {
      await okta.up();
      await cg.runtime.federation.connections.remove('demo', 'fresh', cli);
    }
  });

  it('a slow upstream: the token request times out (504), audited, nobody provisioned', async () => {
    await cg.runtime.federation.connections.update('demo', 'northwell', { timeoutSeconds: 1 }, cli);
    okta.users.set('00u-slow', { sub: '00u-slow', password: PASSWORD, email: 'slow@northwell.example', email_verified: true });
    const agent = createAgent();
    const { url } = await authorization();
    const upstreamPage = await toUpstream(agent, url, { button: 'northwell' });
    okta.faults.delayMs = 2500;
    try {
      const back = await upstreamSignIn(agent, upstreamPage, '00u-slow');
      expect(back.status).toBe(504);
      expect(await lastAudit('login.failure')).toMatchObject({ details: { reason: 'upstream_timeout' } });
    } finally {
      okta.faults.delayMs = 0;
      await cg.runtime.federation.connections.update('demo', 'northwell', { timeoutSeconds: 10 }, cli);
    }
    expect(await userBySubject('00u-slow')).toBeNull();
  });

  it('a replayed callback (the same code and state again) is refused', async () => {
    const agent = createAgent();
    const { url } = await authorization();
    const upstreamPage = await toUpstream(agent, url, { button: 'northwell' });
    const { action, fields } = formOf(upstreamPage);
    const toCallback = await agent.follow(await agent.postForm(action, { ...fields, login: '00u-ava', password: PASSWORD }), `${cg.issuer()}/federation/`);
    const callback = toCallback.location!;
    const done = await agent.follow(await agent.get(callback), REDIRECT);
    expect(done.location).toMatch(/code=/);
    const again = await agent.get(callback);
    expect(again.status).toBe(400);
    expect(await lastAudit('login.failure')).toMatchObject({ details: { reason: 'replayed' } });
  });

  it('a response carried into another browser is refused (login CSRF): the sign-in is bound to the browser that began it', async () => {
    const attacker = createAgent();
    const { url } = await authorization();
    const upstreamPage = await toUpstream(attacker, url, { button: 'northwell' });
    const { action, fields } = formOf(upstreamPage);
    const toCallback = await attacker.follow(await attacker.postForm(action, { ...fields, login: '00u-ava', password: PASSWORD }), `${cg.issuer()}/federation/`);
    const victim = createAgent();
    const landed = await victim.follow(await victim.get(toCallback.location!), REDIRECT);
    expect(landed.status).toBeGreaterThanOrEqual(400);
    expect(landed.location ?? '').not.toMatch(/code=/);
  });
});

describe('federated-only connections and local passwords', () => {
  it('a user linked to a federated-only connection cannot use a local password', async () => {
    await cg.runtime.accounts.users.create('demo', { username: 'gil', email: 'gil@partners.example', password: 'gil-long-local-password' }, [], cli);
    await connect(okta, { key: 'partners', name: 'Partners', preset: 'okta', issuer: okta.issuer, linkByEmail: true, federatedOnly: true, button: true });
    okta.users.set('00u-gil', { sub: '00u-gil', password: PASSWORD, email: 'gil@partners.example', email_verified: true, groups: [] });
    const { back } = await federatedSignIn({ button: 'partners' }, '00u-gil');
    expect(back.location).toMatch(/code=/);
    expect(await lastAudit('user.link')).toBeDefined();

    const agent = createAgent();
    const login = await agent.follow(await agent.get((await authorization()).url));
    const { action, fields } = formOf(login);
    const refusedPage = await agent.postForm(action, { ...fields, username: 'gil', password: 'gil-long-local-password' });
    expect(refusedPage.status).toBe(401);
    expect(await lastAudit('login.failure')).toMatchObject({ details: { method: 'pwd', reason: 'federated_only' } });
  });
});

describe('connection test', () => {
  it('reports a working connection, and names what is wrong with a misconfigured one', async () => {
    expect(await cg.runtime.federation.test('demo', 'northwell')).toMatchObject({ ok: true });
    await connect(okta, { key: 'typo', name: 'Typo', issuer: okta.issuer });
    await cg.runtime.federation.connections.update('demo', 'typo', { clientSecret: 'not-the-secret' }, cli);
    const wrongSecret = await cg.runtime.federation.test('demo', 'typo');
    expect(wrongSecret.ok).toBe(false);
    expect(wrongSecret.findings).toContainEqual(expect.objectContaining({ check: 'client credentials', ok: false }));
    await cg.runtime.federation.connections.update('demo', 'typo', { issuer: 'http://127.0.0.1:9/nowhere' }, cli);
    const unreachable = await cg.runtime.federation.test('demo', 'typo');
    expect(unreachable.findings).toContainEqual(expect.objectContaining({ check: 'discovery', ok: false }));
  });
});
