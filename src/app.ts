// Composes the Koa application: headers and errors first, then health and assets, the admin API,
// and per-tenant routes — interactions served here, everything else handed to the tenant's
// oidc-provider — and the server's request listener, which takes the provider's requests there
// directly when it can (the provider lane, below).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import path from 'node:path';
import Koa, { type Context, type Next } from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { NotFoundError, StoreUnavailableError } from './errors.ts';
import { createStoreMonitor, hasEncodedNul, healthHandler, koaErrorHandler, koaRefuseNulInUrl, koaSafeBody, koaSecurityHeaders, livenessHandler, readinessHandler, securityHeaders, viewsDir } from './http/index.ts';
import { koaObserveRequest, observeDirectRequest, tenantRouteTemplate, type StartServerSpan } from './observability/index.ts';
import { registerInteractionRoutes, type TenantState } from './interactions/index.ts';
import { registerSamlRoutes, type SamlState } from './saml-idp/index.ts';
import { registerFederationRoutes, type FederationState } from './federation/index.ts';
import type { Runtime } from './runtime.ts';
import { loadConsoleAssets, registerConsoleRoutes } from './console/index.ts';
import { ACCESS_PATH, registerAccessRoutes } from './access/index.ts';

const TENANT_PATH = /^\/t\/([a-z0-9][a-z0-9-]{0,62})(\/.*)?$/;
// Caregate's own pages under a tenant; everything else there is the tenant's OpenID Provider.
const PAGE_PATH = /^\/(interaction\/|forgot$|reset\/|invite\/|dev\/outbox$|account(\/|$))/;
// The admin console's page (its data comes from the admin API).
const CONSOLE_PATH = /^\/admin(\/|$)/;
// The tenant's SAML IdP endpoints, and the URLs of its federation connections (callbacks, SP metadata).
const SAML_PATH = /^\/(saml|federation)\//;
// Published metadata issues nothing, so it is served even while a store is down.
const READ_ONLY = /^\/(\.well-known\/(openid|authzen)-configuration|jwks|saml\/metadata|federation\/[^/]+\/(metadata|jwks))$/;

/** Who answers a request under /t/{tenant}, by the rest of its path. */
type TenantRoute = 'landing' | 'pages' | 'saml' | 'console' | 'access' | 'provider';

function tenantRouteOf(method: string | undefined, rest: string): TenantRoute {
  if (rest === '/' && (method === 'GET' || method === 'HEAD')) return 'landing';
  if (PAGE_PATH.test(rest)) return 'pages';
  if (SAML_PATH.test(rest)) return 'saml';
  if (CONSOLE_PATH.test(rest)) return 'console';
  if (ACCESS_PATH.test(rest)) return 'access';
  // Everything else under /t/{tenant} is the tenant's OpenID Provider.
  return 'provider';
}

/** The provider sees its own paths: `rest` and the query, with the address as it arrived kept for its URLs. */
function handToProvider(req: IncomingMessage & { originalUrl?: string }, originalUrl: string, rest: string, querystring: string) {
  req.originalUrl = originalUrl;
  req.url = rest + (querystring ? `?${querystring}` : '');
}

type KoaApp = Koa & { stores: ReturnType<typeof createStoreMonitor> };

/**
 * `spans`: given when tracing is on (CAREGATE_TRACING / OTEL_EXPORTER_OTLP_ENDPOINT); no spans
 * otherwise. Serve `listener` (the provider lane, then the app), not the app's own callback.
 */
