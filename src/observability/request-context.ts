// The request a piece of work belongs to, without passing it down every call: its id travels with
// the request's async context, so a log line or an audit event written anywhere beneath the
// request names it (CONVENTIONS point 15: set once per request).
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  requestId: string;
}

const current = new AsyncLocalStorage<RequestContext>();

export function runInRequest<T>(context: RequestContext, work: () => T): T {
  return current.run(context, work);
}

/** The id of the request this code runs for; undefined outside a request (a timer, a CLI command). */
export function currentRequestId(): string | undefined {
  return current.getStore()?.requestId;
}
