// What an API key may do: its service account's access narrowed to the permissions the key
// carries (issue 18). Every assignment of the account keeps its scope, validity and window, but
// grants only the part of its role the key also names; so wherever the account's access is read
// (the admin guard, the no-escalation rule, tokens) a key is never more than both. Pure.
import { roleConstraints } from './constraints.ts';
import { permissionCovered } from './permissions.ts';
import { withDerived, type AuthzSnapshot } from './project-claims.ts';
import { rolePermissions, roleRequiresPhi, type RoleDefinition } from './role-permissions.ts';

/** The permissions both sets cover: each side's entries the other side covers (wildcards narrow to the narrower). */
export function intersectPermissions(a: Iterable<string>, b: Iterable<string>): Set<string> {
  const [left, right] = [new Set(a), new Set(b)];
  const both = new Set<string>();
  for (const p of left) if (permissionCovered(right, p)) both.add(p);
  for (const p of right) if (permissionCovered(left, p)) both.add(p);
  return both;
}

/** `snapshot` as seen through a key carrying `permissions`: derived roles resolved, overrides that grant dropped. */
export function restrictSnapshot(snapshot: AuthzSnapshot, permissions: readonly string[], now = new Date()): AuthzSnapshot {
  const roles = new Map<string, RoleDefinition>(snapshot.roles);
  const narrowed = withDerived(snapshot, now).map((a) => {
    const role = snapshot.roles.get(a.roleId);
    if (!role) return a;
    // A partial assignment (a delegation of some permissions) carries only those of its role.
    const own = (a as { permissions?: string[] | null }).permissions;
    const full = rolePermissions(a.roleId, snapshot.roles);
    const carried = own ? own.filter((p) => permissionCovered(full, p)) : full;
    const id = `key:${a.roleId}:${[...intersectPermissions(carried, permissions)].sort().join(',')}`;
    if (!roles.has(id)) {
      // Detached from its parent, the narrowed role keeps the limits it inherited (a key is never less limited).
      const constraints = Object.fromEntries(roleConstraints(a.roleId, snapshot.roles));
      roles.set(id, { ...role, id, parentId: null, permissions: [...intersectPermissions(carried, permissions)], removedPermissions: [], requiresPhi: roleRequiresPhi(a.roleId, snapshot.roles), constraints });
    }
    return { ...a, roleId: id, permissions: null };
  });
  return {
    ...snapshot,
    roles,
    assignments: narrowed,
    derivations: [],
    overrides: (snapshot.overrides ?? []).filter((o) => o.effect === 'deny' || permissionCovered(new Set(permissions), o.permission)),
  };
}
