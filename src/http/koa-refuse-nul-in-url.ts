// Refuses a request whose path or query carries an encoded NUL (%00) with 400, before routing: the
// router and query parser would decode it into a value that PostgreSQL refuses (a 500 otherwise).
// A literal NUL never arrives: Node's HTTP parser rejects it in the request line.
import type { Context, Next } from 'koa';
import { ValidationError } from '../errors.ts';

const ENCODED_NUL = /%00/;

/** True when the request target carries an encoded NUL (the middleware below refuses it). */
export const hasEncodedNul = (url: string) => ENCODED_NUL.test(url);

export function koaRefuseNulInUrl() {
  return async (ctx: Context, next: Next) => {
    if (hasEncodedNul(ctx.url)) throw new ValidationError('The address contains a NUL character (%00), which Caregate does not accept.');
    await next();
  };
}
