// SAML 2.0 single sign-on against a running Caregate, with node-saml as the independent service
// provider validating every response with the certificate from Caregate's metadata: both request
// bindings (signed and not), IdP-initiated sign-in, ForceAuthn and IsPassive, encrypted assertions,
// NameID formats, the attributes a user's roles and memberships become, and the one sign-on
// session shared with OpenID Connect applications.
import * as oidc from 'openid-client';
import { ValidateInResponseTo, type SAML } from '@node-saml/node-saml';
import { SignedXml } from 'xml-crypto';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, signIn, type Agent } from '../support/browser-agent.ts';
import { createClinicDirectory, NURSE_ROLES } from '../support/clinic-directory.ts';
import {
  asksForPassword, auditOf, cli, idOf, idpCertificates, NAME_ID, nodeSamlSp, POST_BINDING, postedForm, postedXml, redirectXml, submitForm, throughSignIn, type SpOptions,
} from '../support/saml-sp.ts';
import { selfSignedCertificate, type SelfSignedCertificate } from '../support/self-signed-certificate.ts';

const PASSWORD = 'first-long-password-of-tests';
const CHART = { entityId: 'https://chart.example/saml', acs: 'https://chart.example/saml/acs' };
const SIGNED = { entityId: 'https://labs.example/saml', acs: 'https://labs.example/saml/acs' };
const SEALED = { entityId: 'https://vault.example/saml', acs: 'https://vault.example/saml/acs' };
const MAIL = { entityId: 'https://mail.example/saml', acs: 'https://mail.example/saml/acs' };
const TRANSIENT = { entityId: 'https://kiosk.example/saml', acs: 'https://kiosk.example/saml/acs' };
const CLOSED = { entityId: 'https://closed.example/saml', acs: 'https://closed.example/saml/acs' };
const RECORDS_REDIRECT = 'https://records.example/cb';

let cg: TestCaregate;
let labsKeys: SelfSignedCertificate;
let vaultKeys: SelfSignedCertificate;
let alice: { id: string };
let chartApp: { id: string; client_id: string };
let records: { client_id: string; client_secret?: string };

beforeAll(async () => {
  cg = await startTestCaregate();
  [labsKeys, vaultKeys] = await Promise.all([selfSignedCertificate('labs-signing'), selfSignedCertificate('vault-encryption')]);
  const a = cg.runtime.accounts;
  await createClinicDirectory(cg);
  chartApp = await a.applications.create('demo', {
    name: 'Chart',
    permissions: ['patients:read', 'notes:create', 'reports:read', 'dashboards:read'],
    saml: {
      entityId: CHART.entityId,
      acs: [{ url: CHART.acs, index: 0, isDefault: true }, { url: 'https://chart.example/saml/acs-2', index: 1 }],
      defaultRelayState: '/chart/home',
      // Renamed to the eduPerson OID, left out, and the rest under their OIDC claim names.
      attributes: { email: { name: 'urn:oid:0.9.2342.19200300.100.1.3', nameFormat: 'uri' }, tenant_id: null, phone: null },
    },
  }, cli);
  await a.applications.create('demo', { name: 'Labs', saml: { entityId: SIGNED.entityId, acs: [{ url: SIGNED.acs, index: 0 }], signingCertificates: [labsKeys.cert], requireSignedRequests: true } }, cli);
  await a.applications.create('demo', { name: 'Vault', saml: { entityId: SEALED.entityId, acs: [{ url: SEALED.acs, index: 0 }], encryptionCertificate: vaultKeys.body, encryptAssertion: true } }, cli);
  await a.applications.create('demo', { name: 'Mail', saml: { entityId: MAIL.entityId, acs: [{ url: MAIL.acs, index: 0 }], nameIdFormat: 'email' } }, cli);
  await a.applications.create('demo', { name: 'Kiosk', saml: { entityId: TRANSIENT.entityId, acs: [{ url: TRANSIENT.acs, index: 0 }], nameIdFormat: 'transient' } }, cli);
  await a.applications.create('demo', { name: 'Closed', saml: { entityId: CLOSED.entityId, acs: [{ url: CLOSED.acs, index: 0 }], allowIdpInitiated: false } }, cli);
  records = await a.applications.create('demo', { name: 'Records', redirectUris: [RECORDS_REDIRECT] }, cli);
  alice = await a.users.create('demo', { username: 'alice', email: 'alice@clinic.example', displayName: 'Alice Nurse', phone: '+15551234567', password: PASSWORD, phiAccess: true }, [
    ...NURSE_ROLES,
    // Only in assertions for Chart.
    { role: 'reporting_user', scope: { type: 'application', clientId: chartApp.client_id } },
  ], cli);
  await a.teamMembers.add('demo', 'study-coordinators', alice.id, cli);
  await a.users.create('demo', { username: 'bob', password: PASSWORD }, [], cli);
});

