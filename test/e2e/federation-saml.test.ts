// Federation with an upstream SAML 2.0 identity provider that is not Caregate (samlify behind an
// HTTP server, standing in for Okta, Entra ID or ADFS), end to end through Caregate's HTTP endpoints:
// the IdP verifies Caregate's signed AuthnRequest against the SP metadata Caregate publishes, and
// posts its response to Caregate's ACS through the browser. First sign-in creates the user with
// roles from the groups attribute, a group removed at the IdP removes the role, home-realm discovery
// and buttons reach the IdP, and a connection can be made from the IdP's metadata. Every refusal —
// an assertion changed after signing, another signing key, an unsigned assertion, another audience,
// a response posted twice, an IdP-initiated response, the IdP answering AuthnFailed — gets a page,
// an audit event naming the reason, and provisions nobody. The application's tokens are verified
// with openid-client.
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, formOf, type Agent, type Page } from '../support/browser-agent.ts';
import { createClinicDirectory } from '../support/clinic-directory.ts';
import { startUpstreamSaml, type SamlUser, type UpstreamSaml } from '../support/upstream-saml.ts';

const cli = { type: 'cli' as const, id: 'test' };
const REDIRECT = 'https://records.example/cb';

let cg: TestCaregate;
/** St Luke's: a connection configured by hand (entity ID, SSO URL, certificate). */
let stlukes: UpstreamSaml;
/** Mercy: a connection made from the IdP's metadata XML. */
let mercy: UpstreamSaml;
let records: oidc.Configuration;
let urls: { acs: string; spEntityId: string; spMetadata: string };

const ADA: SamlUser = { nameId: 'stl-00u-ada', email: 'Ada@StLukes.example', givenName: 'Ada', surname: 'Lovelace', groups: ['Nurses', 'Reporting'] };

beforeAll(async () => {
  [stlukes, mercy] = await Promise.all([startUpstreamSaml(), startUpstreamSaml()]);
  cg = await startTestCaregate();
  await createClinicDirectory(cg);
  const app = await cg.runtime.accounts.applications.create('demo', { name: 'Records', redirectUris: [REDIRECT], permissions: ['inventory:read', 'reports:read'] }, cli);
  records = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });

  const created = await cg.runtime.federation.connections.create('demo', {
    type: 'saml', key: 'stlukes', name: "St Luke's", idpEntityId: stlukes.entityId, ssoUrl: stlukes.ssoUrl, idpCertificates: [stlukes.certificate],
    domains: ['stlukes.example'],
    mappings: [
      { claim: 'groups', equals: 'Nurses', role: 'inventory', scope: { type: 'location', key: 'loc-north' } },
      { claim: 'groups', equals: 'Reporting', role: 'report_viewer' },
    ],
  }, cli);
  urls = created.urls as typeof urls;
  await stlukes.trust(urls.spMetadata);

  const fromMetadata = await cg.runtime.federation.connections.create('demo', {
    type: 'saml', key: 'mercy', name: 'Mercy Health', idpMetadata: mercy.metadata, domains: ['mercy.example'], mappings: [{ claim: 'groups', equals: 'Reporting', role: 'report_viewer' }],
  }, cli);
  await mercy.trust((fromMetadata.urls as typeof urls).spMetadata);
});

afterAll(async () => {
  await cg?.close();
  await Promise.all([stlukes?.stop(), mercy?.stop()]);
});

