// Team rows beyond the repository: a team's members as users, a page at a time.
import type { User } from '../entities/index.ts';
import { sqlRepos, type Repos } from '../storage.ts';

/** The team's members, by username, `limit` from `offset`. */
export function members(db: Repos, tenantId: string, teamId: string, { limit, offset }: { limit: number; offset: number }): Promise<User[]> {
  return sqlRepos(db).users
    .createQueryBuilder('u')
    .innerJoin('TeamMember', 'm', 'm.userId = u.id AND m.teamId = :teamId', { teamId })
    .where('u.tenantId = :tenantId', { tenantId })
    .orderBy('u.username', 'ASC')
    .skip(offset)
    .take(limit)
    .getMany();
}
