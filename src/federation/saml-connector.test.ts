// The SAML connector against a real, independent IdP (samlify): the IdP verifies the signed
// AuthnRequest that start() sends, reading the SP's key from the connector's own metadata, and signs
// the responses that finish() must accept or refuse for the right reason.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate, type SelfSignedCertificate } from '../../test/support/self-signed-certificate.ts';
import { createMemoryStore, type EphemeralStore } from '../ephemeral/index.ts';
import type { Connection } from '../storage/index.ts';
import { UpstreamError } from '../upstream/index.ts';
import { samlSettings, type ConnectionSecrets } from './connection-settings.ts';
import { createSamlConnector } from './saml-connector.ts';
import { createSpKeys } from './sp-keys.ts';

/** The part of samlify used here. */
interface Samlify {
  setSchemaValidator(validator: { validate: (xml: string) => Promise<string> }): void;
  Constants: { namespace: { binding: { redirect: string } } };
  IdentityProvider(settings: Record<string, unknown>): SamlifyIdp;
  ServiceProvider(settings: { metadata: string }): object;
}
interface SamlifyIdp {
  parseLoginRequest(sp: object, binding: 'redirect', request: { query: Record<string, string>; octetString: string }): Promise<{ extract: { request: { id: string } } }>;
  createLoginResponse(sp: object, requestInfo: object, binding: 'post', user: object, render: (template: string) => { id: string; context: string }): Promise<{ context: string }>;
}
// samlify's typings pull in lib "dom" (through its own xmldom 0.8 and xpath), which would retype
// Node's WebCrypto for the whole program: it is loaded untyped, through the interface above.
const { Constants, IdentityProvider, ServiceProvider, setSchemaValidator } = createRequire(import.meta.url)('samlify') as Samlify;

// samlify's schema validators need Java or a native module; the responses here are checked by
// node-saml (inside the connector), which is what is under test.
setSchemaValidator({ validate: async () => 'skipped' });

const IDP_ENTITY = 'https://idp.clinic.example/saml';
const SSO_URL = 'https://idp.clinic.example/sso';
const SP_ENTITY = 'https://caregate.example/t/acme/federation/clinic';
const ACS_URL = 'https://caregate.example/t/acme/federation/clinic/acs';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

// The whole response, with a placeholder per fact a test changes. Attributes are rendered by attributeXml.
const TEMPLATE = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{Now}" Destination="${ACS_URL}"{InResponseTo}><saml:Issuer>{ResponseIssuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="{AssertionID}" Version="2.0" IssueInstant="{Now}"><saml:Issuer>{Issuer}</saml:Issuer><saml:Subject><saml:NameID Format="{NameIDFormat}">{NameID}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{SubjectNotOnOrAfter}" Recipient="{Recipient}"{InResponseTo}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{Now}" SessionIndex="{AssertionID}"><saml:AuthnContext><saml:AuthnContextClassRef>{AuthnContext}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>{Attributes}</saml:AttributeStatement></saml:Assertion></samlp:Response>`;

