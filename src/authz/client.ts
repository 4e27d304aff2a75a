// caregate/client — the relying-party SDK. Verifies a Caregate token against the tenant's JWKS
// (fetched once and cached by jose) and answers permission questions from its claims.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface CaregateClaims extends JWTPayload {
  tenant: string;
  tenant_id: string;
  roles?: string[];
  permissions?: string[];
  locations?: Record<string, string[]>;
  location_permissions?: Record<string, string[]>;
  institutions?: string[];
  teams?: string[];
  phi?: boolean;
}

export interface VerifierOptions {
  issuer: string;
  audience: string;
}

export function createVerifier({ issuer, audience }: VerifierOptions) {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  return async (token: string): Promise<CaregateClaims> => {
    const { payload } = await jwtVerify(token, jwks, { issuer, audience });
    return payload as CaregateClaims;
  };
}

export interface CanContext {
  /** Location key where the action happens; location-scoped roles count only there. */
  location?: string;
  /** Owner of the record; "feature:action:own" allows the action only when it is the subject. */
  ownerId?: string;
}

/** Whether the token's subject may perform `permission` ("notes:edit") in `context`. */
export function can(claims: CaregateClaims, permission: string, context: CanContext = {}): boolean {
  const held = new Set(claims.permissions ?? []);
  if (context.location) (claims.location_permissions?.[context.location] ?? []).forEach((p) => held.add(p));
  if (held.has(permission)) return true;
  return held.has(`${permission}:own`) && context.ownerId !== undefined && context.ownerId === claims.sub;
}