export function createApp(rt: Runtime, { spans }: { spans?: StartServerSpan } = {}): KoaApp & { listener: RequestListener } {
  const app: KoaApp = Object.assign(new Koa({ proxy: rt.config.trustProxy }), { stores: createStoreMonitor(rt.storage, rt.ephemeral) });
  app.silent = true;
  const assets: Record<string, { type: string; body: Buffer }> = {
    'caregate.css': { type: 'text/css', body: readFileSync(path.join(viewsDir, 'assets/caregate.css')) },
    'webauthn.js': { type: 'text/javascript', body: readFileSync(path.join(viewsDir, 'assets/webauthn.js')) },
    'autopost.js': { type: 'text/javascript', body: readFileSync(path.join(viewsDir, 'assets/autopost.js')) },
  };

  // Request id, request log line, latency histogram (when metrics are served) and span, around everything.
  const metrics = rt.config.metricsPort === 'off' ? undefined : rt.metrics;
  metrics?.watchStores(app.stores.status);
  const observing = { log: rt.log, metrics, spans, trustProxy: rt.config.trustProxy };
  const https = rt.config.baseUrl.startsWith('https:');
  app.use(koaObserveRequest(observing));
  app.use(koaSecurityHeaders({ https }));
  app.use(koaErrorHandler(rt.render, rt.log));
  app.use(koaRefuseNulInUrl());

  const root = new Router();
  root.get('/health', healthHandler(rt.storage, rt.ephemeral, app.stores));
  root.get('/health/live', livenessHandler());
  root.get('/health/ready', readinessHandler(rt.storage, rt.ephemeral, app.stores));
  root.get('/assets/:file', (ctx) => {
    const asset = Object.hasOwn(assets, ctx.params.file!) ? assets[ctx.params.file!] : undefined;
    if (!asset) throw new NotFoundError('There is nothing here.');
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  });
  const consoleAssets = loadConsoleAssets();
  root.get('/console/*file', (ctx) => {
    const file = ctx.params.file as string | string[] | undefined;
    const asset = consoleAssets.get(Array.isArray(file) ? file.join('/') : (file ?? ''));
    if (!asset) throw new NotFoundError('There is nothing here.');
    ctx.type = asset.type;
    // Revalidated at each load, so a new release's console is used at once.
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = asset.body;
  });
  // The front door: the bootstrap tenant's landing page (with links to the account page and console).
  root.get('/', (ctx) => ctx.redirect(`/t/${rt.config.bootstrapTenant}`));
  // The admin API's routes are built at its first request: its modules and route table are start-up
  // time that a node serving sign-ins may never need.
  let adminApi: Promise<AdminApi> | undefined;
  const loadAdminApi = () => (adminApi ??= adminApiRoutes(rt).catch((error: unknown) => {
    adminApi = undefined; // tried again at the next request
    throw error;
  }));
  root.all('/admin/api/*path', async (ctx, next) => (await loadAdminApi())(ctx, next));

  const interactions = new Router<TenantState>({ prefix: '/t/:tenant' });
  registerInteractionRoutes(interactions, rt);
  const forms = koaSafeBody(bodyParser({ enableTypes: ['form'], formLimit: '64kb' }));
  const interactionRoutes = interactions.routes();
  const saml = new Router<SamlState>({ prefix: '/t/:tenant' });
  registerSamlRoutes(saml, rt);
  registerFederationRoutes(saml as unknown as Router<FederationState>, { federation: rt.federation, audit: rt.audit, baseUrl: rt.config.baseUrl });
  // SAML messages can be larger than a login form (signed requests with certificates).
  const samlForms = koaSafeBody(bodyParser({ enableTypes: ['form'], formLimit: '512kb' }));
  const samlRoutes = saml.routes();
  const consoleRouter = new Router<TenantState>({ prefix: '/t/:tenant' });
  registerConsoleRoutes(consoleRouter, rt);
  const consoleRoutes = consoleRouter.routes();
  // The tenant's Policy Decision Point (AuthZEN): live decisions for its applications.
  const accessRoutes = registerAccessRoutes(root, rt);

  app.use(async (ctx: Context, next: Next) => {
    const match = TENANT_PATH.exec(ctx.path);
    if (!match) return next();
    const rest = match[2] ?? '/';
    const down = app.stores.down();
    if (down && !READ_ONLY.test(rest)) {
      throw new StoreUnavailableError(`Sign-in is unavailable: Caregate cannot reach its ${down === 'database' ? 'database' : 'session store'}. Try again shortly.`);
    }
    const entry = await rt.providers.get(match[1]!);
    if (!entry) throw new NotFoundError(`There is no organisation called "${match[1]}" here. Check the address.`);
    ctx.state.tenant = entry.tenant;
    ctx.state.provider = entry.provider;
    ctx.state.samlKeys = entry.saml;
    switch (tenantRouteOf(ctx.method, rest)) {
      case 'landing': {
        const issuer = `${rt.config.baseUrl}/t/${entry.tenant.slug}`;
        ctx.type = 'html';
        ctx.body = rt.render('landing', {
          tenant: entry.tenant, title: 'Welcome', issuer,
          accountUrl: `${issuer}/account`, consoleUrl: `${issuer}/admin`, discoveryUrl: `${issuer}/.well-known/openid-configuration`,
        });
        return;
      }
      case 'pages':
        // Sign-in, enrolment, reset and account pages carry secrets, codes and forms: never cached.
        ctx.set('Cache-Control', 'no-store');
        return forms(ctx, () => interactionRoutes(ctx as never, next));
      case 'saml': return samlForms(ctx, () => samlRoutes(ctx as never, next));
      case 'console': return consoleRoutes(ctx as never, next);
      case 'access': return accessRoutes(ctx, next);
      case 'provider':
        // The tenant's OpenID Provider keeps our CSP: the form_post pages it renders (responses,
        // the logout before an account switch) add the hash of their one inline script to
        // script-src, so they submit themselves and nothing else runs.
        handToProvider(ctx.req, ctx.originalUrl, rest, ctx.querystring);
        ctx.respond = false;
        await entry.handle(ctx.req, ctx.res);
    }
  });
  // After the tenant routes: a request for a tenant never walks the admin API's routes.
  app.use(root.routes()).use(root.allowedMethods());

  return Object.assign(app, { listener: providerLane(rt, app, { observe: spans ? undefined : observeDirectRequest(observing), headers: securityHeaders({ https }) }) });
}