afterAll(async () => cg?.close());

/** node-saml for one of the SPs above, checking InResponseTo against the requests it sent. */
const sp = (options: SpOptions) => nodeSamlSp(cg, { validateInResponseTo: ValidateInResponseTo.always, ...options });

/** Starts at `url` in the browser, signs in as alice if asked, returns the page posting to the ACS. */
async function signInAt(url: string, agent: Agent = createAgent(), username = 'alice') {
  const { page, askedPassword } = await throughSignIn(agent, await agent.get(url), username, PASSWORD);
  return { page, askedPassword, agent };
}

/** The response node-saml accepted from the page's form, and the RelayState that came with it. */
async function accepted(saml: SAML, page: Awaited<ReturnType<typeof signInAt>>['page'], acs: string) {
  const { action, fields } = postedForm(page);
  expect(action).toBe(acs);
  const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: fields.SAMLResponse! });
  return { profile: profile!, relayState: fields.RelayState };
}

describe('metadata', () => {
  it('publishes a signed EntityDescriptor: both bindings, current then next signing certificate', async () => {
    const res = await fetch(`${cg.issuer()}/saml/metadata`);
    expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const xml = await res.text();
    const certificates = await idpCertificates(cg);
    expect(certificates).toHaveLength(2);
    expect(xml).toContain(`entityID="${cg.issuer()}"`);
    for (const binding of ['HTTP-Redirect', 'HTTP-POST']) {
      expect(xml).toContain(`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${binding}" Location="${cg.issuer()}/saml/sso"/>`);
      expect(xml).toContain(`<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${binding}" Location="${cg.issuer()}/saml/slo"/>`);
    }
    expect([...xml.matchAll(/<md:KeyDescriptor use="signing">/g)]).toHaveLength(2);
    const verifier = new SignedXml({ publicCert: `-----BEGIN CERTIFICATE-----\n${certificates[0]}\n-----END CERTIFICATE-----`, getCertFromKeyInfo: () => null });
    verifier.loadSignature(/<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(xml)![0]);
    expect(verifier.checkSignature(xml)).toBe(true);
    expect(new Date(/validUntil="([^"]+)"/.exec(xml)![1]!).getTime()).toBeGreaterThan(Date.now());
  });
});

