// Conditional permissions: a role's permission may carry limits ({"maxAmount": 500} on
// "billing:charges:approve"), which tokens carry in the `constraints` claim and relying
// applications enforce (@caregate/client's can()). Pure.
import type { RoleDefinition } from './role-permissions.ts';

/** Limits on one permission. The only kind today: the largest amount the action may carry. (A type, not an interface, so it fits @caregate/client's open shape.) */
export type PermissionConstraints = {
  maxAmount?: number;
};

/** The constraint names Caregate knows; can() refuses any other, so none other may be stored. */
export const CONSTRAINT_NAMES = ['maxAmount'] as const;

/**
 * The constraints a role puts on its permissions: its own over its parent's, permission by
 * permission (a child's entry replaces the parent's for that permission; `{}` lifts it).
 */
export function roleConstraints(roleId: string, roles: ReadonlyMap<string, RoleDefinition>): Map<string, PermissionConstraints> {
  const chain: RoleDefinition[] = [];
  const seen = new Set<string>();
  for (let id: string | null = roleId; id && !seen.has(id); id = roles.get(id)?.parentId ?? null) {
    seen.add(id);
    const role = roles.get(id);
    if (!role) break;
    chain.unshift(role);
  }
  const result = new Map<string, PermissionConstraints>();
  for (const role of chain) {
    for (const [permission, limits] of Object.entries(role.constraints ?? {})) {
      if (Object.keys(limits).length) result.set(permission, limits);
      else result.delete(permission);
    }
  }
  return result;
}

/**
 * Merges the limits several grants put on one permission: the least restrictive wins, key by key.
 * A grant without limits (undefined) lifts them all; a limit binds only when every grant sets it,
 * and then the largest applies. Undefined: unconstrained.
 */
export function leastRestrictive(grants: ReadonlyArray<PermissionConstraints | undefined>): PermissionConstraints | undefined {
  if (!grants.length || grants.some((g) => g === undefined)) return undefined;
  const merged: PermissionConstraints = {};
  for (const name of CONSTRAINT_NAMES) {
    const values = grants.map((g) => g![name]);
    if (values.every((v) => typeof v === 'number')) merged[name] = Math.max(...(values as number[]));
  }
  return Object.keys(merged).length ? merged : undefined;
}
