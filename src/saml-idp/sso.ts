// Single sign-on: an AuthnRequest from a service provider (or a user starting at Caregate) becomes
// a signed Response posted to the SP's Assertion Consumer Service. Sign-in itself is the tenant's
// OpenID Provider: the browser is sent through `/auth` as the SP's own application (prompt=login
// for ForceAuthn, prompt=none for IsPassive), so passwords, second factors, lockout, session rules
// and the one sign-on session are exactly those of OIDC, and comes back to `/saml/continue`.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import type { Context } from 'koa';
import type { encrypt } from 'xml-encryption';
import { ACR } from '../oidc/index.ts';
import type { User } from '../storage/index.ts';
import {
  attributeFor,
  AUTHN_CONTEXT,
  BINDING,
  buildAssertion,
  buildResponse,
  decodeMessage,
  NAME_ID_FORMATS,
  newId,
  pem,
  pickAcs,
  readAuthnRequest,
  SAML_FACTS,
  SamlError,
  signElement,
  STATUS,
  verifyRedirectSignature,
  verifyRootSignature,
  type AttributeOut,
  type AuthnRequest,
  type NameIdFormat,
  type SamlFact,
} from '../saml/index.ts';
import type { SamlKit, ServiceProvider, OidcSession } from './saml-kit.ts';

// xml-encryption loads with the first encrypted assertion, not at start: most service providers never ask for one.
let encryptXml: ((xml: string, options: Parameters<typeof encrypt>[1]) => Promise<string>) | undefined;
const loadEncrypt = () => (encryptXml ??= promisify((createRequire(import.meta.url)('xml-encryption') as { encrypt: typeof encrypt }).encrypt));

/** A sign-in under way for a service provider, kept while the browser is at the sign-in pages. */
export interface PendingSso {
  clientId: string;
  entityId: string;
  requestId?: string;
  acsUrl: string;
  relayState?: string;
  forceAuthn: boolean;
  isPassive: boolean;
  startedAt: number;
  binding: 'redirect' | 'post' | 'idp-initiated';
  /** The PKCE challenge sent to /auth: only a code issued with it completes this sign-in. */
  codeChallenge?: string;
}

const PENDING_TTL = 30 * 60;
/** How old an AuthnRequest may be (plus the SP's clock skew); its ID is remembered this long. */
const REQUEST_MAX_AGE_SECONDS = 10 * 60;
const pendingKey = (tenantId: string, id: string) => `saml:${tenantId}:pending:${id}`;
const pendingCookie = (id: string) => `caregate.saml.${id.slice(0, 16)}`;

/** Requested authentication contexts that mean "a second factor". */
const MFA_CONTEXTS = new Set<string>([AUTHN_CONTEXT.mfa, ACR.mfa, 'http://schemas.microsoft.com/claims/multipleauthn', 'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract', 'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken']);

