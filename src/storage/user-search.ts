// The console's user list: a page of a tenant's users matching a search and filters, and how many
// match in all. One statement (plus its count); every filter a parameter; indexed on (tenant_id,
// username), so paging stays fast at tens of thousands of users.
import type { Repos } from './storage.ts';
import { exec } from './queries/sql.ts';
import type { User } from './entities/index.ts';
import { userFromRow } from './queries/users.ts';

export interface UserSearch {
  tenantId: string;
  /** Part of a username, email, or display, given or family name (case-insensitive). */
  text?: string;
  status?: User['status'];
  userType?: string;
  phiAccess?: boolean;
  outsideVendor?: boolean;
  /** Holds one of these roles (directly or through a team), anywhere. */
  roleIds?: string[];
  /** Holds an assignment (directly or through a team) at one of these scopes. */
  scopeType?: 'location' | 'institution';
  scopeIds?: string[];
  teamId?: string;
  /** Has not signed in since this moment (or never). */
  notSignedInSince?: Date;
  /** Only these users (a scoped administrator's reach); undefined: all. */
  within?: string[];
  limit: number;
  offset: number;
}

/** Exactly the expression of the users_search_trgm index (src/storage/migrations/0011-user-search-indexes.ts). */
const HAYSTACK = `lower(u.username || chr(10) || coalesce(u.email, '') || chr(10) || coalesce(u.display_name, '') || chr(10) || coalesce(u.given_name, '') || ' ' || coalesce(u.family_name, ''))`;

export async function searchUsers(repos: Repos, search: UserSearch): Promise<{ users: User[]; total: number }> {
  const where = ['u.tenant_id = $1', "u.kind = 'human'"];
  const params: unknown[] = [search.tenantId];
  const param = (value: unknown) => `$${params.push(value)}`;
  /**
   * A condition on the user's assignments, direct or through the teams they belong to: the ids of
   * the users concerned, as one set the planner hashes once. (An EXISTS with `a.user_id = u.id OR
   * a.team_id IN (…)` cannot use a join on either side: it compared every user with every matching
   * assignment — over 3 minutes to count a role's holders among 50,000 users.)
   */
  const holds = (condition: string) =>
    `u.id IN (SELECT a.user_id FROM assignments a WHERE a.tenant_id = $1 AND a.user_id IS NOT NULL AND ${condition}
       UNION ALL SELECT tm.user_id FROM team_members tm JOIN assignments a ON a.team_id = tm.team_id WHERE a.tenant_id = $1 AND ${condition})`;

  if (search.text) {
    // One expression, which migration 0011's trigram index holds: the fields one per line (a match
    // never spans two), given and family name joined by a space ("Ada Lovelace" finds her).
    const like = param(`%${search.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`${HAYSTACK} LIKE lower(${like})`);
  }
  if (search.status) where.push(`u.status = ${param(search.status)}`);
  if (search.userType) where.push(`u.user_type = ${param(search.userType)}`);
  if (search.phiAccess !== undefined) where.push(`u.phi_access = ${param(search.phiAccess)}`);
  if (search.outsideVendor !== undefined) where.push(`u.outside_vendor = ${param(search.outsideVendor)}`);
  if (search.roleIds) where.push(holds(`a.role_id = ANY(${param(search.roleIds)}::uuid[])`));
  if (search.scopeType && search.scopeIds) where.push(holds(`a.scope_type = ${param(search.scopeType)} AND a.scope_id = ANY(${param(search.scopeIds)}::uuid[])`));
  if (search.teamId) where.push(`EXISTS (SELECT 1 FROM team_members tm WHERE tm.user_id = u.id AND tm.team_id = ${param(search.teamId)})`);
  if (search.notSignedInSince) where.push(`(u.last_login_at IS NULL OR u.last_login_at < ${param(search.notSignedInSince)})`);
  if (search.within) where.push(`u.id = ANY(${param(search.within)}::uuid[])`);

  const filter = where.join(' AND ');
  const [{ total }] = await exec(repos, `SELECT count(*)::int AS total FROM users u WHERE ${filter}`, params);
  const rows = await exec(repos, `SELECT u.* FROM users u WHERE ${filter} ORDER BY lower(u.username) LIMIT ${param(search.limit)} OFFSET ${param(search.offset)}`, params);
  return { users: rows.map(userFromRow), total: Number(total) };
}