interface ResponseFacts {
  issuer: string;
  /** The Response's own (unsigned) Issuer, when it differs from the assertion's. */
  responseIssuer?: string;
  recipient: string;
  audience: string;
  inResponseTo: string | null;
  nameId: string;
  nameIdFormat: string;
  notBefore: Date;
  notOnOrAfter: Date;
  subjectNotOnOrAfter: Date;
  authnContext: string;
  attributes: Array<{ name: string; friendlyName?: string; values: string[] }>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const attributeXml = (attributes: ResponseFacts['attributes']) =>
  attributes
    .map((a) => `<saml:Attribute Name="${esc(a.name)}"${a.friendlyName ? ` FriendlyName="${esc(a.friendlyName)}"` : ''}>${a.values.map((v) => `<saml:AttributeValue>${esc(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
    .join('');

function render(template: string, id: string, facts: ResponseFacts): string {
  const values: Record<string, string> = {
    ID: id,
    AssertionID: `_a${id.slice(1)}`,
    Now: new Date().toISOString(),
    Issuer: esc(facts.issuer),
    ResponseIssuer: esc(facts.responseIssuer ?? facts.issuer),
    Recipient: esc(facts.recipient),
    Audience: esc(facts.audience),
    InResponseTo: facts.inResponseTo === null ? '' : ` InResponseTo="${esc(facts.inResponseTo)}"`,
    NameID: esc(facts.nameId),
    NameIDFormat: facts.nameIdFormat,
    NotBefore: facts.notBefore.toISOString(),
    NotOnOrAfter: facts.notOnOrAfter.toISOString(),
    SubjectNotOnOrAfter: facts.subjectNotOnOrAfter.toISOString(),
    AuthnContext: facts.authnContext,
    Attributes: attributeXml(facts.attributes),
  };
  return template.replace(/\{(\w+)\}/g, (_, key: string) => values[key]!);
}

let idpKeys: SelfSignedCertificate;
let otherKeys: SelfSignedCertificate;
let spKeys: ConnectionSecrets;
let store: EphemeralStore;
let idp: SamlifyIdp;

const samlIdp = (keys: SelfSignedCertificate) =>
  IdentityProvider({
    entityID: IDP_ENTITY,
    privateKey: keys.key,
    signingCert: keys.cert,
    wantAuthnRequestsSigned: true,
    singleSignOnService: [{ Binding: Constants.namespace.binding.redirect, Location: SSO_URL }],
    singleLogoutService: [{ Binding: Constants.namespace.binding.redirect, Location: `${SSO_URL}/logout` }],
    loginResponseTemplate: { context: TEMPLATE, attributes: [] },
  });

const connection = { id: 'c0a80001-0000-4000-8000-000000000001', tenantId: 't-1', key: 'clinic', name: 'Clinic', type: 'saml', preset: 'generic', settings: {}, secretsSealed: null, domains: [], mappings: [], enabled: true, createdAt: new Date(), updatedAt: new Date() } satisfies Connection;

function connector(overrides: Record<string, unknown> = {}, secrets: ConnectionSecrets = spKeys) {
  const settings = samlSettings.parse({ key: 'clinic', name: 'Clinic', type: 'saml', idpEntityId: IDP_ENTITY, ssoUrl: SSO_URL, idpCertificates: [idpKeys.body], ...overrides });
  return createSamlConnector(connection, settings, secrets, { acsUrl: ACS_URL, spEntityId: SP_ENTITY, ephemeral: store, tenantId: 't-1' });
}

/** What samlify's redirect flow expects: decoded values, and the signed part of the query as sent. */
function redirectRequest(url: string) {
  // Not new URL(url).search: the URL parser re-encodes some characters, and the octets matter.
  const search = url.slice(url.indexOf('?') + 1);
  const query = Object.fromEntries(new URLSearchParams(search));
  const octetString = search.split('&').filter((p) => /^(SAMLRequest|RelayState|SigAlg)=/.test(p)).join('&');
  return { query, octetString };
}

/**
 * Signs in at the samlify IdP: it parses (and verifies) the AuthnRequest in `url`, then answers it.
 * `facts` changes what the response says; `sign: false` sends it without any signature.
 */
async function signIn(sut: ReturnType<typeof connector>, url: string, facts: Partial<ResponseFacts> = {}, { by = idp, sign = true, spMetadata = sut.metadata() } = {}) {
  const sp = ServiceProvider({ metadata: spMetadata });
  const { extract } = await by.parseLoginRequest(sp, 'redirect', redirectRequest(url));
  const now = Date.now();
  const all: ResponseFacts = {
    issuer: IDP_ENTITY,
    recipient: ACS_URL,
    audience: SP_ENTITY,
    inResponseTo: extract.request.id,
    nameId: '00u1ada0lovelace',
    nameIdFormat: PERSISTENT,
    notBefore: new Date(now - 60_000),
    notOnOrAfter: new Date(now + 300_000),
    subjectNotOnOrAfter: new Date(now + 300_000),
    authnContext: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    attributes: [
      { name: 'email', values: ['Ada.Lovelace@Clinic.example'] },
      { name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname', values: ['Ada'] },
      { name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname', values: ['Lovelace'] },
      { name: 'groups', values: ['nurses', 'icu'] },
      { name: 'urn:oid:2.5.4.11', friendlyName: 'department', values: ['Cardiology'] },
    ],
    ...facts,
  };
  const id = `_r${Math.random().toString(16).slice(2)}`;
  if (!sign) return { SAMLResponse: Buffer.from(render(TEMPLATE, id, all)).toString('base64'), RelayState: redirectRequest(url).query.RelayState! };
  const { context } = await by.createLoginResponse(sp, { extract }, 'post', {}, (template: string) => ({ id, context: render(template, id, all) }));
  return { SAMLResponse: context, RelayState: redirectRequest(url).query.RelayState! };
}

async function refusal(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(() => { throw new Error('the response was accepted'); }, (e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

const callback = (form: Record<string, string>) => ({ url: ACS_URL, form });

beforeAll(async () => {
  [idpKeys, otherKeys] = await Promise.all([selfSignedCertificate('idp'), selfSignedCertificate('impostor')]);
  spKeys = await createSpKeys('caregate-clinic');
  store = createMemoryStore();
  idp = samlIdp(idpKeys);
});

afterAll(() => store.close());

describe('createSamlConnector: start', () => {
  it('sends a signed AuthnRequest over HTTP-Redirect carrying the state, and remembers its ID', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 'st-123_ABC' });
    const { query } = redirectRequest(url);
    expect(url.startsWith(`${SSO_URL}?`)).toBe(true);
    expect(query.RelayState).toBe('st-123_ABC');
    expect(query.SigAlg).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(transaction).toEqual({ requestId: expect.stringMatching(/^_[0-9a-f]{40}$/), state: 'st-123_ABC' });
    // samlify verifies the signature with the certificate in the connector's metadata.
    const { extract } = await idp.parseLoginRequest(ServiceProvider({ metadata: sut.metadata() }), 'redirect', redirectRequest(url));
    expect(extract.request.id).toBe(transaction.requestId);
    expect(await store.get(`samlfed:t-1:clinic:${transaction.requestId}`)).toBeDefined();
  });

  it('refuses a state that would not survive the redirect unchanged (the signature covers it)', async () => {
    await expect(connector().start({ state: "it's (not) ~safe" })).rejects.toThrow(/base64url/);
    await expect(connector().start({ state: 'x'.repeat(81) })).rejects.toThrow(/base64url/);
  });

  it('sends an unsigned request when signRequests is off, and refuses to start without an SP key when it is on', async () => {
    const { url } = await connector({ signRequests: false }, {}).start({ state: 's' });
    expect(new URL(url).searchParams.has('Signature')).toBe(false);
    expect((await refusal(connector({}, {}).start({ state: 's' }))).detail).toMatch(/no SP key/);
  });

  it('passes login_hint to Entra ID only', async () => {
    expect(new URL((await connector({ preset: 'entra' }).start({ state: 's', loginHint: 'ada@clinic.example' })).url).searchParams.get('login_hint')).toBe('ada@clinic.example');
    expect(new URL((await connector().start({ state: 's', loginHint: 'ada@clinic.example' })).url).searchParams.has('login_hint')).toBe(false);
  });
});

describe('createSamlConnector: finish', () => {
  it('accepts a signed response to its own request: subject, email, names, groups, every attribute', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 'st-ok' });
    const identity = await sut.finish(callback(await signIn(sut, url)), transaction);
    expect(identity).toEqual({
      upstream: 'federation:clinic',
      subject: '00u1ada0lovelace',
      email: 'ada.lovelace@clinic.example',
      emailVerified: true,
      username: undefined,
      displayName: 'Ada Lovelace',
      phone: undefined,
      attributes: expect.objectContaining({ email: ['Ada.Lovelace@Clinic.example'], groups: ['nurses', 'icu'], 'urn:oid:2.5.4.11': ['Cardiology'], department: ['Cardiology'] }),
      mfa: false,
    });
  });

  it('reads attributes by the connection’s names, the email from an emailAddress NameID, and an MFA context', async () => {
    const sut = connector({ attributes: { groups: ['http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'], username: ['upn'] } });
    const { url, transaction } = await sut.start({ state: 's' });
    const response = await signIn(sut, url, {
      nameId: 'ada@clinic.example',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      authnContext: 'https://refeds.org/profile/mfa',
      attributes: [
        { name: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups', values: ['7f3c-guid'] },
        { name: 'groups', values: ['ignored'] },
        { name: 'upn', values: ['ada@clinic.onmicrosoft.example'] },
      ],
    });
    const identity = await sut.finish(callback(response), transaction);
    expect(identity).toMatchObject({ subject: 'ada@clinic.example', email: 'ada@clinic.example', username: 'ada@clinic.onmicrosoft.example', mfa: true });
    expect(identity.attributes.groups).toEqual(['7f3c-guid']);
  });

  it('refuses an assertion changed after signing (department edited) as invalid_signature', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    const response = await signIn(sut, url);
    const tampered = Buffer.from(Buffer.from(response.SAMLResponse, 'base64').toString('utf8').replace('Cardiology', 'Administration')).toString('base64');
    expect((await refusal(sut.finish(callback({ ...response, SAMLResponse: tampered }), transaction))).reason).toBe('invalid_signature');
  });

  it('refuses a response signed by a key that is not among idpCertificates as invalid_signature', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    const response = await signIn(sut, url, {}, { by: samlIdp(otherKeys) });
    expect((await refusal(sut.finish(callback(response), transaction))).reason).toBe('invalid_signature');
  });

  it('refuses an unsigned assertion as invalid_signature, whether the response is unsigned or signed', async () => {
    const sut = connector();
    const first = await sut.start({ state: 's' });
    const unsigned = await signIn(sut, first.url, {}, { sign: false });
    expect((await refusal(sut.finish(callback(unsigned), first.transaction))).reason).toBe('invalid_signature');
    // An SP that does not want signed assertions makes samlify sign only the Response element.
    const second = await sut.start({ state: 's' });
    const responseSignedOnly = await signIn(sut, second.url, {}, { spMetadata: sut.metadata().replace('WantAssertionsSigned="true"', 'WantAssertionsSigned="false"') });
    expect(Buffer.from(responseSignedOnly.SAMLResponse, 'base64').toString()).toMatch(/<\/saml:Issuer><ds:Signature/);
    expect((await refusal(sut.finish(callback(responseSignedOnly), second.transaction))).reason).toBe('invalid_signature');
  });

  it('refuses an assertion for another audience as wrong_audience', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    const response = await signIn(sut, url, { audience: 'https://another-sp.example/saml' });
    expect((await refusal(sut.finish(callback(response), transaction))).reason).toBe('wrong_audience');
  });

  it('refuses a response or assertion issued by another entity, even when signed with the trusted key, as wrong_issuer', async () => {
    const sut = connector();
    const first = await sut.start({ state: 's' });
    const response = await signIn(sut, first.url, { issuer: 'https://evil.example/saml' });
    expect((await refusal(sut.finish(callback(response), first.transaction))).detail).toMatch(/^Response Issuer/);
    // node-saml 5 compares idpIssuer on logout messages only: the signed assertion's Issuer is ours to check.
    const second = await sut.start({ state: 's' });
    const assertion = await signIn(sut, second.url, { issuer: 'https://evil.example/saml', responseIssuer: IDP_ENTITY });
    const error = await refusal(sut.finish(callback(assertion), second.transaction));
    expect([error.reason, error.detail]).toEqual(['wrong_issuer', expect.stringMatching(/^Assertion Issuer/)]);
  });

  it('refuses a bearer assertion addressed to another ACS (Recipient) as wrong_audience', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    const response = await signIn(sut, url, { recipient: 'https://another-sp.example/acs' });
    expect((await refusal(sut.finish(callback(response), transaction))).detail).toMatch(/Recipient/);
  });

  it('refuses the same response posted twice as replayed', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    const response = await signIn(sut, url);
    await sut.finish(callback(response), transaction);
    const error = await refusal(sut.finish(callback(response), transaction));
    expect(error.reason).toBe('replayed');
    expect(error.detail).toMatch(/InResponseTo is not valid/);
  });