describe('SP-initiated sign-in', () => {
  it('answers a Redirect-binding request with a signed response and assertion at the ACS, RelayState round-tripped', async () => {
    const chart = await sp(CHART);
    const url = await chart.getAuthorizeUrlAsync('/chart/patients/42?tab=notes&x=1', undefined, {});
    const requestId = idOf(redirectXml(url));
    const { page, askedPassword } = await signInAt(url);
    expect(askedPassword).toBe(true);
    const { profile, relayState } = await accepted(chart, page, CHART.acs);
    expect(relayState).toBe('/chart/patients/42?tab=notes&x=1');
    expect(profile).toMatchObject({ issuer: cg.issuer(), inResponseTo: requestId, nameID: alice.id, nameIDFormat: NAME_ID.persistent, spNameQualifier: CHART.entityId });
    expect(profile.sessionIndex).toMatch(/^_[0-9a-f]{32}$/);
    const sso = (await auditOf(cg, 'saml.sso')).at(-1)!;
    expect(sso).toMatchObject({ outcome: 'success', actorType: 'user', actorId: alice.id, targetId: chartApp.id });
    expect(sso.details).toMatchObject({ entityId: CHART.entityId, samlRequestId: requestId, binding: 'redirect', acs: CHART.acs });
  });

  it('answers a POST-binding request the same way, RelayState round-tripped', async () => {
    const chart = await sp({ ...CHART, ...POST_BINDING });
    const agent = createAgent();
    const form = await chart.getAuthorizeFormAsync('state-from-post', undefined, {});
    const { page } = await throughSignIn(agent, await submitForm(agent, form), 'alice', PASSWORD);
    const { profile, relayState } = await accepted(chart, page, CHART.acs);
    expect(relayState).toBe('state-from-post');
    expect(profile.nameID).toBe(alice.id);
    expect((await auditOf(cg, 'saml.sso')).at(-1)!.details).toMatchObject({ binding: 'post' });
  });
});