export function createSso(kit: SamlKit) {
  const { deps } = kit;

  /**
   * Reads and checks an AuthnRequest from either binding; throws SamlError for anything wrong.
   * `seen` learns the registered SP as soon as it is known, so a refusal's audit event names it.
   */
  async function readRequest(ctx: Context, binding: 'redirect' | 'post', seen: { entityId?: string }): Promise<{ request: AuthnRequest; sp: ServiceProvider; signed: boolean }> {
    const { tenant } = kit.state(ctx);
    const raw = binding === 'redirect' ? ctx.query.SAMLRequest : kit.body(ctx).SAMLRequest;
    const xml = decodeMessage(raw, binding === 'redirect');
    let request = readAuthnRequest(xml);
    const sp = await kit.serviceProvider(tenant.id, request.issuer);
    seen.entityId = sp.saml.entityId;
    const certificates = sp.saml.signingCertificates;
    let signed: boolean;
    if (binding === 'redirect') {
      signed = verifyRedirectSignature(ctx.querystring, ctx.query, 'SAMLRequest', certificates);
    } else {
      const covered = verifyRootSignature(xml, certificates);
      signed = covered !== undefined;
      // Only what the signature covers is read from here on (signature wrapping).
      if (covered !== undefined) request = readAuthnRequest(covered);
    }
    if (!signed && sp.saml.requireSignedRequests) throw new SamlError('unsigned', 'This application must sign its sign-in requests, and this one is not signed.');
    kit.checkDestination(ctx, request.destination, 'sso', signed);
    kit.checkFresh(request.issueInstant, sp.saml.clockSkewSeconds, REQUEST_MAX_AGE_SECONDS);
    if (!(await kit.firstUse(tenant.id, request.issuer, request.id, REQUEST_MAX_AGE_SECONDS + sp.saml.clockSkewSeconds))) {
      throw new SamlError('replayed', 'This sign-in request was already used. Go back to the application and start again.');
    }
    return { request, sp, signed };
  }

  /** Sends the browser through the tenant's sign-in as the SP's application, back to /saml/continue. */
  async function signIn(ctx: Context, pending: PendingSso, mfa: boolean) {
    const { tenant } = kit.state(ctx);
    const id = randomBytes(24).toString('base64url');
    // Caregate never redeems the code; the challenge only ties the code to this pending sign-in.
    pending.codeChallenge = createHash('sha256').update(randomBytes(32)).digest('base64url');
    await deps.ephemeral.set(pendingKey(tenant.id, id), JSON.stringify(pending), PENDING_TTL);
    // Binds the pending sign-in to this browser: a link to /saml/continue is useless elsewhere.
    ctx.cookies.set(pendingCookie(id), '1', { path: `/t/${tenant.slug}/saml`, httpOnly: true, sameSite: 'lax', secure: kit.secure, maxAge: PENDING_TTL * 1000, overwrite: true });
    const params = new URLSearchParams({
      client_id: pending.clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: kit.url(tenant, 'continue'),
      code_challenge: pending.codeChallenge,
      code_challenge_method: 'S256',
      state: id,
      ...(pending.forceAuthn ? { prompt: 'login', max_age: '0' } : pending.isPassive ? { prompt: 'none' } : {}),
      ...(mfa ? { acr_values: ACR.mfa } : {}),
    });
    ctx.status = 303;
    ctx.redirect(`${kit.issuer(tenant)}/auth?${params}`);
  }

  /** GET or POST /saml/sso: an SP-initiated sign-in. */
  async function sso(ctx: Context, binding: 'redirect' | 'post') {
    const seen: { entityId?: string } = {};
    try {
      const { request, sp, signed } = await readRequest(ctx, binding, seen);
      if (request.protocolBinding && request.protocolBinding !== BINDING.post) {
        throw new SamlError('unsupported_binding', 'This application asked for its answer over a binding other than HTTP-POST, which Caregate does not use for sign-in responses.');
      }
      const acs = pickAcs(sp.saml, { url: request.acsUrl, index: request.acsIndex });
      if (!acs) throw new SamlError('unknown_acs', 'This application asked for its answer at an address that is not registered for it.');
      const relayState = kit.relayState(binding === 'redirect' ? ctx.query.RelayState : kit.body(ctx).RelayState);
      const pending: PendingSso = {
        clientId: sp.clientId,
        entityId: sp.saml.entityId,
        requestId: request.id,
        acsUrl: acs.url,
        ...(relayState ? { relayState } : {}),
        forceAuthn: request.forceAuthn,
        isPassive: request.isPassive && !request.forceAuthn,
        startedAt: Date.now(),
        binding,
      };
      const format = requestedFormat(request.nameIdFormat);
      if (format === null || (format && format !== sp.saml.nameIdFormat)) {
        return await respondWithStatus(ctx, sp, pending, STATUS.requester, STATUS.invalidNameIdPolicy, `This application is set up for ${sp.saml.nameIdFormat} NameIDs.`);
      }
      await kit.record(ctx, { action: 'saml.authn_request', target: sp, details: { entityId: sp.saml.entityId, binding, samlRequestId: request.id, signed, forceAuthn: request.forceAuthn, isPassive: request.isPassive } });
      await signIn(ctx, pending, request.authnContextClassRefs.some((c) => MFA_CONTEXTS.has(c)));
    } catch (error) {
      await kit.reject(ctx, error, 'saml.sso_rejected', { binding, ...seen });
    }
  }

  /** GET /saml/init?sp=ENTITY_ID: a sign-in that starts at Caregate (IdP-initiated). */
  async function idpInitiated(ctx: Context) {
    try {
      const entityId = typeof ctx.query.sp === 'string' ? ctx.query.sp : '';
      if (!entityId) throw new SamlError('malformed', 'Say which application to sign in to (?sp=its entity ID).');
      const sp = await kit.serviceProvider(kit.state(ctx).tenant.id, entityId);
      if (!sp.saml.allowIdpInitiated) throw new SamlError('idp_initiated_disabled', 'This application only accepts sign-ins that it starts itself. Open the application instead.', 403);
      const acs = pickAcs(sp.saml, {})!;
      const relayState = kit.relayState(ctx.query.RelayState) ?? sp.saml.defaultRelayState ?? undefined;
      await signIn(ctx, { clientId: sp.clientId, entityId: sp.saml.entityId, acsUrl: acs.url, ...(relayState ? { relayState } : {}), forceAuthn: false, isPassive: false, startedAt: Date.now(), binding: 'idp-initiated' }, false);
    } catch (error) {
      await kit.reject(ctx, error, 'saml.sso_rejected', { binding: 'idp-initiated' });
    }
  }

  /** GET /saml/continue: back from the sign-in; answers the service provider. */
  async function resume(ctx: Context) {
    const { tenant, provider } = kit.state(ctx);
    const id = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    try {
      const raw = id && ctx.cookies.get(pendingCookie(id)) ? await deps.ephemeral.take(pendingKey(tenant.id, id)) : undefined;
      if (!raw) throw new SamlError('no_pending_request', 'This sign-in has expired or was started in another browser. Go back to the application and start again.');
      ctx.cookies.set(pendingCookie(id), null, { path: `/t/${tenant.slug}/saml` });
      const pending = JSON.parse(raw) as PendingSso;
      const sp = await kit.serviceProvider(tenant.id, pending.entityId);
      const error = typeof ctx.query.error === 'string' ? ctx.query.error : undefined;
      if (error) {
        const passive = ['login_required', 'interaction_required', 'consent_required'].includes(error);
        const denied = error === 'access_denied';
        if (!passive && !denied) throw new SamlError('sign_in_failed', 'The sign-in could not be completed. Go back to the application and try again.');
        return await respondWithStatus(ctx, sp, pending, STATUS.responder, passive ? STATUS.noPassive : STATUS.requestDenied, passive ? 'The user is not signed in.' : 'The user did not sign in.');
      }
      const session = await provider.Session.get(ctx);
      const user = session.accountId ? await kit.claims(tenant).findActiveUser(session.accountId) : undefined;
      if (!user) throw new SamlError('no_session', 'You are not signed in. Go back to the application and start again.');
      // The browser must have come through /auth for this sign-in — its step-up (RequestedAuthnContext,
      // tenant policy), consent and session checks — not straight here on an older session.
      const code = typeof ctx.query.code === 'string' ? await provider.AuthorizationCode.find(ctx.query.code) : undefined;
      if (!code || (code as { consumed?: unknown }).consumed || code.clientId !== pending.clientId || code.codeChallenge !== pending.codeChallenge || code.sessionUid !== session.uid) {
        throw new SamlError('sign_in_failed', 'The sign-in could not be completed. Go back to the application and try again.');
      }
      await code.consume();
      if (pending.forceAuthn && (session.loginTs ?? 0) * 1000 < pending.startedAt - 1000) {
        throw new SamlError('not_reauthenticated', 'This application asked you to sign in again, and the sign-in was not repeated. Start again.');
      }
      await issue(ctx, sp, pending, session, user);
    } catch (error) {
      await kit.reject(ctx, error, 'saml.sso_rejected', { binding: 'continue' });
    }
  }

  async function respondWithStatus(ctx: Context, sp: ServiceProvider, pending: PendingSso, status: string, subStatus: string, message: string) {
    const { tenant } = kit.state(ctx);
    const responseId = newId();
    let xml = buildResponse({ id: responseId, issuer: kit.issuer(tenant), now: new Date(), destination: pending.acsUrl, ...(pending.requestId ? { inResponseTo: pending.requestId } : {}), status, subStatus, statusMessage: message });
    const keys = kit.keys(ctx);
    if (sp.saml.signResponse) xml = signElement(xml, responseId, 'Response', keys.signing);
    await kit.record(ctx, { action: 'saml.sso', outcome: 'failure', target: sp, details: { entityId: sp.saml.entityId, samlRequestId: pending.requestId ?? null, status: subStatus } });
    kit.post(ctx, pending.acsUrl, 'SAMLResponse', xml, pending.relayState, 'Returning to the application…');
  }

  /** Builds, signs (and encrypts) the assertion for this user and posts it to the ACS. */
  async function issue(ctx: Context, sp: ServiceProvider, pending: PendingSso, session: OidcSession, user: User) {
    const { tenant } = kit.state(ctx);
    // A session opened on the clinic network is not carried off it: the tenant's rule has the last word.
    if (!(await kit.claims(tenant).addressAllowed(ctx.ip))) {
      return respondWithStatus(ctx, sp, pending, STATUS.responder, STATUS.requestDenied, `You can sign in to ${tenant.name} only from the clinic network.`);
    }
    const now = new Date();
    const nameId = nameIdFor(sp.saml.nameIdFormat, user);
    if (!nameId) {
      return respondWithStatus(ctx, sp, pending, STATUS.responder, STATUS.invalidNameIdPolicy, 'The user has no email address for an email NameID.');
    }
    const participant = await kit.participants.join(tenant.id, session, { entityId: sp.saml.entityId, clientId: sp.clientId, nameId, nameIdFormat: NAME_ID_FORMATS[sp.saml.nameIdFormat] });
    // An assertion is an issuance: it may carry (and so consumes) a one-time grant.
    const claims = await kit.claims(tenant).forIssue({ key: ctx, party: { client: sp.clientId, protocol: 'saml' } }, user, { applicationId: sp.id, catalogue: sp.permissions }, ctx.ip);
    const keys = kit.keys(ctx);
    const assertionId = newId();
    let assertion = buildAssertion({
      id: assertionId,
      issuer: kit.issuer(tenant),
      now,
      audience: sp.saml.entityId,
      recipient: pending.acsUrl,
      ...(pending.requestId ? { inResponseTo: pending.requestId } : {}),
      nameId: { value: participant.nameId, format: NAME_ID_FORMATS[sp.saml.nameIdFormat] },
      lifetimeSeconds: sp.saml.assertionLifetimeSeconds,
      clockSkewSeconds: sp.saml.clockSkewSeconds,
      sessionIndex: participant.sessionIndex,
      authnInstant: new Date((session.loginTs ?? Math.floor(now.getTime() / 1000)) * 1000),
      authnContext: (session as unknown as { acr?: string }).acr === ACR.mfa ? AUTHN_CONTEXT.mfa : AUTHN_CONTEXT.password,
      attributes: attributesFor(sp, user, claims),
    });
    if (sp.saml.signAssertion) assertion = signElement(assertion, assertionId, 'Assertion', keys.signing);
    if (sp.saml.encryptAssertion) assertion = await encryptAssertion(assertion, sp.saml.encryptionCertificate!);
    const responseId = newId();
    let xml = buildResponse({ id: responseId, issuer: kit.issuer(tenant), now, destination: pending.acsUrl, ...(pending.requestId ? { inResponseTo: pending.requestId } : {}), status: STATUS.success, assertion });
    if (sp.saml.signResponse) xml = signElement(xml, responseId, 'Response', keys.signing);
    await kit.record(ctx, {
      action: 'saml.sso',
      actor: { type: 'user', id: user.id },
      target: sp,
      details: { entityId: sp.saml.entityId, samlRequestId: pending.requestId ?? null, binding: pending.binding, nameIdFormat: sp.saml.nameIdFormat, encrypted: sp.saml.encryptAssertion, acs: pending.acsUrl },
    });
    kit.post(ctx, pending.acsUrl, 'SAMLResponse', xml, pending.relayState, 'Signing you in to the application…');
  }

  return { sso, idpInitiated, resume };
}

