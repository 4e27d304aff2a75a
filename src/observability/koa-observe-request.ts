// The first middleware of every request: gives it an id (a trusted proxy's X-Request-Id, else a new
// one) returned in X-Request-Id and carried by its log lines and audit events; then, once it is
// answered, one log line (method, route template, status, duration, request id, tenant), the
// latency histogram, and — only when tracing is configured — a server span (server-span.ts). Nothing here reads a
// header, query or body beyond X-Request-Id (and traceparent from a trusted proxy), so no secret
// can reach the log this way.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import type { Logger } from '../logger.ts';
import type { Metrics } from './metrics.ts';
import { runInRequest } from './request-context.ts';
import { routeTemplate } from './route-template.ts';
import type { ServerSpan, StartServerSpan } from './server-span.ts';

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

/** The request's id: a trusted proxy's X-Request-Id when it is one we accept, else a new one. */
function requestIdOf(trustProxy: boolean, offered: string | undefined): string {
  return trustProxy && offered && ACCEPTED_ID.test(offered) ? offered : randomUUID();
}

interface Answered {
  method: string;
  path: string;
  route: string;
  status: number;
  seconds: number;
  requestId: string;
  slug: string | undefined;
  span?: ServerSpan;
}

/** Once a request is answered: its latency in the histogram, the end of its span, its log line. */
function recordAnswer({ log, metrics }: ObserveRequestOptions, { method, path, route, status, seconds, requestId, slug, span }: Answered) {
  metrics?.request(method, route, status, seconds);
  span?.end(route, status, slug);
  (QUIET.test(path) ? log.debug : log.info)('request', {
    method, route, status, durationMs: Math.round(seconds * 10_000) / 10, requestId,
    ...(slug ? { tenant: slug } : {}), ...(span ? { traceId: span.traceId } : {}),
  });
}

export function koaObserveRequest(options: ObserveRequestOptions) {
  const { spans, trustProxy } = options;
  return async function observeRequest(ctx: Context, next: Next) {
    const started = performance.now();
    const requestId = requestIdOf(trustProxy, ctx.get('x-request-id'));
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
      const seconds = (performance.now() - started) / 1000;
      recordAnswer(options, { method: ctx.method, path: ctx.path, route: routeTemplate(ctx), status, seconds, requestId, slug: tenantOf(ctx), span });
    }
  };
}

/**
 * The same for a request answered outside Koa (app.ts's provider lane, which is not taken while
 * tracing is on, so there is no span): `route` is its template, `slug` its tenant's.
 */
export function observeDirectRequest(options: ObserveRequestOptions) {
  return async function observeDirect(req: IncomingMessage, res: ServerResponse, path: string, route: string, slug: string, handle: () => Promise<void>) {
    const started = performance.now();
    const offered = req.headers['x-request-id'];
    const requestId = requestIdOf(options.trustProxy, typeof offered === 'string' ? offered : undefined);
    res.setHeader('X-Request-Id', requestId);
    try {
      await runInRequest({ requestId }, handle);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      recordAnswer(options, { method: req.method ?? 'GET', path, route, status: res.statusCode, seconds, requestId, slug });
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