/**
 * The provider lane. A request for a tenant's OpenID Provider (the token endpoint, introspection,
 * userinfo, discovery, JWKS) goes straight to that provider when it is built and its keys were
 * checked lately, both stores are up, and its address is plain: with the same request id, security
 * headers, log line and latency histogram as through the Koa app, but without a second Koa context
 * and its middleware around the provider's own (docs/performance.md: a fifth of a discovery
 * request). Everything else goes through the Koa app, which also answers what the lane is unsure
 * of: an unknown or not yet built tenant (and the periodic key check), a store outage, an encoded
 * NUL. Off while tracing is on (`observe` unset), so every request gets its span.
 */
function providerLane(rt: Runtime, app: KoaApp, { observe, headers }: {
  observe?: ReturnType<typeof observeDirectRequest>;
  headers: ReturnType<typeof securityHeaders>;
}): RequestListener {
  const viaKoa = app.callback();
  if (!observe) return viaKoa;
  return (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '';
    const query = target.indexOf('?');
    const match = target.startsWith('/t/') && !target.includes('#') && !hasEncodedNul(target) && !app.stores.down()
      ? TENANT_PATH.exec(query === -1 ? target : target.slice(0, query)) : null;
    const rest = match?.[2] ?? '/';
    const entry = match && tenantRouteOf(req.method, rest) === 'provider' ? rt.providers.ready(match[1]!) : undefined;
    if (!match || !entry) return viaKoa(req, res);
    const route = tenantRouteTemplate(rest);
    observe(req, res, match[0], route, entry.tenant.slug, () => {
      for (const [name, value] of headers) res.setHeader(name, value);
      handToProvider(req, target, rest, query === -1 ? '' : target.slice(query + 1));
      return entry.handle(req, res);
    }).catch((error: unknown) => {
      // The provider answers its own errors; this is for what would otherwise end the process.
      rt.log.error('request failed', { route, method: req.method, error });
      if (res.headersSent) res.destroy();
      else res.writeHead(500).end();
    });
  };
}

type AdminApi = ReturnType<Router['routes']>;

/** The admin API as one middleware: its routes, then 405/501 and OPTIONS for their paths. */
async function adminApiRoutes(rt: Runtime): Promise<AdminApi> {
  const { registerAdminApi } = await import('./admin/index.ts');
  const router = new Router();
  registerAdminApi(router, rt);
  const routes = router.routes();
  const allowed = router.allowedMethods();
  return (ctx, next) => routes(ctx, () => allowed(ctx as never, next));
}
