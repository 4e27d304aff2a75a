// Offline permission decisions from a verified token's claims: tenant-wide and per-location
// permissions, institution membership, own-only permissions and per-permission constraints.
import type { CaregateClaims, PermissionConstraints } from './caregate-claims.ts';

export interface CanContext {
  /** Location key where the action happens; permissions held at a location count only there. */
  location?: string;
  /** Institution key of the record; the subject must be assigned to it (the `institutions` claim). */
  institution?: string;
  /** Owner of the record; "feature:action:own" allows the action only when it is the subject. */
  ownerId?: string;
  /** Amount the action carries, checked against a `maxAmount` constraint. */
  amount?: number;
}

/**
 * Whether the token's subject may perform `permission` ("notes:edit") in `context`. Ask for the
 * action itself: "notes:edit:own" is answered as "notes:edit", the owner deciding the own-only form.
 * Anything the claims cannot vouch for is refused — a missing claim, an unknown constraint.
 */
export function can(claims: CaregateClaims, permission: string, context: CanContext = {}): boolean {
  const action = permission.endsWith(':own') ? permission.slice(0, -4) : permission;
  if (context.institution !== undefined && !(claims.institutions ?? []).includes(context.institution)) return false;
  const held = heldPermissions(claims, context.location);
  const granted = held.has(action) ? action : held.has(`${action}:own`) && ownsRecord(claims, context) ? `${action}:own` : undefined;
  if (granted === undefined) return false;
  // A constraint filed under either form of the permission binds it.
  return withinConstraints(claims.constraints?.[action], context) && withinConstraints(claims.constraints?.[granted], context);
}

/** Tenant-wide permissions, plus those held at `location` when one is given. */
function heldPermissions(claims: CaregateClaims, location: string | undefined): Set<string> {
  const held = new Set(claims.permissions ?? []);
  if (location !== undefined) (claims.location_permissions?.[location] ?? []).forEach((p) => held.add(p));
  return held;
}

function ownsRecord(claims: CaregateClaims, context: CanContext): boolean {
  return context.ownerId !== undefined && claims.sub !== undefined && context.ownerId === claims.sub;
}

/** True when every constraint is known and met; an unknown or malformed one refuses (fail closed). */
function withinConstraints(constraints: PermissionConstraints | undefined, context: CanContext): boolean {
  if (constraints === undefined) return true;
  if (typeof constraints !== 'object' || constraints === null || Array.isArray(constraints)) return false;
  return Object.entries(constraints).every(([name, limit]) => {
    if (name !== 'maxAmount') return false;
    return typeof limit === 'number' && typeof context.amount === 'number' && Number.isFinite(context.amount) && context.amount <= limit;
  });
}
