// Typed errors: each condition a caller can act on has a class with its HTTP status and a stable
// code. `expose` says whether the message is safe to show to the person who caused it.
export class CaregateError extends Error {
  readonly status: number = 500;
  readonly code: string = 'internal_error';
  readonly expose: boolean = false;
  readonly details?: Record<string, unknown>;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class ConfigError extends CaregateError {
  override readonly code = 'invalid_configuration';
}

export class ValidationError extends CaregateError {
  override readonly status = 400;
  override readonly code = 'invalid_request';
  override readonly expose = true;
}

export class NotFoundError extends CaregateError {
  override readonly status = 404;
  override readonly code = 'not_found';
  override readonly expose = true;
}

export class ConflictError extends CaregateError {
  override readonly status = 409;
  override readonly code = 'conflict';
  override readonly expose = true;
}

export class PhiRequiredError extends CaregateError {
  override readonly status = 422;
  override readonly code = 'phi_access_required';
  override readonly expose = true;
}

export class UnauthorizedError extends CaregateError {
  override readonly status = 401;
  override readonly code = 'invalid_token';
  override readonly expose = true;
}

export class ForbiddenError extends CaregateError {
  override readonly status = 403;
  override readonly code = 'insufficient_permissions';
  override readonly expose = true;
}

export class StoreUnavailableError extends CaregateError {
  override readonly status = 503;
  override readonly code = 'store_unavailable';
  override readonly expose = true;
}

/**
 * An administrator's change refused by the rule of who may change what: granting more than they
 * hold, or changing their own access. The admin API audits it (admin.forbidden) after the
 * transaction it interrupted has rolled back.
 */
export class AdminRefusalError extends CaregateError {
  override readonly status = 403;
  override readonly code: string = 'escalation_refused';
  override readonly expose = true;
}

/** Too many requests for one credential (an API key's per-minute limit); the caller may retry after `retryAfterSeconds`. */
export class RateLimitedError extends CaregateError {
  override readonly status = 429;
  override readonly code = 'rate_limited';
  override readonly expose = true;
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { retryAfterSeconds });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Granting (or taking away) a role whose permissions the actor does not all hold at that scope. */
export class EscalationError extends AdminRefusalError {
  override readonly code = 'escalation_refused';
}

/** Changing one's own assignments, team memberships, account status, flags or factors through admin paths. */
export class SelfChangeError extends AdminRefusalError {
  override readonly code = 'self_change_refused';
}

/** A delegation the rules do not allow: to oneself, of a delegation or a temporary grant, of someone else's role. */
export class DelegationRefusedError extends AdminRefusalError {
  override readonly code = 'delegation_refused';
}

/**
 * A command line the running server would not take over its local socket: a wrong or stale secret,
 * or an operator whose user may not reach the socket (src/cli/cli-endpoint.ts).
 */
export class CliRefusedError extends CaregateError {
  override readonly status = 403;
  override readonly code = 'cli_refused';
  override readonly expose = true;
}
