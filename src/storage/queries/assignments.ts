// Assignment rows beyond the repository: how many hold each role.
import { sqlRepos, type Repos } from '../storage.ts';

/** How many assignments (a person's and a team's alike) hold each of the tenant's roles, or the one role, by role id. */
export async function holderCounts(db: Repos, tenantId: string, roleId?: string): Promise<Map<string, number>> {
  const query = sqlRepos(db).assignments.createQueryBuilder('a').select('a.roleId', 'roleId').addSelect('COUNT(*)', 'n').where('a.tenantId = :tenantId', { tenantId });
  if (roleId) query.andWhere('a.roleId = :roleId', { roleId });
  const rows = await query.groupBy('a.roleId').getRawMany<{ roleId: string; n: string | number }>();
  return new Map(rows.map((r) => [r.roleId, Number(r.n)]));
}
