// Projects a user's assignments into the token claims for one application (DESIGN.md, token
// contract) — with the constraints on what it carries, who delegated what, and until when it all
// holds. Pure: the caller loads the snapshot; this decides.
import { inEffect } from './in-effect.ts';
import { basePermission, permissionCovered, projectPermissions } from './permissions.ts';
import { rolePermissions, roleRequiresPhi, type RoleDefinition } from './role-permissions.ts';
import { leastRestrictive, roleConstraints, type PermissionConstraints } from './constraints.ts';
import { windowOpen, windowState, type TimeWindow } from './time-window.ts';
import { breakGlassClaim, type BreakGlassClaim } from './break-glass-claim.ts';

export interface AuthzSnapshot {
  phiAccess: boolean;
  roles: ReadonlyMap<string, RoleDefinition>;
  /** id → { key, parentId } for every location of the tenant. */
  locations: ReadonlyMap<string, { key: string; parentId: string | null }>;
  institutions: ReadonlyMap<string, { key: string }>;
  teams: string[];
  /** The tenant's IANA time zone, in which assignments' weekly windows are read (UTC when unset). */
  timeZone?: string;
  /** Single permissions granted to or denied from this user per application, on top of roles (deny wins). */
  overrides?: Array<{ applicationId: string; permission: string; effect: 'grant' | 'deny' }>;
  /** The tenant's derived roles: holders of a role or a permission at a scope also hold the target role there. */
  derivations?: Array<{ sourceRoleId: string | null; sourcePermission: string | null; targetRoleId: string }>;
  assignments: SnapshotAssignment[];
  /**
   * Whether a role may count for the request at hand, by the network it comes from (a role that
   * requires the clinic network: src/authz/network-rules.ts). Set per request, never cached; absent: all may.
   */
  networkAllowed?: (roleId: string) => boolean;
}

export interface SnapshotAssignment {
  roleId: string;
  scopeType: 'tenant' | 'location' | 'institution' | 'application';
  scopeId: string | null;
  startsAt: Date | null;
  expiresAt: Date | null;
  /** A weekly window (in the tenant's time zone) outside which the assignment grants nothing. */
  timeWindow?: TimeWindow | null;
  /** Only these of the role's permissions (a partial delegation); null: the whole role. */
  permissions?: string[] | null;
  /** The delegator's user id, when the assignment is a delegation. */
  delegatedBy?: string | null;
  /** A break-glass grant: the reason given (projected as the `break_glass` claim). */
  breakGlass?: { reason: string } | null;
  /** A one-time grant, consumed by the first token issued with it. */
  oneTime?: boolean;
}

export interface ProjectedClaims {
  roles: string[];
  permissions: string[];
  locations: Record<string, string[]>;
  location_permissions: Record<string, string[]>;
  institutions: string[];
  teams: string[];
  phi: boolean;
  /** Permission → its limits, for the permissions carried that have any (least restrictive grant wins). */
  constraints?: Record<string, PermissionConstraints>;
  /** Role key (a whole role delegated) or permission (part of one) → the delegators' user ids. */
  delegated_from?: Record<string, string[]>;
  /** Roles taken in an emergency: the reason given and when the emergency grant ends. */
  break_glass?: BreakGlassClaim;
}

export interface ProjectionTarget {
  applicationId: string | null;
  catalogue: readonly string[];
}

/** What an assignment grants: its role's permissions, or the part of them a partial delegation passes on. */
export function assignmentPermissions(a: SnapshotAssignment, roles: AuthzSnapshot['roles']): Set<string> {
  const carried = rolePermissions(a.roleId, roles);
  return a.permissions ? new Set(a.permissions.filter((p) => permissionCovered(carried, p))) : carried;
}

/** True when the assignment gives its role key (not only some of its permissions). */
const wholeRole = (a: SnapshotAssignment) => !a.permissions;

/**
 * The assignments (derived ones included) that shape a token for `target` now: in effect, and at
 * a scope the token reflects — tenant-wide, the target application, an existing institution or location.
 */
export function contributingAssignments(snapshot: AuthzSnapshot, target: ProjectionTarget, now: Date): SnapshotAssignment[] {
  return withDerived(snapshot, now).filter((a) => {
    if (!isEffective(a, snapshot, now)) return false;
    switch (a.scopeType) {
      case 'tenant':
        return true;
      case 'application':
        return a.scopeId === target.applicationId;
      case 'institution':
        return Boolean(a.scopeId && snapshot.institutions.has(a.scopeId));
      case 'location':
        return Boolean(a.scopeId && snapshot.locations.has(a.scopeId));
    }
  });
}

