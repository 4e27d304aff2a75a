// Wraps a body parser so that every parsed body is checked before any handler sees it: no NUL
// character in a value or a field name, no nesting past MAX_INPUT_DEPTH (400 otherwise).
import type { Context, Middleware, Next } from 'koa';
import { refuseUnsafeInput } from './unsafe-input.ts';

export function koaSafeBody(parser: Middleware): Middleware {
  return (ctx: Context, next: Next) =>
    parser(ctx, async () => {
      refuseUnsafeInput((ctx.request as { body?: unknown }).body, 'request body');
      await next();
    });
}