/** An authorization request from the Records application, and what it needs to redeem the code. */
async function authorization() {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(records, {
    redirect_uri: REDIRECT, scope: 'openid profile email roles locations', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  return { url: url.href, redeem: (back: Page) => oidc.authorizationCodeGrant(records, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }) };
}

/** From the Caregate sign-in page to the IdP's answer (its auto-post form), by home-realm discovery or a button. */
async function toIdp(agent: Agent, start: string, via: { email: string } | { button: string }): Promise<Page> {
  const login = await agent.follow(await agent.get(start));
  if ('email' in via) {
    const { action, fields } = formOf(login);
    return agent.follow(await agent.postForm(action, { ...fields, username: via.email, password: '' }));
  }
  const index = [...login.html.matchAll(/<form[^>]*action="([^"]+)"/g)].findIndex((m) => m[1]!.endsWith(`/federate/${via.button}`));
  if (index < 0) throw new Error(`no button for ${via.button} on ${login.url}`);
  const { action, fields } = formOf(login, index);
  return agent.follow(await agent.postForm(action, fields));
}

/** The browser posting the IdP's auto-post form (the agent runs no script), then following Caregate on. */
const postToAcs = async (agent: Agent, idpPage: Page) => {
  const { action, fields } = formOf(idpPage);
  return agent.follow(await agent.postForm(action, fields), REDIRECT);
};

async function federatedSignIn(via: { email: string } | { button: string }, agent = createAgent()) {
  const { url, redeem } = await authorization();
  const idpPage = await toIdp(agent, url, via);
  return { idpPage, back: await postToAcs(agent, idpPage), redeem, agent };
}

type AuditRow = { seq: string; action: string; details: Record<string, any>; target_id: string | null };
const lastAudit = async (action: string) =>
  (await cg.runtime.storage.query<AuditRow>('SELECT seq, action, details, target_id FROM audit_events WHERE action = $1 ORDER BY seq DESC LIMIT 1', [action]))[0];
/** The login.failure events recorded after `since` (a seq), oldest first. */
const failuresSince = async (since: string | undefined) =>
  cg.runtime.storage.query<AuditRow>('SELECT seq, action, details, target_id FROM audit_events WHERE action = $1 AND seq > $2 ORDER BY seq ASC', ['login.failure', since ?? 0]);
const userBySubject = (subject: string) => cg.runtime.storage.users.findOneBy({ externalId: subject });

describe('signing in through a SAML IdP', () => {
  it('home-realm discovery sends an email at the claimed domain to the IdP with a signed AuthnRequest; the response creates the user with roles from its groups, and the tokens say so', async () => {
    stlukes.user = ADA;
    const { idpPage, back, redeem } = await federatedSignIn({ email: 'ada@stlukes.example' });
    // The IdP verified the request's signature with the key in Caregate's SP metadata before answering.
    expect(idpPage.url.startsWith(`${stlukes.ssoUrl}?`)).toBe(true);
    expect(new URL(idpPage.url).searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(formOf(idpPage)).toMatchObject({ action: urls.acs, fields: { SAMLResponse: expect.any(String), RelayState: expect.any(String) } });
    expect(back.location).toMatch(/^https:\/\/records\.example\/cb\?code=/);

    const claims = (await redeem(back)).claims()!;
    const ada = await userBySubject('stl-00u-ada');
    expect(ada).toMatchObject({ source: 'federation:stlukes', email: 'ada@stlukes.example', displayName: 'Ada Lovelace', passwordHash: null });
    expect(claims).toMatchObject({ sub: ada!.id, email: 'ada@stlukes.example', amr: ['fed'], roles: ['report_viewer'], locations: { 'loc-north': ['inventory'] } });
    expect(await lastAudit('login.success')).toMatchObject({ target_id: ada!.id, details: { method: 'federation', connection: 'stlukes', subject: 'stl-00u-ada', created: true } });
  });

  it('a later sign-in follows the IdP: a group removed there removes the role here', async () => {
    stlukes.user = { ...ADA, groups: ['Reporting'] };
    const { back, redeem } = await federatedSignIn({ button: 'stlukes' });
    const claims = (await redeem(back)).claims()!;
    expect(claims.locations ?? {}).toEqual({});
    expect(claims.roles).toEqual(['report_viewer']);
    expect(await lastAudit('login.success')).toMatchObject({ details: { connection: 'stlukes', created: false } });
    expect(await lastAudit('assignment.delete')).toMatchObject({ details: { upstream: 'federation:stlukes', reason: 'mapping' } });
    expect(await cg.runtime.storage.users.countBy({ externalId: 'stl-00u-ada' })).toBe(1);
  });

  it('a connection made from the IdP metadata XML takes its entity ID, SSO URL and signing certificate from it, and signs people in', async () => {
    const shown = await cg.runtime.federation.connections.get('demo', 'mercy');
    expect(shown).toMatchObject({ type: 'saml', idpEntityId: mercy.entityId, ssoUrl: mercy.ssoUrl, idpCertificates: [mercy.certificate] });
    mercy.user = { nameId: 'mercy-7731', email: 'bo@mercy.example', givenName: 'Bo', surname: 'Chen', groups: ['Reporting'] };
    const { idpPage, back, redeem } = await federatedSignIn({ email: 'bo@mercy.example' });
    expect(idpPage.url.startsWith(`${mercy.ssoUrl}?`)).toBe(true);
    expect((await redeem(back)).claims()).toMatchObject({ email: 'bo@mercy.example', roles: ['report_viewer'] });
    expect(await userBySubject('mercy-7731')).toMatchObject({ source: 'federation:mercy', displayName: 'Bo Chen' });
  });
});

describe('refusals: a page, an audit event, nobody provisioned', () => {
  let n = 0;
  /** A person the IdP signs in for one refusal (never seen before, so "nobody provisioned" means something). */
  const stranger = (): SamlUser => ({ nameId: `stl-refused-${++n}`, email: `refused${n}@stlukes.example`, givenName: 'Eve', surname: 'Refused', groups: ['Nurses', 'Reporting'] });

  /** One refused sign-in: its status, a page without a stack trace, one audit event, nobody created. */
  async function expectRefused(page: Page, since: string | undefined, user: SamlUser, status: number, reason: string) {
    expect(page.status).toBe(status);
    expect(page.location ?? '').not.toMatch(/code=/);
    expect(page.html).toContain('Sign-in');
    expect(page.html).not.toMatch(/at .*\.ts:\d+/); // never a stack trace
    const failures = await failuresSince(since);
    expect(failures).toEqual([expect.objectContaining({ details: expect.objectContaining({ method: 'federation', connection: 'stlukes', reason }) })]);
    expect(await userBySubject(user.nameId)).toBeNull();
    expect(await cg.runtime.storage.users.findOneBy({ email: user.email!.toLowerCase() })).toBeNull();
  }

  const cases: Array<[string, Partial<UpstreamSaml['faults']>, string, number]> = [
    ['an assertion whose groups were changed after the IdP signed it', { tamper: { attribute: 'groups', values: ['Nurses', 'Reporting', 'Administrators'] } }, 'invalid_signature', 400],
    ['an assertion signed with a key that is not the IdP’s', { wrongKey: true }, 'invalid_signature', 400],
    ['an unsigned assertion', { unsigned: true }, 'invalid_signature', 400],
    ['an assertion for another service provider (audience)', { audience: 'https://another-sp.example/saml' }, 'wrong_audience', 400],
    ['the IdP answering Responder/AuthnFailed', { status: 'AuthnFailed' }, 'access_denied', 403],
  ];
  for (const [what, faults, reason, status] of cases) {
    it(`refuses ${what} as ${reason} (${status})`, async () => {
      const user = (stlukes.user = stranger());
      const since = (await lastAudit('login.failure'))?.seq;
      Object.assign(stlukes.faults, faults);
      try {
        const { back } = await federatedSignIn({ button: 'stlukes' });
        await expectRefused(back, since, user, status, reason);
        if (reason === 'access_denied') expect(back.html).toContain('did not sign you in');
      } finally {
        stlukes.faults = { wrongKey: false, unsigned: false };
      }
    });
  }

  it('refuses a response posted a second time after it signed someone in, as replayed', async () => {
    stlukes.user = ADA;
    const agent = createAgent();
    const { url } = await authorization();
    const idpPage = await toIdp(agent, url, { button: 'stlukes' });
    expect((await postToAcs(agent, idpPage)).location).toMatch(/code=/);
    const since = (await lastAudit('login.failure'))?.seq;
    const successes = await cg.runtime.storage.auditEvents.countBy({ action: 'login.success' });
    const again = await postToAcs(agent, idpPage);
    expect(again.status).toBe(400);
    expect(again.location ?? '').not.toMatch(/code=/);
    expect(await failuresSince(since)).toEqual([expect.objectContaining({ details: expect.objectContaining({ method: 'federation', connection: 'stlukes', reason: 'replayed' }) })]);
    expect(await cg.runtime.storage.auditEvents.countBy({ action: 'login.success' })).toBe(successes);
  });

  it('refuses the same response posted twice before the first is used (the form sent again) as replayed; the first still signs in', async () => {
    const user = (stlukes.user = stranger());
    const agent = createAgent();
    const { url } = await authorization();
    const idpPage = await toIdp(agent, url, { button: 'stlukes' });
    const { action, fields } = formOf(idpPage);
    const first = await agent.postForm(action, fields);
    const since = (await lastAudit('login.failure'))?.seq;
    const second = await agent.postForm(action, fields);
    expect([first.status, second.status]).toEqual([303, 400]);
    expect(await failuresSince(since)).toEqual([expect.objectContaining({ details: expect.objectContaining({ connection: 'stlukes', reason: 'replayed' }) })]);
    expect((await agent.follow(first, REDIRECT)).location).toMatch(/code=/);
    expect(await userBySubject(user.nameId)).not.toBeNull();
  });

  it('refuses an IdP-initiated response (no InResponseTo, no RelayState) as state_mismatch', async () => {
    const user = (stlukes.user = stranger());
    const agent = createAgent();
    const since = (await lastAudit('login.failure'))?.seq;
    const launched = await agent.get(stlukes.launchUrl(urls.spEntityId));
    const { action, fields } = formOf(launched);
    expect(action).toBe(urls.acs);
    expect(Object.keys(fields)).toEqual(['SAMLResponse']);
    expect(Buffer.from(fields.SAMLResponse!, 'base64').toString()).not.toContain('InResponseTo');
    await expectRefused(await postToAcs(agent, launched), since, user, 400, 'state_mismatch');
  });
});