describe('signed requests', () => {
  it('accepts a Redirect-binding request signed over its query string', async () => {
    const labs = await sp({ ...SIGNED, privateKey: labsKeys.key });
    const url = await labs.getAuthorizeUrlAsync('labs-7', undefined, {});
    expect(new URL(url).searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    const { page } = await signInAt(url);
    const { profile, relayState } = await accepted(labs, page, SIGNED.acs);
    expect(profile.nameID).toBe(alice.id);
    expect(relayState).toBe('labs-7');
    expect((await auditOf(cg, 'saml.authn_request')).at(-1)!.details).toMatchObject({ entityId: SIGNED.entityId, binding: 'redirect', signed: true });
  });

  it('accepts a POST-binding request with an enveloped signature', async () => {
    const labs = await sp({ ...SIGNED, ...POST_BINDING, privateKey: labsKeys.key });
    const agent = createAgent();
    const form = await labs.getAuthorizeFormAsync('labs-8', undefined, {});
    const { page } = await throughSignIn(agent, await submitForm(agent, form), 'alice', PASSWORD);
    const { profile, relayState } = await accepted(labs, page, SIGNED.acs);
    expect(profile.nameID).toBe(alice.id);
    expect(relayState).toBe('labs-8');
    expect((await auditOf(cg, 'saml.authn_request')).at(-1)!.details).toMatchObject({ entityId: SIGNED.entityId, binding: 'post', signed: true });
  });

  it('refuses an unsigned request from an SP that must sign, with a page and the reason audited', async () => {
    const labs = await sp(SIGNED);
    const agent = createAgent();
    const page = await agent.get(await labs.getAuthorizeUrlAsync('', undefined, {}));
    expect(page.status).toBe(400);
    expect(page.html).toContain('must sign its sign-in requests');
    expect(page.location).toBeUndefined();
    expect(agent.jar.size).toBe(0);
    expect((await auditOf(cg, 'saml.sso_rejected')).at(-1)!.details).toMatchObject({ reason: 'unsigned', binding: 'redirect', entityId: SIGNED.entityId });
  });
});

describe('IdP-initiated sign-in', () => {
  const init = (entityId: string, relayState?: string) => `${cg.issuer()}/saml/init?${new URLSearchParams({ sp: entityId, ...(relayState ? { RelayState: relayState } : {}) })}`;

  it("posts an unsolicited response with the SP's default RelayState", async () => {
    const chart = await nodeSamlSp(cg, CHART);
    const { page, askedPassword } = await signInAt(init(CHART.entityId));
    expect(askedPassword).toBe(true);
    const { profile, relayState } = await accepted(chart, page, CHART.acs);
    expect(relayState).toBe('/chart/home');
    expect(profile.nameID).toBe(alice.id);
    expect(profile.inResponseTo).toBeUndefined();
    expect(postedXml(page)).not.toContain('InResponseTo');
    expect((await auditOf(cg, 'saml.sso')).at(-1)!.details).toMatchObject({ binding: 'idp-initiated', samlRequestId: null });
  });

  it('sends the RelayState given at the start instead of the default', async () => {
    const chart = await nodeSamlSp(cg, CHART);
    const { page } = await signInAt(init(CHART.entityId, '/chart/inbox'));
    expect((await accepted(chart, page, CHART.acs)).relayState).toBe('/chart/inbox');
  });

  it('refuses with 403 when the SP accepts only sign-ins it starts', async () => {
    const agent = createAgent();
    const page = await agent.get(init(CLOSED.entityId));
    expect(page.status).toBe(403);
    expect(page.html).toContain('only accepts sign-ins that it starts itself');
    expect(agent.jar.size).toBe(0);
    expect((await auditOf(cg, 'saml.sso_rejected')).at(-1)!.details).toMatchObject({ reason: 'idp_initiated_disabled', binding: 'idp-initiated' });
  });
});

describe('ForceAuthn and IsPassive', () => {
  it('asks for the password again on ForceAuthn though the browser is signed in', async () => {
    const { agent } = await signInAt(await (await sp(CHART)).getAuthorizeUrlAsync('', undefined, {}));
    const forced = await sp({ ...CHART, forceAuthn: true });
    const before = Math.floor(Date.now() / 1000) * 1000;
    const { page, askedPassword } = await signInAt(await forced.getAuthorizeUrlAsync('', undefined, {}), agent);
    expect(askedPassword).toBe(true);
    const { profile } = await accepted(forced, page, CHART.acs);
    const authnInstant = /AuthnInstant="([^"]+)"/.exec(profile.getAssertionXml!())![1]!;
    expect(new Date(authnInstant).getTime()).toBeGreaterThanOrEqual(before);
    expect((await auditOf(cg, 'saml.authn_request')).at(-1)!.details).toMatchObject({ forceAuthn: true });
  });

  it('answers IsPassive without a session with status NoPassive, never showing a login page', async () => {
    const passive = await sp({ ...CHART, passive: true });
    const agent = createAgent();
    const page = await agent.follow(await agent.get(await passive.getAuthorizeUrlAsync('passive-1', undefined, {})));
    expect(asksForPassword(page)).toBe(false);
    // node-saml reports NoPassive as "no profile, not logged out".
    expect(await passive.validatePostResponseAsync({ SAMLResponse: postedForm(page).fields.SAMLResponse! })).toEqual({ profile: null, loggedOut: false });
    expect(postedXml(page)).toContain('urn:oasis:names:tc:SAML:2.0:status:NoPassive');
    expect(postedForm(page).fields.RelayState).toBe('passive-1');
    expect((await auditOf(cg, 'saml.sso')).at(-1)).toMatchObject({ outcome: 'failure', details: expect.objectContaining({ status: 'urn:oasis:names:tc:SAML:2.0:status:NoPassive' }) });
  });

  it('answers IsPassive with a session by signing in without a login page', async () => {
    const { agent } = await signInAt(await (await sp(CHART)).getAuthorizeUrlAsync('', undefined, {}));
    const passive = await sp({ ...CHART, passive: true });
    const { page, askedPassword } = await signInAt(await passive.getAuthorizeUrlAsync('', undefined, {}), agent);
    expect(askedPassword).toBe(false);
    expect((await accepted(passive, page, CHART.acs)).profile.nameID).toBe(alice.id);
  });
});

