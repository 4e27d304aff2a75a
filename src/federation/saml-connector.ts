// An upstream SAML 2.0 identity provider (Okta, Entra ID, Google Workspace, ADFS, Shibboleth…) with
// node-saml as the service provider: a signed AuthnRequest over HTTP-Redirect, and a response
// checked for its signed assertion, issuer, audience, recipient, validity window and a single-use
// InResponseTo that answers this browser's own request. The assertion is then read into one
// UpstreamIdentity by the connection's attribute names.
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { SAML, ValidateInResponseTo, type CacheProvider, type SamlConfig } from '@node-saml/node-saml';
import type { EphemeralStore } from '../ephemeral/index.ts';
import { attr, child, children, decodeMessage, NAME_ID_FORMATS, NS, parseXml, pem, text } from '../saml/index.ts';
import type { Connection } from '../storage/index.ts';
import { UpstreamError, type CallbackConnector, type TestFinding, type UpstreamIdentity } from '../upstream/index.ts';
import { SAML_ATTRIBUTE_DEFAULTS, type ConnectionSecrets, type SamlConnectionSettings } from './connection-settings.ts';
import { checkStatus, toSamlUpstreamError } from './saml-errors.ts';

export interface SamlConnectorDeps {
  /** Where the IdP posts its responses (Caregate's ACS for this connection). */
  acsUrl: string;
  spEntityId: string;
  /** request-ID cache for InResponseTo (replay): */
  ephemeral: EphemeralStore;
  tenantId: string;
}

/** How long a sign-in may take at the IdP: the request ID is forgotten after that. */
const REQUEST_TTL_SECONDS = 600;
const PROBE_TIMEOUT_MS = 5000;
const MFA_CONTEXTS = new Set([
  'https://refeds.org/profile/mfa',
  'http://schemas.microsoft.com/claims/multipleauthn',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
]);
// Entra reports MFA in this attribute; its AuthnContextClassRef stays PasswordProtectedTransport.
const ENTRA_AUTHN_METHODS = 'http://schemas.microsoft.com/claims/authnmethodsreferences';
const GIVEN_NAME = ['givenName', 'urn:oid:2.5.4.42', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname'];
const SURNAME = ['sn', 'surname', 'urn:oid:2.5.4.4', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname'];

const str = (v: string | undefined) => (v ? v.slice(0, 512) : undefined);

/** Every attribute by its Name, and by its FriendlyName when it has one, as lists of strings. */
function readAttributes(assertion: Element): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string | undefined, values: string[]) => {
    if (name) out.set(name, [...(out.get(name) ?? []), ...values].slice(0, 2000));
  };
  for (const statement of children(assertion, NS.assertion, 'AttributeStatement')) {
    for (const attribute of children(statement, NS.assertion, 'Attribute')) {
      const values = children(attribute, NS.assertion, 'AttributeValue').map((v) => text(v)).filter((v): v is string => !!v);
      if (!values.length) continue;
      const name = attr(attribute, 'Name');
      const friendly = attr(attribute, 'FriendlyName');
      add(name, values);
      if (friendly !== name) add(friendly, values);
    }
  }
  return out;
}

