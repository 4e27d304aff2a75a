// Mounts the tenant's Policy Decision Point (OpenID AuthZEN Authorization API 1.0): the two
// evaluation endpoints, each a table of steps, and the PDP metadata — at {issuer}/.well-known/
// authzen-configuration and, as RFC 8615 inserts it, at /.well-known/authzen-configuration/t/{tenant}.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import { NotFoundError, ValidationError } from '../errors.ts';
import { koaSafeBody } from '../http/index.ts';
import { createClaimsSource, createClientAuthenticator, issuerOf, type ClientAuthenticator } from '../oidc/index.ts';
import type { Runtime } from '../runtime.ts';
import type { Tenant } from '../storage/index.ts';
import { accessEvaluation } from './access-evaluation.ts';
import { accessEvaluations } from './access-evaluations.ts';
import { createEvaluationAnswerer, type SubjectSource } from './answer-evaluation.ts';
import { authzenConfiguration } from './authzen-configuration.ts';
import { koaAuthenticateApplication, type AccessState } from './koa-authenticate-application.ts';

export type AccessDeps = Pick<Runtime, 'config' | 'storage' | 'box' | 'claimsCache' | 'audit' | 'providers' | 'accounts'>;

/** Why a presented key does not count, as a decision's reason (never which part of it was wrong). */
const KEY_REFUSALS: Record<string, string> = { malformed: 'unknown_subject', unknown: 'unknown_subject', wrong_secret: 'unknown_subject', revoked: 'key_revoked', expired: 'key_expired', rate_limited: 'key_rate_limited' };

/** Subjects by id (the claims source tokens use) and by API key (the key gate the admin API uses). */
function subjectSource(deps: AccessDeps, tenant: Tenant): SubjectSource {
  const claims = createClaimsSource(deps.storage, tenant, deps.claimsCache);
  return {
    ...claims,
    async apiKey(value, address) {
      const checked = await deps.accounts.apiKeys.check(tenant, value, { ip: address ?? null });
      if (!checked.ok) return { refused: KEY_REFUSALS[checked.reason] ?? 'unknown_subject' };
      const user = await claims.findActiveUser(checked.key.serviceUserId);
      return user ? { user, permissions: checked.key.permissions } : { refused: 'unknown_subject' };
    },
  };
}

/** The paths under /t/{tenant} this module serves. */
export const ACCESS_PATH = /^\/(access\/v1\/evaluations?|\.well-known\/authzen-configuration)$/;

/** Echoes the PEP's X-Request-ID (AuthZEN, Request Identification: the PDP MUST return it). */
async function koaEchoRequestId(ctx: Context, next: Next) {
  const id = ctx.get('x-request-id');
  if (id) ctx.set('X-Request-ID', id);
  await next();
}

/** Decisions are of this moment: never stored by a cache on the way. */
async function koaNoStore(ctx: Context, next: Next) {
  ctx.set('Cache-Control', 'no-store');
  await next();
}

/** The HTTPS binding sends JSON objects (Content-Type: application/json). */
async function koaRequireJson(ctx: Context, next: Next) {
  if (!ctx.is('application/json')) throw new ValidationError('Send the evaluation as a JSON object, with Content-Type: application/json.');
  await next();
}

/**
 * Registers the RFC 8615 metadata URL on `root`; returns the routes under /t/{tenant}, for requests
 * whose tenant the caller has resolved (ctx.state.tenant).
 */
export function registerAccessRoutes(root: Router, deps: AccessDeps): Middleware {
  const tenantRouter = new Router({ prefix: '/t/:tenant' });
  // Per tenant (as the provider registry holds it): the client authenticator and the subject source.
  const perTenant = new WeakMap<Tenant, { authenticate: ClientAuthenticator; subjects: SubjectSource }>();
  const of = (tenant: Tenant) => {
    let found = perTenant.get(tenant);
    if (!found) perTenant.set(tenant, (found = { authenticate: createClientAuthenticator(deps, tenant), subjects: subjectSource(deps, tenant) }));
    return found;
  };
  const authenticate = koaAuthenticateApplication(deps.audit, (tenant) => of(tenant).authenticate, (tenant) => issuerOf(deps.config, tenant));
  const json = koaSafeBody(bodyParser({ enableTypes: ['json'], jsonLimit: '256kb' }));
  const answererOf = (ctx: Context) => {
    const { tenant, client } = ctx.state as AccessState;
    return createEvaluationAnswerer(of(tenant).subjects, client);
  };

  const endpoints = {
    '/access/v1/evaluation': [koaEchoRequestId, koaNoStore, authenticate, koaRequireJson, json, accessEvaluation(deps.audit, answererOf)],
    '/access/v1/evaluations': [koaEchoRequestId, koaNoStore, authenticate, koaRequireJson, json, accessEvaluations(deps.audit, answererOf)],
  };
  for (const [path, steps] of Object.entries(endpoints)) tenantRouter.post(path, ...(steps as [Middleware]));

  const metadata = (ctx: Context, tenant: Tenant) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = authzenConfiguration(issuerOf(deps.config, tenant));
  };
  tenantRouter.get('/.well-known/authzen-configuration', (ctx) => metadata(ctx, (ctx.state as AccessState).tenant));
  root.get('/.well-known/authzen-configuration/t/:tenant', async (ctx) => {
    const entry = /^[a-z0-9][a-z0-9-]{0,62}$/.test(ctx.params.tenant!) ? await deps.providers.get(ctx.params.tenant!) : undefined;
    if (!entry) throw new NotFoundError(`There is no organisation called "${ctx.params.tenant}" here.`);
    metadata(ctx, entry.tenant);
  });
  return tenantRouter.routes() as Middleware;
}