describe('what the assertion says', () => {
  it('encrypts the assertion (AES-256-GCM, RSA-OAEP) for an SP with an encryption certificate, and node-saml decrypts it', async () => {
    const vault = await sp({ ...SEALED, decryptionPvk: vaultKeys.key });
    const { page } = await signInAt(await vault.getAuthorizeUrlAsync('', undefined, {}));
    const xml = postedXml(page);
    expect(xml).toContain('<saml:EncryptedAssertion');
    expect(xml).toContain('http://www.w3.org/2009/xmlenc11#aes256-gcm');
    expect(xml).toContain('http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p');
    expect(xml).not.toContain('alice');
    const { profile } = await accepted(vault, page, SEALED.acs);
    expect(profile).toMatchObject({ nameID: alice.id, username: 'alice' });
  });

  it('names the user by email for an SP set up for email NameIDs', async () => {
    const mail = await sp({ ...MAIL, identifierFormat: NAME_ID.email });
    const { page } = await signInAt(await mail.getAuthorizeUrlAsync('', undefined, {}));
    expect((await accepted(mail, page, MAIL.acs)).profile).toMatchObject({ nameID: 'alice@clinic.example', nameIDFormat: NAME_ID.email });
  });

  it('answers InvalidNameIDPolicy when an SP asks for a NameID format it is not set up for', async () => {
    const mail = await sp({ ...MAIL, identifierFormat: NAME_ID.persistent });
    const page = await createAgent().get(await mail.getAuthorizeUrlAsync('', undefined, {}));
    expect(postedXml(page)).toContain('urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy');
    await expect(mail.validatePostResponseAsync({ SAMLResponse: postedForm(page).fields.SAMLResponse! })).rejects.toThrow(/Requester/);
  });

  it('gives an SP set up for transient NameIDs an opaque name that is new in each sign-on session', async () => {
    const kiosk = await sp({ ...TRANSIENT, identifierFormat: NAME_ID.transient });
    const names = [];
    for (let i = 0; i < 2; i++) {
      const { page } = await signInAt(await kiosk.getAuthorizeUrlAsync('', undefined, {}));
      const { profile } = await accepted(kiosk, page, TRANSIENT.acs);
      expect(profile.nameIDFormat).toBe(NAME_ID.transient);
      names.push(profile.nameID);
    }
    expect(names[0]).toMatch(/^_[0-9a-f]{40}$/);
    expect(names[1]).not.toBe(names[0]);
    expect(names).not.toContain(alice.id);
  });

  it("carries the user's roles, permissions for this SP, locations with their roles, institutions, teams and PHI flag, renamed or left out per SP", async () => {
    const chart = await sp(CHART);
    const { page } = await signInAt(await chart.getAuthorizeUrlAsync('', undefined, {}));
    const { profile } = await accepted(chart, page, CHART.acs);
    const tenant = await cg.runtime.accounts.tenants.findBySlug('demo');
    expect(profile.attributes).toEqual({
      username: 'alice',
      'urn:oid:0.9.2342.19200300.100.1.3': 'alice@clinic.example',
      name: 'Alice Nurse',
      tenant: 'demo',
      roles: ['customizer', 'report_viewer', 'reporting_user'],
      permissions: ['dashboards:read', 'reports:read'],
      locations: ['region-east', 'loc-north', 'loc-south'],
      location_roles: ['region-east:provider', 'loc-north:provider', 'loc-south:front_desk', 'loc-south:provider'],
      institutions: 'site-boston',
      teams: ['everyone', 'study-coordinators'],
      phi: 'true',
    });
    const xml = profile.getAssertionXml!();
    expect(xml).toMatch(/Name="urn:oid:0\.9\.2342\.19200300\.100\.1\.3" NameFormat="urn:oasis:names:tc:SAML:2\.0:attrname-format:uri"/);
    expect(xml).toMatch(/Name="roles" NameFormat="urn:oasis:names:tc:SAML:2\.0:attrname-format:basic"/);

    // Another SP: default names, phone and tenant_id included, Chart's application-scoped role not.
    const mail = await sp({ ...MAIL, identifierFormat: NAME_ID.email });
    const other = await accepted(mail, (await signInAt(await mail.getAuthorizeUrlAsync('', undefined, {}))).page, MAIL.acs);
    expect(other.profile.attributes).toMatchObject({ email: 'alice@clinic.example', phone: '+15551234567', tenant_id: tenant!.id, roles: ['customizer', 'report_viewer'] });
    expect(other.profile.attributes).not.toHaveProperty('permissions');
  });

  it('says phi "false" and leaves out what a plain user does not have', async () => {
    const chart = await sp(CHART);
    const { page } = await signInAt(await chart.getAuthorizeUrlAsync('', undefined, {}), createAgent(), 'bob');
    const { profile } = await accepted(chart, page, CHART.acs);
    expect(profile.attributes).toEqual({ username: 'bob', tenant: 'demo', teams: 'everyone', phi: 'false' });
  });
});

