// Route guard for Express 4/5 and Connect — and plain node:http, whose req/res it only needs:
// verifies the Bearer token, checks the route's permission, and sets `req.caregate`.
import type { CanContext } from './can.ts';
import type { Verifier } from './create-verifier.ts';
import { guardRequest, type GuardOptions, type GuardOutcome, type Principal } from './guard-request.ts';

export interface ExpressLikeRequest {
  headers: { authorization?: string | undefined };
  caregate?: Principal;
}

export interface ExpressLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(chunk: string): unknown;
}

export interface ExpressGuardOptions<Req> extends GuardOptions {
  /** Where the action happens, from the request: `(req) => ({ location: req.params.location })`. */
  context?: (req: Req) => CanContext;
}

declare global {
  // Express declares this namespace for augmentation; with Express's types installed, `req.caregate` is typed.
  namespace Express {
    interface Request {
      caregate?: Principal;
    }
  }
}

// The default request type lets `context` read route parameters without naming Express's types.
export function expressGuard<Req extends ExpressLikeRequest = ExpressLikeRequest & { params: Record<string, string> }>(verify: Verifier, options: ExpressGuardOptions<Req> = {}) {
  const decide = async (req: Req) => guardRequest(verify, req.headers.authorization, { ...options, context: options.context?.(req) });
  return (req: Req, res: ExpressLikeResponse, next: (error?: unknown) => void): void => {
    decide(req).then((outcome) => {
      if (!outcome.allowed) return refuse(res, outcome);
      req.caregate = outcome.principal;
      next();
    }, next);
  };
}

function refuse(res: ExpressLikeResponse, outcome: Extract<GuardOutcome, { allowed: false }>): void {
  res.statusCode = outcome.status;
  res.setHeader('WWW-Authenticate', outcome.challenge);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(outcome.body));
}
