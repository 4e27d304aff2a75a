// One error handler for Caregate's own routes: JSON for the API, a page for people. Internal
// errors are logged with their stack and shown as a generic message; nothing leaks a stack trace.
import type { Context, Next } from 'koa';
import { CaregateError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { routeTemplate } from '../observability/index.ts';
import type { Render } from './views.ts';

// Library errors that mean a store is unreachable (pg, ioredis), translated to 503 at the edge.
const STORE_DOWN = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|Connection terminated|connect ECONN|Stream isn't writeable|enableOfflineQueue|timeout exceeded when trying to connect|Connection is closed|Command timed out|Socket timeout|Redis not reachable|Query read timeout/i;

interface Shaped {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

function shape(error: unknown): Shaped {
  if (error instanceof CaregateError) {
    return error.expose
      ? { status: error.status, code: error.code, message: error.message, details: error.details }
      : { status: error.status, code: error.code, message: 'Something went wrong on our side.' };
  }
  const e = error as { status?: number; statusCode?: number; expose?: boolean; message?: string };
  const status = e.status ?? e.statusCode;
  if (status && status < 500) {
    return { status, code: status === 404 ? 'not_found' : status === 403 ? 'forbidden' : 'invalid_request', message: e.expose === false ? 'Bad request.' : (e.message ?? 'Bad request.') };
  }
  if (STORE_DOWN.test(String(e.message))) {
    return { status: 503, code: 'store_unavailable', message: 'Caregate cannot reach its data store right now. Try again shortly.' };
  }
  return { status: 500, code: 'internal_error', message: 'Something went wrong on our side.' };
}

export function koaErrorHandler(render: Render, log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        ctx.throw(404, 'There is nothing at this address.');
      }
    } catch (error) {
      const out = shape(error);
      // The route template, not the path: a path can carry a reset or invitation token.
      if (out.status >= 500) log.error('request failed', { route: routeTemplate(ctx), method: ctx.method, error });
      ctx.status = out.status;
      if (out.status === 503) ctx.set('Retry-After', '5');
      // People get a page; APIs (admin, health, and the OAuth endpoints under /t/{tenant}) get JSON.
      const oauthEndpoint = /^\/t\/[^/]+\/(token|me|jwks|\.well-known|access\/)/.test(ctx.path) || ctx.path.startsWith('/.well-known/');
      const wantsJson = ctx.path.startsWith('/admin/api') || /^\/health(\/|$)/.test(ctx.path) || oauthEndpoint || !ctx.accepts('html');
      if (wantsJson) {
        ctx.body = { error: out.code, error_description: out.message, ...(out.details ? { details: out.details } : {}) };
      } else {
        ctx.type = 'html';
        ctx.body = render('error', { title: out.status === 404 ? 'Not found' : 'Sign-in problem', tenant: ctx.state.tenant, description: out.message, error: out.code });
      }
    }
  };
}
