// A verifier for the guards' unit tests (not built into the package): "good-token" verifies to
// `claims`, "expired-token" and "forged-token" fail as tokens do, "jwks-down" fails as an
// unreachable JWKS does. Records the tokens it was asked about.
import type { CaregateClaims } from '../caregate-claims.ts';
import type { Verifier } from '../create-verifier.ts';
import { InvalidTokenError } from '../invalid-token-error.ts';

export const claims: CaregateClaims = {
  sub: 'user-1',
  tenant: 'acme',
  tenant_id: 'tenant-1',
  permissions: ['reports:read'],
  location_permissions: { 'loc-north': ['schedule:approve'] },
};

export function fakeVerifier(audience = 'urn:caregate:app:chart'): Verifier & { asked: string[] } {
  const asked: string[] = [];
  const verify = async (token: string): Promise<CaregateClaims> => {
    asked.push(token);
    if (token === 'good-token') return claims;
    if (token === 'expired-token') throw new InvalidTokenError('expired');
    if (token === 'jwks-down') throw new TypeError('fetch failed');
    throw new InvalidTokenError('invalid');
  };
  return Object.assign(verify, { issuer: 'https://id.example.org/t/acme', audience, asked });
}
