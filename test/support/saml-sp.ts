// An independent SAML service provider for tests: node-saml configured with Caregate's published
// certificates, the browser steps of the POST and Redirect bindings, and the audit trail of
// refused messages.
import { createSign, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SAML, type SamlConfig } from '@node-saml/node-saml';
import { SignedXml } from 'xml-crypto';
import type { Agent, Page, PageText } from './browser-agent.ts';
import { formOf } from './browser-agent.ts';
import type { TestCaregate } from './caregate.ts';

export const cli = { type: 'cli' as const, id: 'test' };

/** The signing certificates Caregate's metadata publishes (current first, then next). */
export async function idpCertificates(cg: TestCaregate, tenant = 'demo'): Promise<string[]> {
  const metadata = await (await fetch(`${cg.issuer(tenant)}/saml/metadata`)).text();
  return [...metadata.matchAll(/<md:KeyDescriptor use="signing">\s*<ds:KeyInfo>\s*<ds:X509Data>\s*<ds:X509Certificate>([^<]+)</g)].map((m) => m[1]!);
}

export const NAME_ID = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  email: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
} as const;

/**
 * node-saml's HTTP-POST AuthnRequests: it deflates them unless told not to, though the POST binding
 * (SAML Bindings §3.5.4) carries the XML base64-encoded only — and Caregate reads them by the spec.
 */
export const POST_BINDING = { authnRequestBinding: 'HTTP-POST', skipRequestCompression: true } as const;

export interface SpOptions extends Partial<SamlConfig> {
  entityId: string;
  acs: string;
  /** The SP's own Single Logout endpoint (where Caregate sends its LogoutRequests). */
  slo?: string;
}

/**
 * node-saml as the SP: trusts the certificates from Caregate's metadata, wants both the response
 * and the assertion signed, sends its logout messages to Caregate's SLO endpoint.
 */
export async function nodeSamlSp(cg: TestCaregate, { entityId, acs, slo, ...options }: SpOptions): Promise<SAML> {
  return new SAML({
    callbackUrl: acs,
    entryPoint: `${cg.issuer()}/saml/sso`,
    logoutUrl: `${cg.issuer()}/saml/slo`,
    ...(slo ? { logoutCallbackUrl: slo } : {}),
    issuer: entityId,
    idpIssuer: cg.issuer(),
    idpCert: await idpCertificates(cg),
    audience: entityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    identifierFormat: NAME_ID.persistent,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    acceptedClockSkewMs: 5000,
    ...options,
  });
}

const entities: Record<string, string> = { '&amp;': '&', '&quot;': '"', '&#39;': "'", '&#x27;': "'", '&lt;': '<', '&gt;': '>' };
const unescapeHtml = (s: string) => s.replace(/&(amp|quot|#39|#x27|lt|gt);/g, (e) => entities[e]!);

/** The first form of a page with its values unescaped, as a browser would submit them. */
export function postedForm(page: PageText): { action: string; fields: Record<string, string> } {
  const { action, fields } = formOf(page);
  return { action, fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, unescapeHtml(v)])) };
}

export const asksForPassword = (page: Page) => page.html.includes('name="password"');

/**
 * Walks the browser from `start` through Caregate's sign-in (typing the password if asked) to
 * the page that posts the SAML response; says whether the password was asked for.
 */
export async function throughSignIn(agent: Agent, start: Page, username: string, password: string): Promise<{ page: Page; askedPassword: boolean }> {
  const first = await agent.follow(start);
  if (!asksForPassword(first)) return { page: first, askedPassword: false };
  const { action, fields } = formOf(first);
  return { page: await agent.follow(await agent.postForm(action, { ...fields, username, password })), askedPassword: true };
}

/** Sends an HTTP-POST binding form (node-saml's getAuthorizeFormAsync output) from the browser. */
export async function submitForm(agent: Agent, html: string): Promise<Page> {
  const { action, fields } = postedForm({ status: 200, url: 'http://form.invalid/', html });
  return agent.postForm(action, fields);
}

/** The SAMLResponse (or SAMLRequest) a page posts, decoded to XML. */
export const postedXml = (page: Page, field = 'SAMLResponse') => Buffer.from(postedForm(page).fields[field]!, 'base64').toString('utf8');

/** The message of an HTTP-Redirect URL, inflated to XML. */
export function redirectXml(url: string): string {
  const params = new URL(url).searchParams;
  return inflateRawSync(Buffer.from((params.get('SAMLRequest') ?? params.get('SAMLResponse'))!, 'base64')).toString('utf8');
}

/** The ID attribute of a message's root element. */
export const idOf = (xml: string) => /^<[^>]*?\sID="([^"]+)"/.exec(xml.replace(/^<\?xml[^>]*>\s*/, ''))![1]!;

