// An upstream SAML 2.0 identity provider for the federation tests, standing in for Okta, Entra ID,
// ADFS or Shibboleth: samlify 2.13.1 behind an HTTP server on 127.0.0.1. Its SSO endpoint takes the
// HTTP-Redirect binding: it verifies the signed AuthnRequest against the SP metadata it was given
// (fetched from the SP's metadata URL, as an admin uploads it), "signs in" the configured user, and
// answers like a real IdP with an auto-post HTML form to the SP's registered ACS carrying
// SAMLResponse and RelayState. Faults: an attribute changed after signing, another signing key,
// another audience, a Responder/AuthnFailed status, an unsigned assertion; and an IdP-initiated
// (unsolicited) response from its "app launcher", with no InResponseTo and no RelayState.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { selfSignedCertificate } from './self-signed-certificate.ts';

/** The part of samlify used here (its bundled typings break the project's type check: loaded untyped). */
interface Samlify {
  setSchemaValidator(validator: { validate: (xml: string) => Promise<string> }): void;
  Constants: { namespace: { binding: { redirect: string } } };
  IdentityProvider(settings: Record<string, unknown>): SamlifyIdp;
  ServiceProvider(settings: { metadata: string }): SamlifySp;
}
interface SamlifySp {
  /** getAssertionConsumerService takes samlify's binding key ('post'), not the URN. */
  entityMeta: { getEntityID(): string; getAssertionConsumerService(binding: 'post'): string };
}
interface SamlifyIdp {
  getMetadata(): string;
  parseLoginRequest(sp: SamlifySp, binding: 'redirect', request: { query: Record<string, string>; octetString: string }): Promise<{ extract: { request: { id: string } } }>;
  createLoginResponse(sp: SamlifySp, requestInfo: object, binding: 'post', user: object, render: (template: string) => { id: string; context: string }): Promise<{ context: string }>;
}
const samlify = createRequire(import.meta.url)('samlify') as Samlify;
// samlify's schema validators need Java or a native module; Caregate (node-saml) checks the responses.
samlify.setSchemaValidator({ validate: async () => 'skipped' });

const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const PASSWORD_CONTEXT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';

/** The person the IdP signs in: a persistent NameID and the attributes its application profile sends. */
export interface SamlUser {
  nameId: string;
  email?: string;
  givenName?: string;
  surname?: string;
  groups?: string[];
  /** Further attributes, by Name. */
  attributes?: Record<string, string[]>;
}

export interface SamlFaults {
  /** After signing, the named attribute's values are replaced (the signature no longer matches). */
  tamper?: { attribute: string; values: string[] };
  /** The assertion is signed with a key that is not the one in the IdP's metadata. */
  wrongKey: boolean;
  /** The assertion is for this audience (signed with the real key). */
  audience?: string;
  /** The IdP refuses: Responder with this second-level code, unsigned, no assertion. */
  status?: 'AuthnFailed' | 'RequestDenied';
  /** The assertion is sent without any signature. */
  unsigned: boolean;
}

export interface UpstreamSaml {
  entityId: string;
  ssoUrl: string;
  /** The IdP's metadata (EntityDescriptor with its signing certificate and HTTP-Redirect SSO). */
  metadata: string;
  /** The signing certificate, base64 DER. */
  certificate: string;
  /** Registers a service provider from its metadata URL (fetched now), as an admin does at the IdP. */
  trust(spMetadataUrl: string): Promise<void>;
  /** Who is signed in at the IdP; undefined: the IdP answers AuthnFailed. */
  user?: SamlUser;
  faults: SamlFaults;
  /** IdP-initiated sign-in (the IdP's app launcher): a page that posts an unsolicited response to the SP. */
  launchUrl(spEntityId: string): string;
  stop(): Promise<void>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const page = (res: ServerResponse, status: number, html: string) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);

