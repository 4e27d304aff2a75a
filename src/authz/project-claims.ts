// Projects a user's assignments into the token claims for one application (DESIGN.md, token
// contract). Pure: the caller loads the snapshot; this decides.
import { inEffect } from './in-effect.ts';
import { basePermission, permissionCovered, projectPermissions } from './permissions.ts';
import { rolePermissions, roleRequiresPhi, type RoleDefinition } from './role-permissions.ts';

export interface AuthzSnapshot {
  phiAccess: boolean;
  roles: ReadonlyMap<string, RoleDefinition>;
  /** id → { key, parentId } for every location of the tenant. */
  locations: ReadonlyMap<string, { key: string; parentId: string | null }>;
  institutions: ReadonlyMap<string, { key: string }>;
  teams: string[];
  /** Single permissions granted to or denied from this user per application, on top of roles (deny wins). */
  overrides?: Array<{ applicationId: string; permission: string; effect: 'grant' | 'deny' }>;
  /** The tenant's derived roles: holders of a role or a permission at a scope also hold the target role there. */
  derivations?: Array<{ sourceRoleId: string | null; sourcePermission: string | null; targetRoleId: string }>;
  assignments: Array<{
    roleId: string;
    scopeType: 'tenant' | 'location' | 'institution' | 'application';
    scopeId: string | null;
    startsAt: Date | null;
    expiresAt: Date | null;
  }>;
}

export interface ProjectedClaims {
  roles: string[];
  permissions: string[];
  locations: Record<string, string[]>;
  location_permissions: Record<string, string[]>;
  institutions: string[];
  teams: string[];
  phi: boolean;
}

export interface ProjectionTarget {
  applicationId: string | null;
  catalogue: readonly string[];
}

export function projectClaims(snapshot: AuthzSnapshot, target: ProjectionTarget, now = new Date()): ProjectedClaims {
  const roleKeys = new Set<string>();
  const granted = new Set<string>();
  const byLocation = new Map<string, Set<string>>();
  const institutions = new Set<string>();

  for (const a of withDerived(snapshot, now)) {
    if (!isEffective(a, snapshot, now)) continue;
    const role = snapshot.roles.get(a.roleId)!;
    switch (a.scopeType) {
      case 'tenant':
        roleKeys.add(role.key);
        rolePermissions(role.id, snapshot.roles).forEach((p) => granted.add(p));
        break;
      case 'application':
        if (a.scopeId !== target.applicationId) break;
        roleKeys.add(role.key);
        rolePermissions(role.id, snapshot.roles).forEach((p) => granted.add(p));
        break;
      case 'institution': {
        const institution = a.scopeId ? snapshot.institutions.get(a.scopeId) : undefined;
        if (!institution) break;
        institutions.add(institution.key);
        roleKeys.add(role.key);
        rolePermissions(role.id, snapshot.roles).forEach((p) => granted.add(p));
        break;
      }
      case 'location':
        for (const id of locationAndDescendants(a.scopeId, snapshot.locations)) {
          const set = byLocation.get(id) ?? new Set<string>();
          set.add(role.id);
          byLocation.set(id, set);
        }
        break;
    }
  }

  // Per-user overrides of this application: grants add, denies remove (everywhere, locations too).
  const overrides = (snapshot.overrides ?? []).filter((o) => o.applicationId === target.applicationId);
  overrides.filter((o) => o.effect === 'grant').forEach((o) => granted.add(o.permission));
  const denied = (p: string) => overrides.some((o) => o.effect === 'deny' && (o.permission === p || o.permission === basePermission(p)));
  const locations: Record<string, string[]> = {};
  const locationPermissions: Record<string, string[]> = {};
  for (const [locationId, roleIds] of byLocation) {
    const key = snapshot.locations.get(locationId)!.key;
    locations[key] = [...roleIds].map((id) => snapshot.roles.get(id)!.key).sort();
    const perms = new Set<string>();
    for (const id of roleIds) rolePermissions(id, snapshot.roles).forEach((p) => perms.add(p));
    const projected = projectPermissions(perms, target.catalogue).filter((p) => !denied(p));
    if (projected.length) locationPermissions[key] = projected;
  }

  return {
    roles: [...roleKeys].sort(),
    permissions: projectPermissions(granted, target.catalogue).filter((p) => !denied(p)),
    locations,
    location_permissions: locationPermissions,
    institutions: [...institutions].sort(),
    teams: [...snapshot.teams].sort(),
    phi: snapshot.phiAccess,
  };
}

/**
 * The assignments with the roles they derive: an assignment in effect of a role (or of a role
 * carrying a permission) that a derivation names also gives its target role at the same scope and
 * for the same time. One step only — a derived role derives nothing — so a rule cannot chain or loop.
 */
export function withDerived(snapshot: AuthzSnapshot, now: Date): AuthzSnapshot['assignments'] {
  const rules = snapshot.derivations ?? [];
  if (!rules.length) return snapshot.assignments;
  const derived: AuthzSnapshot['assignments'] = [];
  for (const a of snapshot.assignments) {
    if (!isEffective(a, snapshot, now)) continue;
    const carried = rolePermissions(a.roleId, snapshot.roles);
    for (const rule of rules) {
      const matches = rule.sourceRoleId ? rule.sourceRoleId === a.roleId : permissionCovered(carried, rule.sourcePermission!);
      if (matches && rule.targetRoleId !== a.roleId) derived.push({ ...a, roleId: rule.targetRoleId });
    }
  }
  return [...snapshot.assignments, ...derived];
}

/**
 * True when an assignment grants something now: within its validity, of a role that exists, and —
 * for a role that requires PHI (itself or through a parent) — held by a user with the PHI flag,
 * whether it came directly, through a team, or the flag was cleared later.
 */
export function isEffective(a: AuthzSnapshot['assignments'][number], snapshot: AuthzSnapshot, now: Date): boolean {
  if (!inEffect(a, now)) return false;
  if (!snapshot.roles.has(a.roleId)) return false;
  return snapshot.phiAccess || !roleRequiresPhi(a.roleId, snapshot.roles);
}

/** The location itself and every location below it (a role on a region reaches its sites). */
export function locationAndDescendants(
  rootId: string | null,
  locations: ReadonlyMap<string, { parentId: string | null }>,
): string[] {
  if (!rootId || !locations.has(rootId)) return [];
  const children = new Map<string, string[]>();
  for (const [id, l] of locations) {
    if (l.parentId) children.set(l.parentId, [...(children.get(l.parentId) ?? []), id]);
  }
  const result: string[] = [];
  const queue = [rootId];
  const seen = new Set<string>();
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    result.push(id);
    queue.push(...(children.get(id) ?? []));
  }
  return result;
}
