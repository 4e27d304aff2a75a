// The framework-free core of the route guards: reads the Bearer token (RFC 6750 §2.1), verifies it,
// checks a permission, and says either who the principal is or how to refuse — 401 with a bare
// challenge when no token was sent, 401 invalid_token, 400 invalid_request, 403 insufficient_scope.
import { can, type CanContext } from './can.ts';
import type { CaregateClaims } from './caregate-claims.ts';
import type { Verifier } from './create-verifier.ts';
import { InvalidTokenError } from './invalid-token-error.ts';

/** Who called: the verified claims, the token itself (to pass on downstream) and `can` on them. */
export interface Principal {
  claims: CaregateClaims;
  token: string;
  can(permission: string, context?: CanContext): boolean;
}

export interface GuardOptions {
  /** Permission the route needs ("reports:read"); without it, any valid token passes. */
  permission?: string;
  /** The `realm` of the WWW-Authenticate challenge. Default: the verifier's audience. */
  realm?: string;
}

export type GuardOutcome =
  | { allowed: true; principal: Principal }
  | { allowed: false; status: 400 | 401 | 403; challenge: string; body: { error?: BearerError; error_description: string } };

export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Decides one request from its Authorization header. A verifier failure that is not the token's
 * fault (Caregate's JWKS unreachable) is thrown, for the framework to answer as a server error.
 */
export async function guardRequest(
  verify: Verifier,
  authorization: string | undefined,
  { permission, realm = verify.audience, context }: GuardOptions & { context?: CanContext } = {},
): Promise<GuardOutcome> {
  const refuse = (status: 400 | 401 | 403, error: BearerError | undefined, description: string): GuardOutcome => ({
    allowed: false,
    status,
    challenge: bearerChallenge(realm, error, description),
    body: error ? { error, error_description: description } : { error_description: description },
  });

  // 1. A request without Bearer credentials gets the challenge alone (RFC 6750 §3.1: no error code).
  const [scheme, ...rest] = (authorization ?? '').trim().split(/ +/);
  if (!scheme || scheme.toLowerCase() !== 'bearer') return refuse(401, undefined, 'A Bearer access token is required');
  // 2. A Bearer header whose token is missing or not token68 is a malformed request.
  const token = rest.length === 1 ? rest[0]! : '';
  if (!B64TOKEN.test(token)) return refuse(400, 'invalid_request', 'The Authorization header is malformed');
  // 3. The token must verify: signature from the tenant's JWKS, issuer, audience, type, lifetime.
  let claims: CaregateClaims;
  try {
    claims = await verify(token);
  } catch (error) {
    if (error instanceof InvalidTokenError) return refuse(401, 'invalid_token', error.message);
    throw error;
  }
  // 4. The route's permission, when it names one, must be granted in the given context.
  if (permission !== undefined && !can(claims, permission, context)) {
    return refuse(403, 'insufficient_scope', 'The access token does not grant this action');
  }
  return { allowed: true, principal: { claims, token, can: (p, c) => can(claims, p, c) } };
}

/**
 * A WWW-Authenticate value for the Bearer scheme (RFC 6750 §3), for handlers that refuse on their
 * own after `can()`: `bearerChallenge(realm, 'insufficient_scope')` with a 403.
 */
export function bearerChallenge(realm: string, error?: BearerError, description?: string): string {
  const params = [`realm=${quoted(realm)}`];
  if (error) params.push(`error="${error}"`);
  if (error && description) params.push(`error_description=${quoted(description)}`);
  return `Bearer ${params.join(', ')}`;
}

/** An HTTP quoted-string: backslash and double quote escaped, control characters dropped. */
function quoted(value: string): string {
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["\\]/g, '\\$&')}"`;
}
