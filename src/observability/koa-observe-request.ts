// The first middleware of every request: gives it an id (a trusted proxy's X-Request-Id, else a new
// one) returned in X-Request-Id and carried by its log lines and audit events; then, once it is
// answered, one log line (method, route template, status, duration, request id, tenant), the
// latency histogram, and — only when tracing is configured — a server span (server-span.ts). Nothing here reads a
// header, query or body beyond X-Request-Id (and traceparent from a trusted proxy), so no secret
// can reach the log this way.
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../logger.ts';
import type { Metrics } from './metrics.ts';
import { runInRequest } from './request-context.ts';
import { routeTemplate } from './route-template.ts';
import type { StartServerSpan } from './server-span.ts';

export interface ObserveRequestOptions {
  log: Logger;
  /** Unset: no latency histogram (no metrics listener). */
  metrics?: Metrics;
  /** Unset (tracing off): no span is created, not even a no-op one. */
  spans?: StartServerSpan;
  /** CAREGATE_TRUST_PROXY: the proxy's X-Request-Id (and trace context) are taken. */
  trustProxy: boolean;
}

// What a proxy may hand us as a request id: short, and nothing that could break a log line.
const ACCEPTED_ID = /^[A-Za-z0-9._:@+=/-]{8,128}$/;
// Probes and scrapes: every few seconds from the load balancer, of no interest at info level.
const QUIET = /^\/health(\/|$)/;
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function koaObserveRequest({ log, metrics, spans, trustProxy }: ObserveRequestOptions) {
  return async function observeRequest(ctx: Context, next: Next) {
    const started = performance.now();
    const offered = trustProxy ? ctx.get('x-request-id') : '';
    const requestId = ACCEPTED_ID.test(offered) ? offered : randomUUID();
    ctx.set('X-Request-Id', requestId);
    const span = spans?.(ctx, requestId);
    let failed: { status?: number } | undefined;
    try {
      const handle = () => runInRequest({ requestId }, next);
      await (span ? span.run(handle) : handle());
    } catch (error) {
      failed = error as { status?: number };
      throw error;
    } finally {
      const status = failed ? (Number.isInteger(failed.status) ? failed.status! : 500) : ctx.status;
      const route = routeTemplate(ctx);
      const seconds = (performance.now() - started) / 1000;
      const slug = tenantOf(ctx);
      metrics?.request(ctx.method, route, status, seconds);
      span?.end(route, status, slug);
      (QUIET.test(ctx.path) ? log.debug : log.info)('request', {
        method: ctx.method, route, status, durationMs: Math.round(seconds * 10_000) / 10, requestId,
        ...(slug ? { tenant: slug } : {}), ...(span ? { traceId: span.traceId } : {}),
      });
    }
  };
}

/** The tenant's slug: of a tenant that exists (its pages and OpenID endpoints), or the admin API's path parameter. */
function tenantOf(ctx: Context): string | undefined {
  const known = (ctx.state.tenant as { slug?: string } | undefined)?.slug;
  if (known) return known;
  const param = (ctx.params as Record<string, string> | undefined)?.tenant;
  return param && SLUG.test(param) ? param : undefined;
}