/** An HTTP-Redirect binding query for a hand-made (or altered) message, unsigned. */
export const redirectQuery = (xml: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({ SAMLRequest: deflateRawSync(Buffer.from(xml)).toString('base64'), ...extra }).toString();

/** node-saml's container and raw query for validateRedirectAsync, from the URL the browser was sent to. */
export function redirectContainer(url: string): [Record<string, string>, string] {
  const u = new URL(url);
  return [Object.fromEntries(u.searchParams), u.search.slice(1)];
}

export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const XMLDSIG = {
  sha256: { signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', digest: 'http://www.w3.org/2001/04/xmlenc#sha256' },
  sha1: { signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', digest: 'http://www.w3.org/2000/09/xmldsig#sha1' },
} as const;

/**
 * Signs a message's root element (enveloped, exclusive c14n, signature after the Issuer) the way
 * an SP does for the HTTP-POST binding; node-saml does this only for AuthnRequests.
 */
export function signEnveloped(
  xml: string,
  key: { key: string; cert: string },
  { alg = 'sha256', digest = alg, transforms = [ENVELOPED, EXC_C14N] }: { alg?: keyof typeof XMLDSIG; digest?: keyof typeof XMLDSIG; transforms?: string[] } = {},
): string {
  const sig = new SignedXml({ privateKey: key.key, publicCert: key.cert, signatureAlgorithm: XMLDSIG[alg].signature, canonicalizationAlgorithm: EXC_C14N });
  const root = `/*[@ID='${idOf(xml)}']`;
  sig.addReference({ xpath: root, transforms, digestAlgorithm: XMLDSIG[digest].digest });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: `${root}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const POST_BINDING_URN = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const instant = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
export const newRequestId = () => `_${randomBytes(16).toString('hex')}`;

export interface AuthnRequestFields {
  issuer: string;
  id?: string;
  issueInstant?: Date;
  destination?: string | null;
  acsUrl?: string;
  acsIndex?: number;
  protocolBinding?: string;
  /** XML put after the Issuer (extensions, a NameIDPolicy, an attack). */
  inner?: string;
}

/** A hand-made AuthnRequest, for the messages node-saml will not write (old, misaddressed, hostile). */
export function authnRequestXml(f: AuthnRequestFields): string {
  const attrs = [
    `ID="${f.id ?? newRequestId()}"`, 'Version="2.0"', `IssueInstant="${instant(f.issueInstant ?? new Date())}"`,
    ...(f.destination ? [`Destination="${f.destination}"`] : []),
    ...(f.acsUrl ? [`AssertionConsumerServiceURL="${f.acsUrl}"`] : []),
    ...(f.acsIndex !== undefined ? [`AssertionConsumerServiceIndex="${f.acsIndex}"`] : []),
    `ProtocolBinding="${f.protocolBinding ?? POST_BINDING_URN}"`,
  ];
  return `<samlp:AuthnRequest xmlns:samlp="${PROTOCOL}" xmlns:saml="${ASSERTION}" ${attrs.join(' ')}><saml:Issuer>${f.issuer}</saml:Issuer>${f.inner ?? ''}</samlp:AuthnRequest>`;
}

/** A hand-made LogoutRequest. */
export function logoutRequestXml(f: { issuer: string; nameId: string; sessionIndex?: string; id?: string; destination?: string; notOnOrAfter?: string }): string {
  const optional = `${f.destination ? ` Destination="${f.destination}"` : ''}${f.notOnOrAfter ? ` NotOnOrAfter="${f.notOnOrAfter}"` : ''}`;
  return `<samlp:LogoutRequest xmlns:samlp="${PROTOCOL}" xmlns:saml="${ASSERTION}" ID="${f.id ?? newRequestId()}" Version="2.0" IssueInstant="${instant(new Date())}"${optional}><saml:Issuer>${f.issuer}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${f.nameId}</saml:NameID>${f.sessionIndex ? `<samlp:SessionIndex>${f.sessionIndex}</samlp:SessionIndex>` : ''}</samlp:LogoutRequest>`;
}

/**
 * An HTTP-Redirect query signed the way the binding says (SAML Bindings §3.4.4.1): over
 * `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as sent.
 */
export function signedRedirectQuery(xml: string, key: { key: string }, relayState?: string, alg: keyof typeof XMLDSIG = 'sha256'): string {
  let query = `SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}`;
  if (relayState) query += `&RelayState=${encodeURIComponent(relayState)}`;
  query += `&SigAlg=${encodeURIComponent(XMLDSIG[alg].signature)}`;
  const signature = createSign(alg === 'sha1' ? 'RSA-SHA1' : 'RSA-SHA256').update(query).sign(key.key).toString('base64');
  return `${query}&Signature=${encodeURIComponent(signature)}`;
}

/** The browser posting a message to `url` as the HTTP-POST binding's form would. */
export const postMessage = (agent: Agent, url: string, field: 'SAMLRequest' | 'SAMLResponse', xml: string, relayState?: string) =>
  agent.postForm(url, { [field]: Buffer.from(xml).toString('base64'), ...(relayState ? { RelayState: relayState } : {}) });

/** Audit events of one action, oldest first. */
export async function auditOf(cg: TestCaregate, action: string) {
  return cg.runtime.storage.auditEvents.find({ where: { action }, order: { seq: 'ASC' } });
}

export async function auditCount(cg: TestCaregate): Promise<number> {
  return cg.runtime.storage.auditEvents.count();
}
