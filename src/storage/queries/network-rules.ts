// Network rules of a tenant (migration 0015): at most one tenant-wide rule and one per role.
import type { NetworkRule } from '../entities/network-rule.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

const COLUMNS = `id, tenant_id AS "tenantId", role_id AS "roleId", ranges, description, updated_by AS "updatedBy", updated_at AS "updatedAt"`;
const row = (r: NetworkRule): NetworkRule => ({ ...r, updatedAt: new Date(r.updatedAt) });

/** Every rule of a tenant, the tenant-wide one first. */
export async function list(db: Repos, tenantId: string): Promise<NetworkRule[]> {
  return (await exec<NetworkRule>(db, `SELECT ${COLUMNS} FROM network_rules WHERE tenant_id = $1 ORDER BY role_id NULLS FIRST, id`, [tenantId])).map(row);
}

/** The tenant-wide rule (roleId null) or a role's rule. */
export async function find(db: Repos, tenantId: string, roleId: string | null): Promise<NetworkRule | undefined> {
  const [found] = await exec<NetworkRule>(db, `SELECT ${COLUMNS} FROM network_rules WHERE tenant_id = $1 AND role_id IS NOT DISTINCT FROM $2::uuid`, [tenantId, roleId]);
  return found && row(found);
}

/** Sets the tenant-wide rule or a role's rule, replacing the one there was. */
export async function put(db: Repos, rule: Omit<NetworkRule, 'updatedAt'>): Promise<NetworkRule> {
  await exec(db, `DELETE FROM network_rules WHERE tenant_id = $1 AND role_id IS NOT DISTINCT FROM $2::uuid`, [rule.tenantId, rule.roleId]);
  const [saved] = await exec<NetworkRule>(db, `INSERT INTO network_rules (id, tenant_id, role_id, ranges, description, updated_by)
    VALUES ($1, $2, $3, $4::jsonb, $5, $6) RETURNING ${COLUMNS}`,
  [rule.id, rule.tenantId, rule.roleId, JSON.stringify(rule.ranges), rule.description, rule.updatedBy]);
  return row(saved!);
}

/** Removes the tenant-wide rule or a role's rule; false when there was none. */
export async function remove(db: Repos, tenantId: string, roleId: string | null): Promise<boolean> {
  return (await exec(db, `DELETE FROM network_rules WHERE tenant_id = $1 AND role_id IS NOT DISTINCT FROM $2::uuid RETURNING id`, [tenantId, roleId])).length > 0;
}
