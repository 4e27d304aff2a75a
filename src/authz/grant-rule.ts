// The no-escalation rule (DESIGN.md, Administration): whoever grants a role — to a user, a team,
// an application's service account or through a mapping rule — must hold every permission it
// carries, at the scope of the grant or above. Pure: the caller loads the snapshots; this decides.
import { assignmentPermissions, isEffective, locationAndDescendants, withDerived, type AuthzSnapshot } from './project-claims.ts';
import { CONSTRAINT_NAMES, leastRestrictive, roleConstraints, type PermissionConstraints } from './constraints.ts';
import { basePermission, permissionCovered } from './permissions.ts';

/** Where an assignment applies. `scopeId` is null only tenant-wide. */
export interface ScopeRef {
  scopeType: 'tenant' | 'location' | 'institution' | 'application';
  scopeId: string | null;
}

/** True when an assignment at `outer` also applies at `inner`: tenant-wide covers all, a location its subtree. */
export function scopeContains(outer: ScopeRef, inner: ScopeRef, locations: AuthzSnapshot['locations']): boolean {
  if (outer.scopeType === 'tenant') return true;
  if (outer.scopeType !== inner.scopeType) return false;
  if (outer.scopeType === 'location') return locationAndDescendants(outer.scopeId, locations).includes(inner.scopeId ?? '');
  return outer.scopeId === inner.scopeId;
}

/**
 * The permissions (as written, wildcards included) a user holds at `at`: those of every assignment
 * in effect now whose scope contains it, directly or through a team. PHI roles count only for a
 * user with the PHI flag, as in tokens.
 */
export function heldPermissions(snapshot: AuthzSnapshot, at: ScopeRef, now = new Date()): Set<string> {
  const held = new Set<string>();
  for (const a of withDerived(snapshot, now)) {
    if (!isEffective(a, snapshot, now) || !scopeContains(a, at, snapshot.locations)) continue;
    assignmentPermissions(a, snapshot.roles).forEach((p) => held.add(p));
  }
  return held;
}

/** Every permission (as written) a user holds at any scope: what an administrator of them must hold. */
export function allPermissions(snapshot: AuthzSnapshot, now = new Date()): Set<string> {
  const all = new Set<string>();
  for (const a of withDerived(snapshot, now)) {
    if (isEffective(a, snapshot, now)) assignmentPermissions(a, snapshot.roles).forEach((p) => all.add(p));
  }
  return all;
}

/** Permissions that confer admin rights: the `caregate.*` namespace and the `*` that includes it. */
export const isAdminPermission = (permission: string): boolean => permission === '*' || permission.startsWith('caregate.');

/**
 * Where a user holds `permission`: the scopes of every assignment in effect whose role covers it,
 * tenant-wide first. Empty: not held anywhere. What an administrator may see and change is bounded
 * by these (DESIGN.md, Administration).
 */
export function scopesHolding(snapshot: AuthzSnapshot, permission: string, now = new Date()): ScopeRef[] {
  const scopes: ScopeRef[] = [];
  for (const a of withDerived(snapshot, now)) {
    if (!isEffective(a, snapshot, now) || !permissionCovered(assignmentPermissions(a, snapshot.roles), permission)) continue;
    if (!scopes.some((s) => s.scopeType === a.scopeType && s.scopeId === a.scopeId)) scopes.push({ scopeType: a.scopeType, scopeId: a.scopeId });
  }
  return scopes.sort((x, y) => Number(y.scopeType === 'tenant') - Number(x.scopeType === 'tenant'));
}

/** A constrained permission a grant would give more freely than the granter holds it. */
export interface WiderLimit {
  permission: string;
  held: PermissionConstraints;
  granted: PermissionConstraints | null;
}

/**
 * The limits a grant would loosen: for each permission the granter holds at `at` only within limits
 * ({"maxAmount": 500}, merged over their grants as tokens merge them), a grant that carries it with
 * no limit or a larger one. Holding a permission is not holding it without limits: an approver of
 * charges up to 500 may not make someone an approver of charges up to 5,000.
 */
export function widerLimits(
  snapshot: AuthzSnapshot,
  at: ScopeRef,
  granted: { permissions: ReadonlySet<string>; constraints: ReadonlyMap<string, PermissionConstraints> },
  now = new Date(),
): WiderLimit[] {
  // The granter's grants there, each with what it carries and the limits it puts on it.
  const mine = withDerived(snapshot, now)
    .filter((a) => isEffective(a, snapshot, now) && scopeContains(a, at, snapshot.locations))
    .map((a) => ({ carries: assignmentPermissions(a, snapshot.roles), limits: roleConstraints(a.roleId, snapshot.roles) }));
  const limitOf = (limits: ReadonlyMap<string, PermissionConstraints>, permission: string) => limits.get(permission) ?? limits.get(basePermission(permission));
  const wider: WiderLimit[] = [];
  for (const permission of new Set(mine.flatMap((g) => [...g.limits.keys()]))) {
    if (!permissionCovered(granted.permissions, permission)) continue;
    const held = leastRestrictive(mine.filter((g) => permissionCovered(g.carries, permission)).map((g) => limitOf(g.limits, permission)));
    if (!held) continue;
    const given = limitOf(granted.constraints, permission);
    const looser = CONSTRAINT_NAMES.some((name) => held[name] !== undefined && (given?.[name] === undefined || given[name] > held[name]));
    if (looser) wider.push({ permission, held, granted: given ?? null });
  }
  return wider;
}
