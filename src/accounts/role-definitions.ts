import type { RoleDefinition } from '../authz/index.ts';
import type { Repos } from '../storage/index.ts';

/** Every role of a tenant, by id, in the shape the authz rules work on. */
export async function loadRoleDefinitions(repos: Repos, tenantId: string): Promise<Map<string, RoleDefinition>> {
  const roles = await repos.roles.find({ where: { tenantId } });
  return new Map(roles.map((r) => [r.id, r]));
}