/** What a real IdP returns: a form the browser's script posts at once. */
const autoPost = (acs: string, fields: Record<string, string>) =>
  `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${esc(acs)}">${Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${esc(value)}">`)
    .join('')}<noscript><button type="submit">Continue</button></noscript></form></body></html>`;

const attributeXml = (attributes: Record<string, string[]>) =>
  Object.entries(attributes)
    .filter(([, values]) => values.length)
    .map(([name, values]) => `<saml:Attribute Name="${esc(name)}">${values.map((v) => `<saml:AttributeValue>${esc(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
    .join('');

interface Facts {
  id: string;
  acs: string;
  issuer: string;
  audience: string;
  inResponseTo?: string;
  user: SamlUser;
}

function responseXml(f: Facts): string {
  const now = new Date();
  const later = new Date(now.getTime() + 300_000).toISOString();
  const inResponseTo = f.inResponseTo ? ` InResponseTo="${esc(f.inResponseTo)}"` : '';
  const { user } = f;
  const attributes = attributeXml({ email: user.email ? [user.email] : [], givenName: user.givenName ? [user.givenName] : [], sn: user.surname ? [user.surname] : [], groups: user.groups ?? [], ...user.attributes });
  return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${f.id}" Version="2.0" IssueInstant="${now.toISOString()}" Destination="${esc(f.acs)}"${inResponseTo}><saml:Issuer>${esc(f.issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a${f.id.slice(1)}" Version="2.0" IssueInstant="${now.toISOString()}"><saml:Issuer>${esc(f.issuer)}</saml:Issuer><saml:Subject><saml:NameID Format="${PERSISTENT}">${esc(user.nameId)}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${later}" Recipient="${esc(f.acs)}"${inResponseTo}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="${new Date(now.getTime() - 60_000).toISOString()}" NotOnOrAfter="${later}"><saml:AudienceRestriction><saml:Audience>${esc(f.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_a${f.id.slice(1)}"><saml:AuthnContext><saml:AuthnContextClassRef>${PASSWORD_CONTEXT}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion></samlp:Response>`;
}

/** A refusal as IdPs send it: a status, no assertion, no signature. */
const statusXml = (f: Omit<Facts, 'user' | 'audience'>, code: string) =>
  `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${f.id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${esc(f.acs)}"${f.inResponseTo ? ` InResponseTo="${esc(f.inResponseTo)}"` : ''}><saml:Issuer>${esc(f.issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:${code}"/></samlp:StatusCode><samlp:StatusMessage>The user could not be authenticated</samlp:StatusMessage></samlp:Status></samlp:Response>`;

/** Replaces an attribute's values in the (signed) XML. */
function tamper(xml: string, { attribute, values }: NonNullable<SamlFaults['tamper']>): string {
  const pattern = new RegExp(`(<saml:Attribute Name="${attribute}"[^>]*>)[\\s\\S]*?(</saml:Attribute>)`);
  if (!pattern.test(xml)) throw new Error(`tamper: the response has no attribute ${attribute}`);
  return xml.replace(pattern, (_, open: string, close: string) => `${open}${values.map((v) => `<saml:AttributeValue>${esc(v)}</saml:AttributeValue>`).join('')}${close}`);
}

export async function startUpstreamSaml(): Promise<UpstreamSaml> {
  const [keys, otherKeys] = await Promise.all([selfSignedCertificate('upstream-idp'), selfSignedCertificate('impostor')]);
  const sps = new Map<string, SamlifySp>();
  let ids = 0;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => page(res, 500, `<p>IdP error: ${esc(error.message)}</p>`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entityId = `${origin}/saml`;
  const ssoUrl = `${origin}/sso`;

  const samlIdp = (k: { key: string; cert: string }) =>
    samlify.IdentityProvider({
      entityID: entityId, privateKey: k.key, signingCert: k.cert, wantAuthnRequestsSigned: true,
      nameIDFormat: [PERSISTENT],
      singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: ssoUrl }],
      loginResponseTemplate: { context: '', attributes: [] },
    });
  const idp = samlIdp(keys);
  const impostor = samlIdp(otherKeys);

  const self: UpstreamSaml = {
    entityId, ssoUrl, metadata: idp.getMetadata(), certificate: keys.body,
    user: undefined,
    faults: { wrongKey: false, unsigned: false },
    async trust(spMetadataUrl) {
      const response = await fetch(spMetadataUrl);
      if (!response.ok) throw new Error(`SP metadata at ${spMetadataUrl}: HTTP ${response.status}`);
      const sp = samlify.ServiceProvider({ metadata: await response.text() });
      sps.set(sp.entityMeta.getEntityID(), sp);
    },
    launchUrl: (spEntityId) => `${origin}/launch?sp=${encodeURIComponent(spEntityId)}`,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };

  /** The response to `inResponseTo` (none: unsolicited), shaped by the faults, base64 as posted. */
  async function respond(sp: SamlifySp, inResponseTo: string | undefined, extract: object): Promise<string> {
    const acs = sp.entityMeta.getAssertionConsumerService('post');
    const id = `_r${(++ids).toString(16)}${Date.now().toString(16)}`;
    const { faults, user } = self;
    if (faults.status || !user) return Buffer.from(statusXml({ id, acs, issuer: entityId, inResponseTo }, faults.status ?? 'AuthnFailed')).toString('base64');
    const facts: Facts = { id, acs, issuer: entityId, audience: faults.audience ?? sp.entityMeta.getEntityID(), inResponseTo, user };
    if (faults.unsigned) return Buffer.from(responseXml(facts)).toString('base64');
    const signer = faults.wrongKey ? impostor : idp;
    const { context } = await signer.createLoginResponse(sp, { extract }, 'post', {}, () => ({ id, context: responseXml(facts) }));
    if (!faults.tamper) return context;
    return Buffer.from(tamper(Buffer.from(context, 'base64').toString('utf8'), faults.tamper)).toString('base64');
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url!, origin);
    if (req.method === 'GET' && url.pathname === '/sso') {
      // samlify verifies the signature over the query exactly as sent (SAML Bindings §3.4.4.1).
      const search = req.url!.slice(req.url!.indexOf('?') + 1);
      const query = Object.fromEntries(new URLSearchParams(search));
      if (!query.SAMLRequest) return page(res, 400, '<p>No SAMLRequest.</p>');
      const issuer = /<(?:\w+:)?Issuer[^>]*>([^<]+)</.exec(inflateRawSync(Buffer.from(query.SAMLRequest, 'base64')).toString('utf8'))?.[1];
      const sp = issuer ? sps.get(issuer) : undefined;
      if (!sp) return page(res, 400, `<p>Unknown service provider ${esc(issuer ?? '(none)')}.</p>`);
      const octetString = search.split('&').filter((p) => /^(SAMLRequest|RelayState|SigAlg)=/.test(p)).join('&');
      let extract: { request: { id: string } };
      try {
        ({ extract } = await idp.parseLoginRequest(sp, 'redirect', { query, octetString }));
      } catch (error) {
        return page(res, 400, `<p>The AuthnRequest was refused: ${esc(String((error as Error).message ?? error))}</p>`);
      }
      const acs = sp.entityMeta.getAssertionConsumerService('post');
      const SAMLResponse = await respond(sp, extract.request.id, extract);
      return page(res, 200, autoPost(acs, { SAMLResponse, ...(query.RelayState ? { RelayState: query.RelayState } : {}) }));
    }
    if (req.method === 'GET' && url.pathname === '/launch') {
      const sp = sps.get(url.searchParams.get('sp') ?? '');
      if (!sp) return page(res, 404, '<p>No such application.</p>');
      const acs = sp.entityMeta.getAssertionConsumerService('post');
      return page(res, 200, autoPost(acs, { SAMLResponse: await respond(sp, undefined, {}) }));
    }
    page(res, 404, '<p>Not found.</p>');
  }

  return self;
}
