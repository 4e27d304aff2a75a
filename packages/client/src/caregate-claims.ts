// The claims of a Caregate access token that a relying application reads (the token contract in
// Caregate's README). Which appear depends on the scopes asked for: `roles` brings roles,
// permissions and phi; `locations` the per-location claims; `institutions` the institution keys.
import type { JWTPayload } from 'jose';

/**
 * Limits on one permission, e.g. `{ maxAmount: 500 }` on "billing:charges:approve". A name this
 * package does not know (from a newer Caregate) may appear at run time: can() refuses it.
 */
export interface PermissionConstraints {
  /** The largest `amount` the action may carry (inclusive). */
  maxAmount?: number;
}

export interface CaregateClaims extends JWTPayload {
  tenant: string;
  tenant_id: string;
  roles?: string[];
  /** Tenant-wide permissions: "feature:action", or "feature:action:own" for the subject's own records. */
  permissions?: string[];
  /** Location key → role keys held there. */
  locations?: Record<string, string[]>;
  /** Location key → permissions held only there. */
  location_permissions?: Record<string, string[]>;
  /** Institution keys the subject is assigned to. */
  institutions?: string[];
  teams?: string[];
  phi?: boolean;
  /** Permission → limits on it, e.g. {"billing:charges:approve": {"maxAmount": 500}}. */
  constraints?: Record<string, PermissionConstraints>;
  /** Role key (a whole role delegated) or permission (part of one) → the user ids who delegated it. */
  delegated_from?: Record<string, string[]>;
}
