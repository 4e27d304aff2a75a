// Authenticates admin API calls: a bearer JWT access token issued by the same tenant's issuer for
// the admin API resource, carrying the permission the route declares.
import type { Context } from 'koa';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { adminCatalogue, loadAuthzSnapshot, type Actor } from '../accounts/index.ts';
import { projectClaims } from '../authz/index.ts';
import type { Tenant } from '../storage/index.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.ts';
import { adminResource, issuerOf } from '../oidc/index.ts';
import type { Runtime } from '../runtime.ts';

const JWKS_CACHE_MS = 30_000;

export function createAdminGuard(rt: Runtime) {
  const jwks = new Map<string, { at: number; set: ReturnType<typeof createLocalJWKSet> }>();

  async function keySet(tenantId: string) {
    const cached = jwks.get(tenantId);
    if (cached && Date.now() - cached.at < JWKS_CACHE_MS) return cached.set;
    // Only keys the tenant still publishes: a retired key past its retirement verifies nothing.
    const now = Date.now();
    const rows = (await rt.storage.signingKeys.findBy({ tenantId })).filter((k) => k.status !== 'retired' || (k.retireAt && k.retireAt.getTime() > now));
    const set = createLocalJWKSet({ keys: rows.map((r) => r.publicJwk) });
    jwks.set(tenantId, { at: Date.now(), set });
    return set;
  }

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
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header)?.[1];
    if (!token) {
      ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin"');
      throw new UnauthorizedError('a bearer access token is required');
    }
    const tenant = await rt.storage.tenants.findOneBy({ slug: tenantSlug });
    if (!tenant) throw new NotFoundError(`tenant "${tenantSlug}" does not exist`);
    let claims: JWTPayload & { permissions?: string[]; client_id?: string };
    try {
      ({ payload: claims } = await jwtVerify(token, await keySet(tenant.id), {
        issuer: issuerOf(rt.config, tenant),
        audience: adminResource(rt.config),
        typ: 'at+jwt',
      }));
    } catch {
      ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin", error="invalid_token"');
      throw new UnauthorizedError('the access token is invalid, expired, or not for this tenant\'s admin API');
    }
    // A client credentials token has no user: oidc-provider sets its `sub` to the client id (RFC 9068 §2.2).
    const actor: Actor = claims.sub && claims.sub !== claims.client_id
      ? { type: 'user', id: claims.sub, ip: ctx.ip, userAgent: ctx.get('user-agent') || null }
      : { type: 'client', id: claims.client_id ?? null, ip: ctx.ip, userAgent: ctx.get('user-agent') || null };
    const live = await livePermissions(tenant, actor);
    if (!live) {
      ctx.set('WWW-Authenticate', 'Bearer realm="caregate-admin", error="invalid_token"');
      throw new UnauthorizedError('the user or application this token was issued to is no longer active');
    }
    // Both the token and the subject's current roles must carry the permission.
    if (!claims.permissions?.includes(permission) || !live.includes(permission)) {
      await rt.audit.record({ tenantId: tenant.id, actor, action: 'admin.forbidden', outcome: 'failure', details: { permission, path: ctx.path } });
      throw new ForbiddenError(`this token lacks the "${permission}" permission`);
    }
    return actor;
  };
}
