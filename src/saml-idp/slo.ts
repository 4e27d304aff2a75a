// Single Logout over the front channel. One way in from each protocol, one way out:
// - an SP sends a LogoutRequest to /saml/slo (Redirect or POST);
// - an OIDC application sends the user to `end_session`, whose confirmation page posts to
//   /saml/logout when SAML applications share the session.
// Either way the sign-on session ends (OIDC back-channel logout to the OIDC applications in it,
// and its refresh tokens revoked), then the browser visits each other SAML application with a
// signed LogoutRequest, and finally returns to whoever asked: a LogoutResponse to the SP, or the
// OIDC application's post-logout redirect.
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { Context } from 'koa';
import type { User } from '../storage/index.ts';
import {
  buildLogoutRequest,
  buildLogoutResponse,
  decodeMessage,
  messageKind,
  newId,
  readLogoutRequest,
  readLogoutResponse,
  SamlError,
  signElement,
  signRedirectQuery,
  STATUS,
  verifyRedirectSignature,
  verifyRootSignature,
} from '../saml/index.ts';
import type { OidcSession, Participant, SamlKit, ServiceProvider } from './saml-kit.ts';

type Finish =
  | { kind: 'saml'; entityId: string; requestId: string; relayState?: string }
  | { kind: 'oidc'; redirect?: string };

interface LogoutChain {
  remaining: Participant[];
  awaiting?: { entityId: string; requestId: string };
  finish: Finish;
  partial: boolean;
}

const CHAIN_TTL = 10 * 60;
const chainKey = (tenantId: string, id: string) => `saml:${tenantId}:logout:${id}`;
const MESSAGE_MAX_AGE_SECONDS = 10 * 60;

