// Authenticates admin API calls: a bearer access token that the same tenant's issuer issued for
// the admin API resource (opaque, looked up in the store every node shares), or a service account's
// API key (cgk_…, read from the database on every use), carrying the permission the route
// declares, whose subject still holds it.
import type { Context } from 'koa';
import { loadAuthority, looksLikeApiKey, type Actor } from '../accounts/index.ts';
import { ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError } from '../errors.ts';
import { adminResource } from '../oidc/index.ts';
import type { Runtime } from '../runtime.ts';
import { findAdminToken } from './find-admin-token.ts';

export function createAdminGuard(rt: Runtime) {
  /**
   * Authenticates the caller and checks it holds `permission` *now* — somewhere for a `scoped`
   * route (whose service then bounds the target by the caller's scope), tenant-wide for any other.
   * A deleted application, a disabled user or a removed role takes effect at once, not when the
   * token expires; the admin API decides from live roles, not from claims frozen in the token.
   */
  return async function authenticate(ctx: Context, tenantSlug: string, permission: string | null, scoped = false): Promise<Actor> {
    const header = ctx.get('authorization');
    const value = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header)?.[1];
    if (!value) {
      ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin"');
      throw new UnauthorizedError('a bearer access token is required');
    }
    // The tenant's provider holds its tokens (the registry caches it, and the tenant, per node).
    const entry = await rt.providers.get(tenantSlug);
    if (!entry) throw new NotFoundError(`tenant "${tenantSlug}" does not exist`);
    const { tenant, provider } = entry;
    const device = { ip: ctx.ip, userAgent: ctx.get('user-agent') || null };
    let actor: Actor;
    if (looksLikeApiKey(value)) {
      // An API key acts as its service account, narrowed to the permissions the key carries.
      const check = await rt.accounts.apiKeys.check(tenant, value, device);
      if (!check.ok && check.reason === 'rate_limited') {
        ctx.set('Retry-After', String(check.retryAfterSeconds));
        throw new RateLimitedError(`this API key's request limit is reached; retry in ${check.retryAfterSeconds} s`, check.retryAfterSeconds);
      }
      if (!check.ok) {
        ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin", error="invalid_token"');
        throw new UnauthorizedError('the API key is invalid, revoked, expired, or not for this tenant');
      }
      actor = check.actor;
    } else {
      const token = await findAdminToken(provider, value, adminResource(rt.config));
      if (!token) {
        ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin", error="invalid_token"');
        throw new UnauthorizedError('the access token is invalid, revoked, expired, or not for this tenant\'s admin API');
      }
      actor = token.accountId ? { type: 'user', id: token.accountId, ...device } : { type: 'client', id: token.clientId, ...device };
    }
    const authority = await loadAuthority(rt.storage, tenant, actor);
    if (!authority.snapshot) {
      ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin", error="invalid_token"');
      throw new UnauthorizedError('the user or application this token was issued to is no longer active');
    }
    if (permission === null) return actor;
    const reach = authority.reach(permission);
    if (!reach.length || (!scoped && !authority.tenantWide(permission))) {
      await rt.audit.record({ tenantId: tenant.id, actor, action: 'admin.forbidden', outcome: 'failure', details: { permission, path: ctx.path, ...(reach.length ? { reason: 'out_of_scope' } : {}) } });
      throw new ForbiddenError(reach.length
        ? `you hold the "${permission}" permission only at some locations, institutions or applications; this needs it tenant-wide`
        : `this token lacks the "${permission}" permission`);
    }
    return actor;
  };
}