/** undefined: no preference; null: a format Caregate does not issue. */
function requestedFormat(format: string | undefined): NameIdFormat | undefined | null {
  if (!format || format === NAME_ID_FORMATS.unspecified) return undefined;
  const found = (Object.keys(NAME_ID_FORMATS) as NameIdFormat[]).find((k) => NAME_ID_FORMATS[k] === format);
  return found ?? null;
}

/**
 * persistent: the user's stable id (the OIDC `sub`); transient: a new one, which the participant
 * list then keeps for the SP's sign-on session; email: the user's email; unspecified: the username.
 */
function nameIdFor(format: NameIdFormat, user: User): string | undefined {
  switch (format) {
    case 'persistent':
      return user.id;
    case 'transient':
      return newId();
    case 'email':
      return user.email ?? undefined;
    case 'unspecified':
      return user.username;
  }
}

/** The same facts as an OIDC token for this application, as SAML attributes (names per SP). */
function attributesFor(sp: ServiceProvider, user: User, claims: Record<string, unknown>): AttributeOut[] {
  const locations = (claims.locations ?? {}) as Record<string, string[]>;
  const values: Record<SamlFact, string[]> = {
    username: [user.username],
    email: user.email ? [user.email] : [],
    name: user.displayName ? [user.displayName] : [],
    phone: user.phone ? [user.phone] : [],
    tenant: [String(claims.tenant)],
    tenant_id: [String(claims.tenant_id)],
    roles: (claims.roles as string[] | undefined) ?? [],
    permissions: (claims.permissions as string[] | undefined) ?? [],
    locations: Object.keys(locations),
    location_roles: Object.entries(locations).flatMap(([location, roles]) => roles.map((role) => `${location}:${role}`)),
    institutions: (claims.institutions as string[] | undefined) ?? [],
    teams: (claims.teams as string[] | undefined) ?? [],
    phi: [String(Boolean(claims.phi))],
  };
  const out: AttributeOut[] = [];
  for (const fact of SAML_FACTS) {
    const attribute = attributeFor(sp.saml, fact);
    if (attribute) out.push({ ...attribute, values: values[fact] });
  }
  return out;
}

async function encryptAssertion(assertion: string, certificate: string): Promise<string> {
  const encrypted = await loadEncrypt()(assertion, {
    rsa_pub: pem(certificate),
    pem: pem(certificate),
    encryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
    keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
    disallowEncryptionWithInsecureAlgorithm: true,
    warnInsecureAlgorithm: false,
  } as Parameters<typeof encrypt>[1]);
  return `<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${encrypted}</saml:EncryptedAssertion>`;
}

