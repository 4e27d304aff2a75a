// Authenticates admin API calls: a bearer JWT access token issued by the same tenant's issuer for
// the admin API resource, carrying the permission the route declares.
import type { Context } from 'koa';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Actor } from '../accounts/index.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.ts';
import { adminResource, issuerOf } from '../oidc/index.ts';
import type { Runtime } from '../runtime.ts';

const JWKS_CACHE_MS = 30_000;

export function createAdminGuard(rt: Runtime) {
  const jwks = new Map<string, { at: number; set: ReturnType<typeof createLocalJWKSet> }>();

  async function keySet(tenantId: string) {
    const cached = jwks.get(tenantId);
    if (cached && Date.now() - cached.at < JWKS_CACHE_MS) return cached.set;
    const rows = await rt.storage.signingKeys.findBy({ tenantId });
    const set = createLocalJWKSet({ keys: rows.map((r) => r.publicJwk) });
    jwks.set(tenantId, { at: Date.now(), set });
    return set;
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
    const actor: Actor = claims.sub
      ? { type: 'user', id: claims.sub, ip: ctx.ip, userAgent: ctx.get('user-agent') || null }
      : { type: 'client', id: claims.client_id ?? null, ip: ctx.ip, userAgent: ctx.get('user-agent') || null };
    if (!claims.permissions?.includes(permission)) {
      await rt.audit.record({ tenantId: tenant.id, actor, action: 'admin.forbidden', outcome: 'failure', details: { permission, path: ctx.path } });
      throw new ForbiddenError(`this token lacks the "${permission}" permission`);
    }
    return actor;
  };
}