describe('one sign-on session with OpenID Connect applications', () => {
  async function recordsAuthorization() {
    const config = await oidc.discovery(new URL(cg.issuer()), records.client_id, records.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    return oidc.buildAuthorizationUrl(config, { redirect_uri: RECORDS_REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' }).href;
  }

  it('signs in to an OIDC application without a password after a SAML sign-in', async () => {
    const { agent } = await signInAt(await (await sp(CHART)).getAuthorizeUrlAsync('', undefined, {}));
    const back = await agent.follow(await agent.get(await recordsAuthorization()), RECORDS_REDIRECT);
    expect(back.location).toMatch(/^https:\/\/records\.example\/cb\?code=/);
  });

  it('signs in to a SAML SP without a password after an OIDC sign-in', async () => {
    const agent = createAgent();
    expect((await signIn(agent, await recordsAuthorization(), 'alice', PASSWORD, RECORDS_REDIRECT)).location).toMatch(/^https:\/\/records\.example\/cb\?code=/);
    const chart = await sp(CHART);
    const { page, askedPassword } = await signInAt(await chart.getAuthorizeUrlAsync('', undefined, {}), agent);
    expect(askedPassword).toBe(false);
    expect((await accepted(chart, page, CHART.acs)).profile.nameID).toBe(alice.id);
  });
});

describe('a second factor asked for by the SP', () => {
  it('sends a user without one to enrol before any assertion when the request asks for the REFEDS MFA context', async () => {
    const strict = await sp({ ...CHART, authnContext: ['https://refeds.org/profile/mfa'], racComparison: 'exact' });
    const agent = createAgent();
    const start = await agent.get(await strict.getAuthorizeUrlAsync('', undefined, {}));
    expect(start.location).toContain('acr_values=urn%3Acaregate%3Aacr%3Amfa');
    const { page } = await throughSignIn(agent, start, 'alice', PASSWORD);
    expect(page.url).toMatch(/\/interaction\/[^/]+\/enrol$/);
    expect(page.html).not.toContain('name="SAMLResponse"');
  });
});

// Last: it rotates the tenant's keys.
describe('certificate rollover', () => {
  it("signs with the certificate metadata published as next once the keys rotate; an SP that trusts only that one accepts", async () => {
    const [, next] = await idpCertificates(cg);
    const tenant = await cg.runtime.storage.tenants.findOneByOrFail({ slug: 'demo' });
    await cg.runtime.providers.keys.rotate(tenant.id, 600);
    cg.runtime.providers.invalidate('demo');
    expect((await idpCertificates(cg))[0]).toBe(next);
    const trustsNextOnly = await nodeSamlSp(cg, { ...CHART, idpCert: next! });
    const { page } = await signInAt(await trustsNextOnly.getAuthorizeUrlAsync('', undefined, {}));
    expect((await accepted(trustsNextOnly, page, CHART.acs)).profile.nameID).toBe(alice.id);
  });
});
