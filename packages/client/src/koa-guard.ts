// Route guard for Koa: verifies the Bearer token, checks the route's permission, and sets
// `ctx.state.caregate`.
import type { CanContext } from './can.ts';
import type { Verifier } from './create-verifier.ts';
import { guardRequest, type GuardOptions } from './guard-request.ts';

export interface KoaLikeContext {
  get(field: string): string;
  set(field: string, value: string): unknown;
  status: number;
  body: unknown;
  state: Record<string, unknown>;
}

export interface KoaGuardOptions<Ctx> extends GuardOptions {
  /** Where the action happens, from the request: `(ctx) => ({ location: ctx.params.location })`. */
  context?: (ctx: Ctx) => CanContext;
}

// The default context type lets `context` read @koa/router's parameters without naming Koa's types.
export function koaGuard<Ctx extends KoaLikeContext = KoaLikeContext & { params?: Record<string, string> }>(verify: Verifier, options: KoaGuardOptions<Ctx> = {}) {
  return async (ctx: Ctx, next: () => Promise<unknown>): Promise<void> => {
    const outcome = await guardRequest(verify, ctx.get('authorization') || undefined, { ...options, context: options.context?.(ctx) });
    if (!outcome.allowed) {
      ctx.status = outcome.status;
      ctx.set('WWW-Authenticate', outcome.challenge);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = outcome.body;
      return;
    }
    ctx.state.caregate = outcome.principal;
    await next();
  };
}
