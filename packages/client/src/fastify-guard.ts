// Route guard for Fastify, as an onRequest or preHandler hook: verifies the Bearer token, checks
// the route's permission, and sets `request.caregate`.
import type { CanContext } from './can.ts';
import type { Verifier } from './create-verifier.ts';
import { guardRequest, type GuardOptions, type Principal } from './guard-request.ts';

export interface FastifyLikeRequest {
  headers: { authorization?: string | undefined };
  caregate?: Principal;
}

export interface FastifyLikeReply {
  code(statusCode: number): unknown;
  header(name: string, value: string): unknown;
  send(payload?: unknown): unknown;
}

export interface FastifyGuardOptions<Req> extends GuardOptions {
  /** Where the action happens, from the request: `(request) => ({ location: request.params.location })`. */
  context?: (request: Req) => CanContext;
}

// The default request type lets `context` read route parameters (typed `unknown` by Fastify).
export function fastifyGuard<Req extends FastifyLikeRequest = FastifyLikeRequest & { params: any }>(verify: Verifier, options: FastifyGuardOptions<Req> = {}) {
  // The hook's own parameters are the structural types: typed by Req, Fastify would infer `never` for it.
  return async (request: FastifyLikeRequest, reply: FastifyLikeReply): Promise<unknown> => {
    const outcome = await guardRequest(verify, request.headers.authorization, { ...options, context: options.context?.(request as Req) });
    if (!outcome.allowed) {
      reply.code(outcome.status);
      reply.header('WWW-Authenticate', outcome.challenge);
      reply.header('Cache-Control', 'no-store');
      // An async hook that has answered returns the reply, so Fastify stops the chain there.
      return reply.send(outcome.body);
    }
    request.caregate = outcome.principal;
    return undefined;
  };
}
