// Mounts the admin API at /admin/api: the OpenAPI document, then every declared route behind the
// guard and zod validation.
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { parseInput, type Actor } from '../accounts/index.ts';
import { createAuditLog } from '../audit/index.ts';
import { AdminRefusalError } from '../errors.ts';
import { koaSafeBody } from '../http/index.ts';
import type { Runtime } from '../runtime.ts';
import { createAdminGuard } from './koa-admin-guard.ts';
import { buildOpenApi } from './openapi.ts';
import { adminRoutes } from './routes.ts';
import { accessRoutes } from './access-routes.ts';

export function registerAdminApi(router: Router, rt: Runtime) {
  const routes = [
    ...adminRoutes(rt.accounts, createAuditLog(rt), rt.security, rt.federation, rt.ldap, (error) => rt.log.error('directory sync failed', { error: error.message })),
    ...accessRoutes(rt.emergency, rt.elevations, rt.breakGlassApprovals),
  ];
  // Built on the first request for it, not at start: turning every route's zod schemas into JSON
  // Schema takes ~0.15 s of CPU and memory that most processes never need.
  let openapi: ReturnType<typeof buildOpenApi> | undefined;
  const authenticate = createAdminGuard(rt);
  // No NUL characters and bounded nesting: nothing deep or unstorable reaches a service.
  const json = koaSafeBody(bodyParser({ enableTypes: ['json'], jsonLimit: '256kb' }));

  /** A change refused by who-may-change-what is audited once its transaction has rolled back, then answered. */
  async function auditRefusal(error: unknown, slug: string, actor: Actor, ctx: Context): Promise<never> {
    if (error instanceof AdminRefusalError) {
      const tenant = await rt.storage.tenants.findOneBy({ slug });
      await rt.audit.record({ tenantId: tenant?.id ?? null, actor, action: 'admin.forbidden', outcome: 'failure', details: { ...error.details, code: error.code, message: error.message, method: ctx.method, path: ctx.path } });
    }
    throw error;
  }

  router.get('/admin/api/openapi.json', (ctx) => {
    ctx.body = openapi ??= buildOpenApi(routes, rt.config.baseUrl);
  });

  for (const route of routes) {
    const koaPath = `/admin/api/v1/t/:tenant${route.path.replace(/\{(\w+)\}/g, ':$1')}`;
    router[route.method](koaPath, async (ctx: Context) => {
      const { tenant, ...pathParams } = ctx.params as Record<string, string>;
      // The token is checked before the body is read: an anonymous caller gets 401, not a parse.
      const actor = await authenticate(ctx, tenant!, route.permission, route.scoped);
      await json(ctx, async () => {});
      const result = await route.handler({
        tenant: tenant!,
        params: route.params ? parseInput(route.params, pathParams) : pathParams,
        body: route.body ? parseInput(route.body, (ctx.request as { body?: unknown }).body ?? {}) : undefined,
        query: route.query ? parseInput(route.query, ctx.query) : ctx.query,
        actor,
        ctx,
      }).catch((error: unknown) => auditRefusal(error, tenant!, actor, ctx));
      ctx.status = route.status ?? 200;
      if (ctx.status !== 204) ctx.body = result ?? {};
    });
  }
}
