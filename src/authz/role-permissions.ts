// A custom role inherits its parent's permissions, adds its own and removes those it lists.
export interface RoleDefinition {
  id: string;
  key: string;
  parentId: string | null;
  permissions: string[];
  removedPermissions: string[];
  requiresPhi: boolean;
  /** Limits on some of its permissions (src/authz/constraints.ts). */
  constraints?: Record<string, { maxAmount?: number }>;
}

export class RoleCycleError extends Error {}

export function rolePermissions(roleId: string, roles: ReadonlyMap<string, RoleDefinition>): Set<string> {
  const chain: RoleDefinition[] = [];
  const seen = new Set<string>();
  for (let id: string | null = roleId; id; id = roles.get(id)?.parentId ?? null) {
    if (seen.has(id)) throw new RoleCycleError(`role inheritance cycle at ${roles.get(id)?.key ?? id}`);
    seen.add(id);
    const role = roles.get(id);
    if (!role) break;
    chain.unshift(role);
  }
  const result = new Set<string>();
  for (const role of chain) {
    role.permissions.forEach((p) => result.add(p));
    role.removedPermissions.forEach((p) => result.delete(p));
  }
  return result;
}

/** True when the role or any ancestor requires PHI access. */
export function roleRequiresPhi(roleId: string, roles: ReadonlyMap<string, RoleDefinition>): boolean {
  const seen = new Set<string>();
  for (let id: string | null = roleId; id && !seen.has(id); id = roles.get(id)?.parentId ?? null) {
    seen.add(id);
    if (roles.get(id)?.requiresPhi) return true;
  }
  return false;
}
