// The one error a verifier throws for a token that cannot be trusted. Failures that are not the
// token's fault (the JWKS unreachable, timed out or malformed) pass through as they are, so a
// guard answers them as a server error instead of telling the client to drop a good token.
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  /** `expired` when only the lifetime failed (a refresh will help); `invalid` otherwise. */
  readonly reason: 'expired' | 'invalid';

  constructor(reason: 'expired' | 'invalid', options?: { cause?: unknown }) {
    super(reason === 'expired' ? 'The access token expired' : 'The access token is not valid', options);
    this.reason = reason;
  }
}

// jose error codes that describe the token itself (its form, signature, key id, algorithm, claims).
const TOKEN_FAULTS = new Set([
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWE_INVALID',
  'ERR_JWE_DECRYPTION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/** The InvalidTokenError for a jose failure caused by the token, else the error unchanged. */
export function toTokenError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !TOKEN_FAULTS.has(code)) return error;
  return new InvalidTokenError(code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid', { cause: error });
}
