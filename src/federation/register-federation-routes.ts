// A connection's fixed URLs under /t/{tenant}/federation/{key}, the ones an admin registers with
// the upstream: the OIDC redirect URI, the SAML Assertion Consumer Service, the SP metadata, and
// the JWKS that verifies Caregate's private_key_jwt client assertions. The callbacks only keep
// what the upstream sent and pass the browser on to its own interaction (federation.ts, step 2).
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { AuditWriter } from '../audit/index.ts';
import { NotFoundError } from '../errors.ts';
import type { Tenant } from '../storage/index.ts';
import { UpstreamError, type CallbackInput } from '../upstream/index.ts';
import { connectionUrls } from './connection-service.ts';
import type { Federation } from './federation.ts';

export interface FederationState {
  tenant: Tenant;
}

export function registerFederationRoutes(router: Router<FederationState>, deps: { federation: Federation; audit: AuditWriter; baseUrl: string }) {
  const { federation, audit } = deps;

  /** Keeps the callback, or refuses it with a page and an audit event naming the reason. */
  async function receive(ctx: Context, state: string, callback: CallbackInput) {
    const { tenant } = ctx.state as FederationState;
    const key = ctx.params.key as string;
    try {
      const uid = await federation.receive(tenant, key, state, callback);
      ctx.status = 303;
      ctx.redirect(`/t/${tenant.slug}/interaction/${uid}/federated?state=${encodeURIComponent(state)}`);
    } catch (error) {
      if (error instanceof UpstreamError) {
        await audit.record({
          tenantId: tenant.id, actor: { type: 'anonymous', ip: ctx.ip, userAgent: ctx.get('user-agent') || null }, action: 'login.failure', outcome: 'failure',
          details: { method: 'federation', connection: key.slice(0, 64), reason: error.reason, detail: error.detail },
        });
      }
      throw error;
    }
  }

  router.get('/federation/:key/callback', async (ctx) => {
    const url = `${connectionUrls(deps.baseUrl, ctx.state.tenant.slug, ctx.params.key!).callback}?${ctx.querystring}`;
    await receive(ctx, String(ctx.query.state ?? ''), { url, form: {} });
  });

  router.post('/federation/:key/acs', async (ctx) => {
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const form = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    // An IdP-initiated (unsolicited) response has no RelayState of ours: it is refused as such.
    await receive(ctx, form.RelayState ?? '', { url: ctx.href, form });
  });

  router.get('/federation/:key/metadata', async (ctx) => {
    const { tenant } = ctx.state;
    const c = await federation.connections.find(tenant.id, ctx.params.key!);
    if (!c || c.row.type !== 'saml') throw new NotFoundError('There is no SAML connection here.');
    ctx.type = 'application/samlmetadata+xml';
    ctx.body = ((await federation.connectorFor(tenant, c)) as unknown as { metadata(): string }).metadata();
  });

  router.get('/federation/:key/jwks', async (ctx) => {
    const c = await federation.connections.find(ctx.state.tenant.id, ctx.params.key!);
    const jwk = c?.secrets.privateJwk as Record<string, unknown> | undefined;
    if (!jwk) throw new NotFoundError('This connection does not sign client assertions.');
    const { kty, n, e, kid, alg } = jwk;
    ctx.type = 'application/jwk-set+json';
    ctx.body = { keys: [{ kty, n, e, kid, alg, use: 'sig' }] };
  });
}