export function projectClaims(snapshot: AuthzSnapshot, target: ProjectionTarget, now = new Date()): ProjectedClaims {
  const roleKeys = new Set<string>();
  const granted = new Set<string>();
  const byLocation = new Map<string, SnapshotAssignment[]>();
  const institutions = new Set<string>();
  const contributing = contributingAssignments(snapshot, target, now);

  for (const a of contributing) {
    const role = snapshot.roles.get(a.roleId)!;
    if (a.scopeType === 'location') {
      for (const id of locationAndDescendants(a.scopeId, snapshot.locations)) byLocation.set(id, [...(byLocation.get(id) ?? []), a]);
      continue;
    }
    if (a.scopeType === 'institution') institutions.add(snapshot.institutions.get(a.scopeId!)!.key);
    if (wholeRole(a)) roleKeys.add(role.key);
    assignmentPermissions(a, snapshot.roles).forEach((p) => granted.add(p));
  }

  // Per-user overrides of this application: grants add, denies remove (everywhere, locations too).
  const overrides = (snapshot.overrides ?? []).filter((o) => o.applicationId === target.applicationId);
  overrides.filter((o) => o.effect === 'grant').forEach((o) => granted.add(o.permission));
  const denied = (p: string) => overrides.some((o) => o.effect === 'deny' && (o.permission === p || o.permission === basePermission(p)));
  const locations: Record<string, string[]> = {};
  const locationPermissions: Record<string, string[]> = {};
  for (const [locationId, held] of byLocation) {
    const key = snapshot.locations.get(locationId)!.key;
    locations[key] = [...new Set(held.filter(wholeRole).map((a) => snapshot.roles.get(a.roleId)!.key))].sort();
    const perms = new Set<string>();
    for (const a of held) assignmentPermissions(a, snapshot.roles).forEach((p) => perms.add(p));
    const projected = projectPermissions(perms, target.catalogue).filter((p) => !denied(p));
    if (projected.length) locationPermissions[key] = projected;
  }

  const permissions = projectPermissions(granted, target.catalogue).filter((p) => !denied(p));
  const carried = new Set([...permissions, ...Object.values(locationPermissions).flat()]);
  const constraints = constraintsOf(snapshot, contributing, overrides, carried);
  const delegatedFrom = delegatorsOf(snapshot, contributing, carried);
  const breakGlass = breakGlassClaim(contributing);
  return {
    roles: [...roleKeys].sort(),
    permissions,
    locations,
    location_permissions: locationPermissions,
    institutions: [...institutions].sort(),
    teams: [...snapshot.teams].sort(),
    phi: snapshot.phiAccess,
    ...(constraints ? { constraints } : {}),
    ...(delegatedFrom ? { delegated_from: delegatedFrom } : {}),
    ...(breakGlass ? { break_glass: breakGlass } : {}),
  };
}

/**
 * The limits on each carried permission, merged over every grant of it (tenant-wide, at a location,
 * an override): the least restrictive wins, so a limit binds only when every grant of it sets one.
 */
function constraintsOf(
  snapshot: AuthzSnapshot,
  contributing: SnapshotAssignment[],
  overrides: NonNullable<AuthzSnapshot['overrides']>,
  carried: ReadonlySet<string>,
): Record<string, PermissionConstraints> | undefined {
  if (![...snapshot.roles.values()].some((r) => r.constraints && Object.keys(r.constraints).length)) return undefined;
  const out: Record<string, PermissionConstraints> = {};
  for (const p of carried) {
    const limits: Array<PermissionConstraints | undefined> = [];
    for (const a of contributing) {
      if (!permissionCovered(assignmentPermissions(a, snapshot.roles), p)) continue;
      const own = roleConstraints(a.roleId, snapshot.roles);
      limits.push(own.get(p) ?? own.get(basePermission(p)));
    }
    if (overrides.some((o) => o.effect === 'grant' && (o.permission === p || o.permission === basePermission(p)))) limits.push(undefined);
    const merged = leastRestrictive(limits);
    if (merged) out[p] = merged;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Who delegated what the token carries: whole roles by key, partial delegations by permission. */
function delegatorsOf(snapshot: AuthzSnapshot, contributing: SnapshotAssignment[], carried: ReadonlySet<string>): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  const add = (item: string, sub: string) => (out[item] = [...new Set([...(out[item] ?? []), sub])].sort());
  for (const a of contributing) {
    if (!a.delegatedBy) continue;
    if (wholeRole(a)) add(snapshot.roles.get(a.roleId)!.key, a.delegatedBy);
    else for (const p of assignmentPermissions(a, snapshot.roles)) if (carried.has(p)) add(p, a.delegatedBy);
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Until when the claims projected for `target` now stay true: the earliest end (its `expiresAt`, or
 * the close of its weekly window) among the assignments that shaped them. Null: none ends. An
 * access token never outlives it (src/oidc caps the token's lifetime here).
 */
export function claimsValidUntil(snapshot: AuthzSnapshot, target: ProjectionTarget, now = new Date()): Date | null {
  let until: number | null = null;
  const earlier = (d: Date | null) => {
    if (d && (until === null || d.getTime() < until)) until = d.getTime();
  };
  for (const a of contributingAssignments(snapshot, target, now)) {
    earlier(a.expiresAt);
    if (a.timeWindow) earlier(windowState(a.timeWindow, snapshot.timeZone ?? 'UTC', now).changesAt);
  }
  return until === null ? null : new Date(until);
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
    const carried = assignmentPermissions(a, snapshot.roles);
    for (const rule of rules) {
      // A partial delegation holds some permissions of its role, not the role itself.
      const matches = rule.sourceRoleId ? rule.sourceRoleId === a.roleId && wholeRole(a) : permissionCovered(carried, rule.sourcePermission!);
      if (matches && rule.targetRoleId !== a.roleId) derived.push({ ...a, roleId: rule.targetRoleId, permissions: null });
    }
  }
  return [...snapshot.assignments, ...derived];
}

/**
 * True when an assignment grants something now: within its validity and its weekly window (if
 * any, on the tenant's wall clock), of a role that exists, and —
 * for a role that requires PHI (itself or through a parent) — held by a user with the PHI flag,
 * whether it came directly, through a team, or the flag was cleared later.
 */
export function isEffective(a: AuthzSnapshot['assignments'][number], snapshot: AuthzSnapshot, now: Date): boolean {
  if (!inEffect(a, now)) return false;
  if (!snapshot.roles.has(a.roleId)) return false;
  if (a.timeWindow && !windowOpen(a.timeWindow, snapshot.timeZone ?? 'UTC', now)) return false;
  if (snapshot.networkAllowed && !snapshot.networkAllowed(a.roleId)) return false;
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
