// Verifies a Caregate access token against the tenant's JWKS (fetched on first use, cached and
// refreshed by jose when a new key id appears) and returns its claims.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { CaregateClaims } from './caregate-claims.ts';
import { toTokenError } from './invalid-token-error.ts';

export interface VerifierOptions {
  /** The tenant's issuer, exactly as tokens carry it: `https://id.example.org/t/acme`. */
  issuer: string;
  /** Your API's resource identifier (`--resource`, default `urn:caregate:app:<client_id>`). */
  audience: string;
  /** Clock skew to tolerate on `exp`/`nbf`, in seconds or as "30s". Default: none. */
  clockTolerance?: number | string;
}

export interface Verifier {
  /** The token's claims; rejects with InvalidTokenError when the token cannot be trusted. */
  (token: string): Promise<CaregateClaims>;
  readonly issuer: string;
  readonly audience: string;
}

// Caregate signs with ES256 by default and RS256 for clients that ask; nothing else is accepted.
const ALGORITHMS = ['ES256', 'RS256'];

export function createVerifier({ issuer, audience, clockTolerance }: VerifierOptions): Verifier {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const verify = async (token: string): Promise<CaregateClaims> => {
    try {
      // typ at+jwt (RFC 9068 §4): an ID token or any other JWT from the issuer is not an access token.
      const { payload } = await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt', algorithms: ALGORITHMS, clockTolerance });
      return payload as CaregateClaims;
    } catch (error) {
      throw toTokenError(error);
    }
  };
  return Object.assign(verify, { issuer, audience });
}
