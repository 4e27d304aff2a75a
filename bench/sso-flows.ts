// Single sign-on with a browser that is already signed in — what most SSO traffic is: the user
// opens another application. No password is checked, so the cost is the protocol itself:
//   OIDC: authorize → code at the callback → token (ID token and access token signed);
//   SAML: AuthnRequest (HTTP-Redirect) → /saml/sso → /auth → /saml/continue → the page that posts
//         the Response (response and assertion each signed, RSA-SHA256, exclusive c14n).
// Each virtual user is one browser with its own sign-on session (its own account).
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { CookieJar, loginFlow, ssoCodeFlow, type Credentials, type RelyingParty } from './login-flow.ts';

export interface SamlTarget {
  issuer: string;
  entityId: string;
  acsUrl: string;
}

/** A browser signed in as `user` (a full password sign-in, outside any timing). */
export async function signedInBrowser(rp: RelyingParty, user: Credentials): Promise<CookieJar> {
  const jar = new CookieJar();
  await loginFlow(rp, user, jar);
  return jar;
}

/** One OIDC code flow for a signed-in browser; throws unless tokens come back without a login page. */
export const oidcSso = (rp: RelyingParty, jar: CookieJar) => ssoCodeFlow(rp, jar);

function authnRequest(sp: SamlTarget): string {
  const id = `_${randomBytes(16).toString('hex')}`;
  const xml =
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
    `ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${sp.issuer}/saml/sso" ` +
    `AssertionConsumerServiceURL="${sp.acsUrl}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
    `<saml:Issuer>${sp.entityId}</saml:Issuer></samlp:AuthnRequest>`;
  return deflateRawSync(xml).toString('base64');
}

async function hop(jar: CookieJar, url: string): Promise<{ status: number; location?: string; body: string }> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(), accept: 'text/html' } });
  jar.store(res);
  const location = res.headers.get('location');
  return { status: res.status, location: location ? new URL(location, url).href : undefined, body: await res.text() };
}

/** One SAML SSO for a signed-in browser; throws unless a signed Success response comes back. */
export async function samlSso(sp: SamlTarget, jar: CookieJar): Promise<void> {
  const relayState = randomBytes(6).toString('hex');
  let page = await hop(jar, `${sp.issuer}/saml/sso?SAMLRequest=${encodeURIComponent(authnRequest(sp))}&RelayState=${relayState}`);
  for (let hops = 0; page.location && hops < 4; hops++) {
    if (page.location.includes('/interaction/')) throw new Error('SAML SSO: the signed-in browser was sent to the login page');
    page = await hop(jar, page.location);
  }
  const value = /name="SAMLResponse" value="([^"]+)"/.exec(page.body)?.[1];
  if (page.status !== 200 || !value) throw new Error(`SAML SSO: expected the response page, got HTTP ${page.status} ${page.body.slice(0, 200)}`);
  const xml = Buffer.from(value, 'base64').toString('utf8');
  if (!xml.includes('status:Success') || (xml.match(/<ds:SignatureValue>/g) ?? []).length !== 2) throw new Error('SAML SSO: the response is not a signed success');
  if (!page.body.includes(`value="${relayState}"`)) throw new Error('SAML SSO: RelayState was not returned');
}