  it('lets only one of two concurrent posts of a response through', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    const response = await signIn(sut, url);
    const results = await Promise.allSettled([sut.finish(callback(response), transaction), sut.finish(callback(response), transaction)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as UpstreamError).reason).toBe('replayed');
  });

  it('refuses an unsolicited (IdP-initiated) response and one answering an unknown request as replayed', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    expect((await refusal(sut.finish(callback(await signIn(sut, url, { inResponseTo: null })), transaction))).reason).toBe('replayed');
    const again = await sut.start({ state: 's' });
    expect((await refusal(sut.finish(callback(await signIn(sut, again.url, { inResponseTo: '_never-sent' })), again.transaction))).reason).toBe('replayed');
    // Even when the transaction names the unknown ID: node-saml's request cache does not know it.
    const third = await sut.start({ state: 's' });
    const forged = await signIn(sut, third.url, { inResponseTo: '_never-sent' });
    expect((await refusal(sut.finish(callback(forged), { ...third.transaction, requestId: '_never-sent' }))).detail).toMatch(/InResponseTo is not valid/);
  });

  it.each([
    ['the Conditions', { notBefore: new Date(Date.now() - 1_200_000), notOnOrAfter: new Date(Date.now() - 600_000) }],
    ['the SubjectConfirmationData', { subjectNotOnOrAfter: new Date(Date.now() - 600_000) }],
    ['the Conditions (not yet valid)', { notBefore: new Date(Date.now() + 600_000) }],
  ])('refuses an assertion outside %s validity window (past the clock skew) as expired', async (_, facts) => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    expect((await refusal(sut.finish(callback(await signIn(sut, url, facts)), transaction))).reason).toBe('expired');
  });

  it('refuses a RelayState that is not this sign-in’s state as state_mismatch', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    const response = await signIn(sut, url);
    expect((await refusal(sut.finish(callback({ ...response, RelayState: 'other' }), transaction))).reason).toBe('state_mismatch');
  });

  it('refuses a transient NameID, which cannot link a person to an account', async () => {
    const sut = connector();
    const { url, transaction } = await sut.start({ state: 's' });
    const error = await refusal(sut.finish(callback(await signIn(sut, url, { nameIdFormat: TRANSIENT })), transaction));
    expect([error.reason, error.detail]).toEqual(['invalid_response', expect.stringMatching(/transient/)]);
  });

  it('reports an IdP refusal (Responder/AuthnFailed) as access_denied and other statuses as upstream_error', async () => {
    const sut = connector();
    const status = (inner: string) => Buffer.from(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0" IssueInstant="${new Date().toISOString()}"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder">${inner}</samlp:StatusCode></samlp:Status></samlp:Response>`).toString('base64');
    const { transaction } = await sut.start({ state: 's' });
    const denied = await refusal(sut.finish(callback({ SAMLResponse: status('<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/>'), RelayState: 's' }), transaction));
    expect([denied.reason, denied.detail]).toEqual(['access_denied', expect.stringMatching(/AuthnFailed/)]);
    expect((await refusal(sut.finish(callback({ SAMLResponse: status(''), RelayState: 's' }), transaction))).reason).toBe('upstream_error');
  });

  it('refuses a response with a DOCTYPE, or that is not base64 XML, as invalid_response', async () => {
    const sut = connector();
    const { transaction } = await sut.start({ state: 's' });
    const doctype = Buffer.from('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&e;</samlp:Response>').toString('base64');
    expect((await refusal(sut.finish(callback({ SAMLResponse: doctype, RelayState: 's' }), transaction))).reason).toBe('invalid_response');
    expect((await refusal(sut.finish(callback({ SAMLResponse: '%%%', RelayState: 's' }), transaction))).reason).toBe('invalid_response');
  });
});

describe('createSamlConnector: metadata and test', () => {
  it('publishes SP metadata with its entity ID, ACS, signing certificate and signed-assertion wish', () => {
    const xml = connector().metadata();
    expect(xml).toContain(`entityID="${SP_ENTITY}"`);
    expect(xml).toContain(`Location="${ACS_URL}"`);
    expect(xml).toContain('AuthnRequestsSigned="true"');
    expect(xml).toContain('WantAssertionsSigned="true"');
    expect(xml.replace(/\s+/g, '')).toContain(spKeys.spCertificate!);
  });

  describe('test()', () => {
    let server: Server;
    let ssoUrl: string;
    beforeAll(async () => {
      server = createServer((_, res) => res.writeHead(400).end('no SAMLRequest'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      ssoUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sso`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('checks the certificates, reaches the SSO endpoint (any HTTP answer) and matches the SP key to its certificate', async () => {
      const findings = await connector({ ssoUrl }).test();
      expect(findings).toEqual([
        { check: 'idp certificate 1', ok: true, detail: expect.stringMatching(/CN=idp: valid until .* \(0 days left\)/) },
        { check: 'sso endpoint', ok: true, detail: `${ssoUrl} answered HTTP 400` },
        { check: 'sp signing key', ok: true, detail: expect.stringMatching(/signed/) },
      ]);
    });

    it('reports an unreachable SSO endpoint, and an SP certificate that is not the key’s', async () => {
      const closed = `http://127.0.0.1:9/sso`;
      const findings = await connector({ ssoUrl: closed }, { ...spKeys, spCertificate: otherKeys.body }).test();
      expect(findings.find((f) => f.check === 'sso endpoint')).toMatchObject({ ok: false, detail: expect.stringMatching(/could not be reached/) });
      expect(findings.find((f) => f.check === 'sp signing key')).toMatchObject({ ok: false, detail: expect.stringMatching(/does not belong/) });
    });
  });
});
