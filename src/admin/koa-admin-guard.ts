// Authenticates admin API calls: a bearer access token that the same tenant's issuer issued for
// the admin API resource (opaque, looked up in the store every node shares), carrying the
// permission the route declares, whose subject still holds it.
import type { Context } from 'koa';
import { adminCatalogue, loadAuthzSnapshot, type Actor } from '../accounts/index.ts';
import { projectClaims } from '../authz/index.ts';
import type { Tenant } from '../storage/index.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.ts';
import { adminResource } from '../oidc/index.ts';
import type { Runtime } from '../runtime.ts';
import { findAdminToken } from './find-admin-token.ts';

export function createAdminGuard(rt: Runtime) {
  /**
   * The admin permissions the token's subject holds *now*: a deleted application, a disabled user
   * or a removed role takes effect at once, not when the token expires. Undefined when the subject
   * is gone or inactive.
   */
  async function livePermissions(tenant: Tenant, actor: Actor): Promise<string[] | undefined> {
    let userId = actor.type === 'user' ? actor.id : undefined;
    if (actor.type === 'client') {
      const app = await rt.storage.applications.findOneBy({ tenantId: tenant.id, clientId: actor.id ?? '' });
      userId = app?.serviceUserId ?? undefined;
    }
    const user = userId ? await rt.storage.users.findOneBy({ tenantId: tenant.id, id: userId }) : null;
    if (!user || user.status !== 'active' || (user.expiresAt && user.expiresAt <= new Date())) return undefined;
    return projectClaims(await loadAuthzSnapshot(rt.storage, user), { applicationId: null, catalogue: adminCatalogue }).permissions;
  }

  return async function authenticate(ctx: Context, tenantSlug: string, permission: string): Promise<Actor> {
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
    const token = await findAdminToken(provider, value, adminResource(rt.config));
    if (!token) {
      ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin", error="invalid_token"');
      throw new UnauthorizedError('the access token is invalid, revoked, expired, or not for this tenant\'s admin API');
    }
    const device = { ip: ctx.ip, userAgent: ctx.get('user-agent') || null };
    const actor: Actor = token.accountId ? { type: 'user', id: token.accountId, ...device } : { type: 'client', id: token.clientId, ...device };
    const live = await livePermissions(tenant, actor);
    if (!live) {
      ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin", error="invalid_token"');
      throw new UnauthorizedError('the user or application this token was issued to is no longer active');
    }
    // Both the token and the subject's current roles must carry the permission.
    if (!token.permissions.includes(permission) || !live.includes(permission)) {
      await rt.audit.record({ tenantId: tenant.id, actor, action: 'admin.forbidden', outcome: 'failure', details: { permission, path: ctx.path } });
      throw new ForbiddenError(`this token lacks the "${permission}" permission`);
    }
    return actor;
  };
}
