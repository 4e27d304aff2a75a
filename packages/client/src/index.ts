// @caregate/client — protect an API with Caregate access tokens: verify them offline against the
// tenant's JWKS, decide permissions from their claims, and guard Express, Koa and Fastify routes.
export type { CaregateClaims, PermissionConstraints } from './caregate-claims.ts';
export { createVerifier, type Verifier, type VerifierOptions } from './create-verifier.ts';
export { InvalidTokenError } from './invalid-token-error.ts';
export { can, type CanContext } from './can.ts';
export { bearerChallenge, guardRequest, type BearerError, type GuardOptions, type GuardOutcome, type Principal } from './guard-request.ts';
export { expressGuard, type ExpressGuardOptions, type ExpressLikeRequest, type ExpressLikeResponse } from './express-guard.ts';
export { koaGuard, type KoaGuardOptions, type KoaLikeContext } from './koa-guard.ts';
export { fastifyGuard, type FastifyGuardOptions, type FastifyLikeReply, type FastifyLikeRequest } from './fastify-guard.ts';
export { createChecker, CheckError, type Checker, type CheckerOptions, type CheckContext, type Decision } from './check.ts';
