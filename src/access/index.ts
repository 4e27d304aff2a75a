// The tenant's Policy Decision Point: live access decisions for applications (OpenID AuthZEN
// Authorization API 1.0), answered by the evaluator tokens come from.
export { registerAccessRoutes, ACCESS_PATH, type AccessDeps } from './register-access-routes.ts';
export { MAX_EVALUATIONS } from './authzen-request.ts';
