// The route a request took, as a template (`/t/:tenant/interaction/:uid/login`), never the raw
// path: paths carry ids, reset and invitation tokens and tenant slugs, and a metric label or a log
// field must have a bounded set of values and hold no secret.
import type { Context } from 'koa';

/** oidc-provider's endpoints under a tenant (its default routes, which Caregate keeps). */
const PROVIDER_ROUTES = new Set([
  '/auth', '/token', '/me', '/jwks', '/token/introspection', '/token/revocation', '/session/end', '/session/end/confirm',
  '/session/end/success', '/reg', '/request', '/device', '/device/auth', '/backchannel', '/challenge', '/credential',
  '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server',
]);
const PROVIDER_PATTERNS: Array<[RegExp, string]> = [
  [/^\/auth\/[^/]+$/, '/auth/:uid'],
  [/^\/reg\/[^/]+$/, '/reg/:clientId'],
  [/^\/device\/[^/]+$/, '/device/:uid'],
];
const TENANT_PATH = /^\/t\/[^/]+(\/.*)?$/;

export function routeTemplate(ctx: Context): string {
  // @koa/router records the template of the route that answered.
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  // The path as it arrived: the tenant's provider is handed the rest of it (req.url rewritten).
  const tenant = TENANT_PATH.exec(ctx.originalUrl.split('?')[0]!);
  // Only a tenant that exists: an unknown slug is not a route.
  if (tenant && ctx.state.tenant) return tenantRouteTemplate(tenant[1] ?? '/');
  return 'unmatched';
}

/** The template of a path under an existing tenant, given the rest after `/t/{slug}`. */
export function tenantRouteTemplate(rest: string): string {
  if (rest === '/') return '/t/:tenant';
  if (PROVIDER_ROUTES.has(rest)) return `/t/:tenant${rest}`;
  for (const [pattern, template] of PROVIDER_PATTERNS) if (pattern.test(rest)) return `/t/:tenant${template}`;
  return '/t/:tenant/*';
}