export function createSamlConnector(connection: Connection, settings: SamlConnectionSettings, secrets: ConnectionSecrets, deps: SamlConnectorDeps): CallbackConnector & { metadata(): string } {
  const keyPrefix = `samlfed:${deps.tenantId}:${connection.key}:`;
  const signing = settings.signRequests && secrets.spKeyPem ? { privateKey: secrets.spKeyPem, ...(secrets.spCertificate ? { publicCert: pem(secrets.spCertificate) } : {}) } : {};

  /**
   * node-saml's request-ID cache on the ephemeral store, one per call. node-saml reads the ID, then
   * removes it; `claimed` records that this call's removal is the one that took it, so two
   * concurrent posts of one response cannot both pass (get-then-remove alone is not atomic).
   */
  function requestCache() {
    const cache = {
      claimed: false,
      provider: {
        async saveAsync(key, value) {
          await deps.ephemeral.set(keyPrefix + key, value, REQUEST_TTL_SECONDS);
          return { value, createdAt: Date.now() };
        },
        async getAsync(key) {
          return (await deps.ephemeral.get(keyPrefix + key)) ?? null;
        },
        async removeAsync(key) {
          if (!key) return null;
          const value = await deps.ephemeral.take(keyPrefix + key);
          if (value !== undefined) cache.claimed = true;
          return value ?? null;
        },
      } satisfies CacheProvider,
    };
    return cache;
  }

  function sp(cacheProvider: CacheProvider, requestId?: string): SAML {
    const options: SamlConfig = {
      entryPoint: settings.ssoUrl,
      issuer: deps.spEntityId,
      callbackUrl: deps.acsUrl,
      audience: deps.spEntityId,
      idpCert: settings.idpCertificates.map(pem),
      // node-saml 5 compares idpIssuer on logout messages only; the assertion's Issuer is checked in finish.
      idpIssuer: settings.idpEntityId,
      identifierFormat: NAME_ID_FORMATS[settings.nameIdFormat],
      // The assertion's own signature is what vouches for the person; Entra and Okta sign only it by default.
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: REQUEST_TTL_SECONDS * 1000,
      acceptedClockSkewMs: settings.clockSkewSeconds * 1000,
      // Otherwise node-saml asks for exactly PasswordProtectedTransport, which Entra refuses
      // (AADSTS75011) for a person who signed in with MFA, a passkey or Windows integrated auth.
      disableRequestedAuthnContext: true,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
      cacheProvider,
      ...(requestId ? { generateUniqueId: () => requestId } : {}),
      ...signing,
    };
    return new SAML(options);
  }

  /** Reads the response through Caregate's safe XML intake (size limit, no DOCTYPE) before node-saml sees it. */
  function readResponse(form: Record<string, string>): Element {
    const root = parseXml(decodeMessage(form.SAMLResponse, false)).documentElement!;
    if (root.namespaceURI !== NS.protocol || root.localName !== 'Response') throw new UpstreamError('invalid_response', `expected a samlp:Response, got <${root.tagName}>`);
    return root;
  }

  /** The Issuer must be the configured IdP's entity ID; the Response's own is optional (SAML Core §3.2.2). */
  function checkIssuer(issuer: string | undefined, where: string, required: boolean) {
    if (issuer === undefined && !required) return;
    if (issuer !== settings.idpEntityId) throw new UpstreamError('wrong_issuer', `${where} Issuer ${issuer ?? '(none)'}; expected ${settings.idpEntityId}`);
  }

  /** Reads the person from the verified assertion (the signed bytes node-saml returned, nothing else). */
  function identityOf(assertionXml: string): UpstreamIdentity {
    const assertion = parseXml(assertionXml).documentElement!;
    checkIssuer(text(child(assertion, NS.assertion, 'Issuer')), 'Assertion', true);
    const subject = child(assertion, NS.assertion, 'Subject');
    // A bearer assertion names where it may be delivered (Profiles §4.1.4.2): an assertion for another SP's ACS is not ours.
    const recipients = (subject ? children(subject, NS.assertion, 'SubjectConfirmation') : [])
      .map((c) => child(c, NS.assertion, 'SubjectConfirmationData'))
      .map((d) => d && attr(d, 'Recipient'))
      .filter((r): r is string => r !== undefined);
    if (recipients.length && !recipients.includes(deps.acsUrl)) throw new UpstreamError('wrong_audience', `assertion Recipient ${recipients.join(', ')}; expected ${deps.acsUrl}`);

    const nameId = subject && child(subject, NS.assertion, 'NameID');
    const nameIdValue = text(nameId);
    const format = nameId && attr(nameId, 'Format');
    if (!nameIdValue) throw new UpstreamError('invalid_response', 'the assertion has no NameID');
    // A transient NameID changes at every sign-in: it cannot link a person to an account.
    if (format === NAME_ID_FORMATS.transient) throw new UpstreamError('invalid_response', 'the IdP sent a transient NameID; configure a persistent (or email) NameID for this application');

    const found = readAttributes(assertion);
    const names = (fact: keyof typeof SAML_ATTRIBUTE_DEFAULTS) => settings.attributes[fact] ?? SAML_ATTRIBUTE_DEFAULTS[fact];
    const first = (list: readonly string[]) => list.map((n) => found.get(n)?.[0]).find(Boolean);
    const groups = [...new Set(names('groups').flatMap((n) => found.get(n) ?? []))];
    const email = first(names('email')) ?? (format === NAME_ID_FORMATS.email ? nameIdValue : undefined);
    const fullName = [first(GIVEN_NAME), first(SURNAME)].filter(Boolean).join(' ');
    const authn = children(assertion, NS.assertion, 'AuthnStatement')
      .map((s) => child(s, NS.assertion, 'AuthnContext'))
      .map((c) => text(c && child(c, NS.assertion, 'AuthnContextClassRef')))
      .filter((c): c is string => !!c);
    return {
      upstream: `federation:${connection.key}`,
      subject: nameIdValue,
      email: str(email)?.toLowerCase(),
      // The assertion is signed by the IdP this connection trusts: its word on the address is the
      // organisation's, as a directory's would be (SAML has no per-claim "verified" flag).
      emailVerified: true,
      username: str(first(names('username'))),
      displayName: str(first(names('displayName')) ?? (fullName || undefined)),
      phone: str(first(names('phone'))),
      attributes: { ...Object.fromEntries(found), groups },
      mfa: [...authn, ...(found.get(ENTRA_AUTHN_METHODS) ?? [])].some((c) => MFA_CONTEXTS.has(c)),
    };
  }

  async function probeSsoUrl(): Promise<TestFinding> {
    try {
      const response = await fetch(settings.ssoUrl, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await response.body?.cancel();
      // Any HTTP answer will do: without a SAMLRequest most IdPs answer 400 or redirect.
      return { check: 'sso endpoint', ok: true, detail: `${settings.ssoUrl} answered HTTP ${response.status}` };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `did not answer within ${PROBE_TIMEOUT_MS / 1000} s` : `could not be reached (${e.cause?.code ?? e.message})`;
      return { check: 'sso endpoint', ok: false, detail: `${settings.ssoUrl} ${why}` };
    }
  }

  function certificateFinding(body: string, index: number): TestFinding {
    const check = `idp certificate ${index + 1}`;
    try {
      const cert = new X509Certificate(Buffer.from(body, 'base64'));
      const subject = cert.subject.replace(/\n/g, ', ');
      const from = new Date(cert.validFrom);
      const to = new Date(cert.validTo);
      const daysLeft = Math.floor((to.getTime() - Date.now()) / 86_400_000);
      if (Date.now() < from.getTime()) return { check, ok: false, detail: `${subject}: not valid before ${from.toISOString()}` };
      if (daysLeft < 0 || Date.now() >= to.getTime()) return { check, ok: false, detail: `${subject}: expired on ${to.toISOString()}` };
      return { check, ok: true, detail: `${subject}: valid until ${to.toISOString()} (${daysLeft} days left)` };
    } catch (error) {
      return { check, ok: false, detail: `not a valid X.509 certificate (${(error as Error).message})` };
    }
  }

  function spKeyFinding(): TestFinding {
    const check = 'sp signing key';
    if (!secrets.spKeyPem || !secrets.spCertificate) return { check, ok: false, detail: 'signRequests is on but the connection has no SP key and certificate' };
    try {
      const fromKey = createPublicKey(createPrivateKey(secrets.spKeyPem)).export({ type: 'spki', format: 'der' });
      const fromCert = new X509Certificate(Buffer.from(secrets.spCertificate, 'base64')).publicKey.export({ type: 'spki', format: 'der' });
      if (!fromKey.equals(fromCert)) return { check, ok: false, detail: 'the SP certificate does not belong to the SP key' };
      return { check, ok: true, detail: 'AuthnRequests are signed (RSA-SHA256) with the key in the SP metadata' };
    } catch (error) {
      return { check, ok: false, detail: `the SP key or certificate cannot be read (${(error as Error).message})` };
    }
  }

  return {
    kind: 'callback',

    async start({ state, loginHint }) {
      // RelayState is signed as node-saml's querystring encodes it, but travels as URLSearchParams and
      // browsers encode it: only unreserved characters survive all three unchanged, and SAML
      // Bindings §3.4.3 caps RelayState at 80 bytes.
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(state)) throw new Error('SAML RelayState must be 1-80 characters of base64url');
      if (settings.signRequests && !secrets.spKeyPem) throw new UpstreamError('upstream_error', 'connection misconfigured: signRequests is on but there is no SP key');
      // An NCName (SAML Core §1.3.4): it may not start with a digit.
      const requestId = `_${randomBytes(20).toString('hex')}`;
      // Entra reads login_hint from the query; other IdPs ignore parameters they do not know, but
      // there is no standard one, so only Entra gets it.
      const additionalParams: Record<string, string> = loginHint && settings.preset === 'entra' ? { login_hint: loginHint } : {};
      const url = await sp(requestCache().provider, requestId).getAuthorizeUrlAsync(state, undefined, { additionalParams });
      return { url, transaction: { requestId, state } };
    },

    async finish(callback, transaction) {
      try {
        // 1. The browser brings back the state this sign-in started with (login CSRF).
        if (!transaction.state || callback.form.RelayState !== transaction.state) throw new UpstreamError('state_mismatch', 'RelayState does not match this sign-in');
        // 2. Safe parsing, then the IdP's status: a refusal is usually unsigned, and says why.
        const response = readResponse(callback.form);
        checkStatus(response);
        checkIssuer(text(child(response, NS.assertion, 'Issuer')), 'Response', false);
        const destination = attr(response, 'Destination');
        if (destination !== undefined && destination !== deps.acsUrl) throw new UpstreamError('wrong_audience', `Response Destination ${destination}; expected ${deps.acsUrl}`);
        // 3. It answers this browser's own request: no IdP-initiated (unsolicited) responses, no one else's.
        const inResponseTo = attr(response, 'InResponseTo');
        if (!inResponseTo) throw new UpstreamError('replayed', 'unsolicited response (no InResponseTo): IdP-initiated sign-in is not accepted');
        if (inResponseTo !== transaction.requestId) throw new UpstreamError('replayed', 'the response answers another sign-in request');
        // 4. node-saml: signed assertion, validity window, audience, request ID known and used up.
        const cache = requestCache();
        const { profile } = await sp(cache.provider).validatePostResponseAsync({ SAMLResponse: callback.form.SAMLResponse! });
        if (!profile?.getAssertionXml) throw new UpstreamError('invalid_response', 'the response carries no assertion');
        if (!cache.claimed) throw new UpstreamError('replayed', 'the request ID was used by a concurrent response');
        // 5. Issuer, recipient and the person, from the signed assertion only.
        return identityOf(profile.getAssertionXml());
      } catch (error) {
        return toSamlUpstreamError(error);
      }
    },

    async test() {
      const findings = settings.idpCertificates.map(certificateFinding);
      findings.push(await probeSsoUrl());
      if (settings.signRequests) findings.push(spKeyFinding());
      return findings;
    },

    metadata() {
      // The SP signing certificate is published only when requests are signed (AuthnRequestsSigned="true").
      return sp(requestCache().provider).generateServiceProviderMetadata(null, secrets.spCertificate ? pem(secrets.spCertificate) : null);
    },
  } satisfies CallbackConnector & { metadata(): string };
}