export function createSlo(kit: SamlKit) {
  const { deps } = kit;

  /** Ends this browser's sign-on session everywhere Caregate can reach from the server. */
  async function endSession(ctx: Context, session: OidcSession, initiator: string) {
    const { tenant, provider } = kit.state(ctx);
    const accountId = session.accountId;
    if (!accountId) return;
    for (const clientId of Object.keys(session.authorizations ?? {})) {
      const client = (await provider.Client.find(clientId)) as unknown as { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> } | undefined;
      if (!client?.backchannelLogoutUri) continue;
      // An unreachable application must not keep the user signed in everywhere else.
      await client.backchannelLogout(accountId, session.sidFor(clientId) ?? "").catch(() => kit.record(ctx, { action: 'saml.backchannel_failed', outcome: 'failure', details: { clientId } }));
    }
    await deps.security.endOne(tenant, { id: accountId } as User, session.jti);
    await kit.participants.clear(tenant.id, session.uid);
    await kit.record(ctx, { action: 'saml.logout', actor: { type: 'user', id: accountId }, details: { initiator, sessionUid: session.uid } });
  }

  /** Sends the browser to the next SAML application still signed in, or finishes the logout. */
  async function step(ctx: Context, id: string, chain: LogoutChain) {
    const { tenant } = kit.state(ctx);
    let next: { participant: Participant; sp: ServiceProvider } | undefined;
    while (!next && chain.remaining.length) {
      const participant = chain.remaining.shift()!;
      const sp = await kit.serviceProvider(tenant.id, participant.entityId).catch(() => undefined);
      if (sp?.saml.slo) next = { participant, sp };
      else chain.partial = true; // removed since, or no logout endpoint: cannot be told
    }
    if (next) {
      const { participant, sp } = next;
      const requestId = newId();
      chain.awaiting = { entityId: sp.saml.entityId, requestId };
      await deps.ephemeral.set(chainKey(tenant.id, id), JSON.stringify(chain), CHAIN_TTL);
      const xml = buildLogoutRequest({
        id: requestId,
        issuer: kit.issuer(tenant),
        now: new Date(),
        destination: sp.saml.slo!.url,
        nameId: { value: participant.nameId, format: participant.nameIdFormat, spNameQualifier: sp.saml.entityId },
        sessionIndex: participant.sessionIndex,
      });
      return send(ctx, sp.saml.slo!.binding, sp.saml.slo!.url, { field: 'SAMLRequest', id: requestId, xml }, id, 'Signing you out of your applications…');
    }
    await deps.ephemeral.del(chainKey(tenant.id, id));
    const { finish } = chain;
    if (finish.kind === 'oidc') {
      if (finish.redirect) {
        ctx.status = 303;
        return ctx.redirect(finish.redirect);
      }
      ctx.type = 'html';
      ctx.body = deps.render('logged-out', { tenant, title: 'Signed out' });
      return;
    }
    const sp = await kit.serviceProvider(tenant.id, finish.entityId);
    const slo = sp.saml.slo;
    if (!slo) {
      ctx.type = 'html';
      ctx.body = deps.render('logged-out', { tenant, title: 'Signed out' });
      return;
    }
    const destination = slo.responseUrl ?? slo.url;
    const responseId = newId();
    const xml = buildLogoutResponse({
      id: responseId,
      issuer: kit.issuer(tenant),
      now: new Date(),
      destination,
      inResponseTo: finish.requestId,
      status: STATUS.success,
      // SAML Core §3.2.2.2: PartialLogout tells the requester not every participant was reached.
      ...(chain.partial ? { subStatus: STATUS.partialLogout, statusMessage: 'Some applications could not be signed out.' } : {}),
    });
    return send(ctx, slo.binding, destination, { field: 'SAMLResponse', id: responseId, xml }, finish.relayState, 'Returning to the application…');
  }

  /** A message Caregate sends: Redirect binding signs the query; POST binding signs the XML. */
  function send(ctx: Context, binding: 'redirect' | 'post', destination: string, { field, id, xml }: { field: 'SAMLRequest' | 'SAMLResponse'; id: string; xml: string }, relayState: string | undefined, message: string) {
    const keys = kit.keys(ctx);
    if (binding === 'redirect') {
      const query = signRedirectQuery(field, deflateRawSync(xml).toString('base64'), relayState, keys.signing);
      ctx.status = 303;
      return ctx.redirect(`${destination}${destination.includes('?') ? '&' : '?'}${query}`);
    }
    const signed = signElement(xml, id, field === 'SAMLRequest' ? 'LogoutRequest' : 'LogoutResponse', keys.signing);
    kit.post(ctx, destination, field, signed, relayState, message);
  }

  /** Verifies a message's signature by binding; returns the XML to trust and whether it was signed. */
  function verified(ctx: Context, binding: 'redirect' | 'post', xml: string, field: 'SAMLRequest' | 'SAMLResponse', sp: ServiceProvider): { xml: string; signed: boolean } {
    if (binding === 'redirect') return { xml, signed: verifyRedirectSignature(ctx.querystring, ctx.query, field, sp.saml.signingCertificates) };
    const covered = verifyRootSignature(xml, sp.saml.signingCertificates);
    return covered === undefined ? { xml, signed: false } : { xml: covered, signed: true };
  }

  /** GET or POST /saml/slo: a LogoutRequest from an SP, or an SP's LogoutResponse during a chain. */
  async function slo(ctx: Context, binding: 'redirect' | 'post') {
    const params = binding === 'redirect' ? (ctx.query as Record<string, unknown>) : kit.body(ctx);
    const field = params.SAMLResponse !== undefined ? 'SAMLResponse' : 'SAMLRequest';
    // Learns the registered SP as soon as it is known, so a refusal's audit event names it.
    const seen: { entityId?: string } = {};
    try {
      const xml = decodeMessage(params[field], binding === 'redirect');
      const kind = messageKind(xml);
      if (field === 'SAMLRequest' && kind === 'LogoutRequest') return await logoutRequest(ctx, binding, xml, params.RelayState, seen);
      if (field === 'SAMLResponse' && kind === 'LogoutResponse') return await logoutResponse(ctx, binding, xml, params.RelayState, seen);
      throw new SamlError('malformed', 'This address only takes logout requests and responses.');
    } catch (error) {
      await kit.reject(ctx, error, 'saml.logout_rejected', { binding, field, ...seen });
    }
  }

  async function logoutRequest(ctx: Context, binding: 'redirect' | 'post', xml: string, rawRelayState: unknown, seen: { entityId?: string }) {
    const { tenant, provider } = kit.state(ctx);
    const unverified = readLogoutRequest(xml);
    const sp = await kit.serviceProvider(tenant.id, unverified.issuer);
    seen.entityId = sp.saml.entityId;
    const { xml: trusted, signed } = verified(ctx, binding, xml, 'SAMLRequest', sp);
    const request = readLogoutRequest(trusted);
    // A logout request can sign a user out, so it must be signed whenever the SP can sign.
    if (!signed && (sp.saml.requireSignedRequests || sp.saml.signingCertificates.length)) {
      throw new SamlError('unsigned', 'This application must sign its logout requests, and this one is not signed.');
    }
    kit.checkDestination(ctx, request.destination, 'slo', signed);
    kit.checkFresh(request.issueInstant, sp.saml.clockSkewSeconds, MESSAGE_MAX_AGE_SECONDS);
    if (request.notOnOrAfter && request.notOnOrAfter.getTime() + sp.saml.clockSkewSeconds * 1000 <= Date.now()) {
      throw new SamlError('expired', 'This logout request has expired.');
    }
    if (!(await kit.firstUse(tenant.id, sp.saml.entityId, request.id, MESSAGE_MAX_AGE_SECONDS + sp.saml.clockSkewSeconds))) {
      throw new SamlError('replayed', 'This logout request was already used.');
    }
    const relayState = kit.relayState(rawRelayState);
    const session = await provider.Session.get(ctx);
    const mine = session.accountId ? await kit.participants.list(tenant.id, session.uid) : [];
    const match = mine.find((p) => p.entityId === sp.saml.entityId && p.nameId === request.nameId && (!request.sessionIndexes.length || request.sessionIndexes.includes(p.sessionIndex)));
    const chain: LogoutChain = { remaining: [], finish: { kind: 'saml', entityId: sp.saml.entityId, requestId: request.id, ...(relayState ? { relayState } : {}) }, partial: false };
    if (match) {
      chain.remaining = mine.filter((p) => p !== match);
      await endSession(ctx, session, sp.saml.entityId);
    } else {
      // Nothing of this SP's in this browser's session (already over): logging out is done.
      await kit.record(ctx, { action: 'saml.logout', target: sp, details: { initiator: sp.saml.entityId, samlRequestId: request.id, noSession: true } });
    }
    await step(ctx, randomBytes(18).toString('base64url'), chain);
  }

  async function logoutResponse(ctx: Context, binding: 'redirect' | 'post', xml: string, rawRelayState: unknown, seen: { entityId?: string }) {
    const { tenant } = kit.state(ctx);
    const id = typeof rawRelayState === 'string' && /^[\w-]{24}$/.test(rawRelayState) ? rawRelayState : undefined;
    const raw = id ? await deps.ephemeral.get(chainKey(tenant.id, id)) : undefined;
    if (!raw) throw new SamlError('no_pending_logout', 'This sign-out has expired or was not started here.');
    const chain = JSON.parse(raw) as LogoutChain;
    const unverified = readLogoutResponse(xml);
    const sp = await kit.serviceProvider(tenant.id, unverified.issuer);
    seen.entityId = sp.saml.entityId;
    const { xml: trusted, signed } = verified(ctx, binding, xml, 'SAMLResponse', sp);
    const response = readLogoutResponse(trusted);
    if (!signed && sp.saml.requireSignedRequests) throw new SamlError('unsigned', 'This application must sign its logout responses, and this one is not signed.');
    if (!chain.awaiting || chain.awaiting.entityId !== sp.saml.entityId || chain.awaiting.requestId !== response.inResponseTo) {
      throw new SamlError('unexpected_response', 'This logout response does not answer the request Caregate sent.');
    }
    kit.checkDestination(ctx, response.destination, 'slo', signed);
    if (response.status !== STATUS.success) chain.partial = true;
    delete chain.awaiting;
    await step(ctx, id!, chain);
  }

  /**
   * POST /saml/logout: the "Sign out" button of the OIDC logout page when SAML applications share
   * the session. Checks oidc-provider's own logout token (xsrf), then runs the same chain.
   */
  async function oidcLogout(ctx: Context) {
    const { provider } = kit.state(ctx);
    const session = await provider.Session.get(ctx);
    const pending = session.state as { secret?: string; postLogoutRedirectUri?: string; state?: string } | undefined;
    const xsrf = kit.body(ctx).xsrf;
    if (!pending?.secret || typeof xsrf !== 'string' || xsrf !== pending.secret) {
      return kit.reject(ctx, new SamlError('bad_logout_form', 'This sign-out form has expired. Go back to the application and sign out again.', 403), 'saml.logout_rejected', { binding: 'oidc' });
    }
    const { tenant } = kit.state(ctx);
    const remaining = await kit.participants.list(tenant.id, session.uid);
    let redirect: string | undefined;
    if (pending.postLogoutRedirectUri) {
      const target = new URL(pending.postLogoutRedirectUri);
      if (pending.state != null) target.searchParams.set('state', pending.state);
      redirect = target.href;
    }
    await endSession(ctx, session, 'oidc');
    await step(ctx, randomBytes(18).toString('base64url'), { remaining, finish: { kind: 'oidc', ...(redirect ? { redirect } : {}) }, partial: false });
  }

  return { slo, oidcLogout };
}
