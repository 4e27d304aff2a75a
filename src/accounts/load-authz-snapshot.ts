// Gathers what the claims projection needs for one user: their assignments (direct and through
// teams), the tenant's roles and location tree, institutions and team keys, the user's permission
// overrides, the tenant's derived roles and its time zone (in which weekly windows are read).
import type { AuthzSnapshot } from '../authz/index.ts';
import { In, queries, type Assignment, type Repos, type User } from '../storage/index.ts';
import { loadRoleDefinitions } from './role-definitions.ts';
import { resolvePolicy } from './tenant-policy.ts';

export async function loadAuthzSnapshot(repos: Repos, user: User): Promise<AuthzSnapshot> {
  const memberships = await repos.teamMembers.findBy({ userId: user.id });
  const teamIds = memberships.map((m) => m.teamId);
  const [teams, assignments, roles, locations, institutions, overrides, derivations, tenant] = await Promise.all([
    teamIds.length ? repos.teams.findBy({ id: In(teamIds) }) : [],
    repos.assignments.find({
      where: teamIds.length ? [{ userId: user.id }, { teamId: In(teamIds) }] : [{ userId: user.id }],
    }),
    loadRoleDefinitions(repos, user.tenantId),
    repos.locations.findBy({ tenantId: user.tenantId }),
    repos.institutions.findBy({ tenantId: user.tenantId }),
    repos.permissionOverrides.findBy({ tenantId: user.tenantId, userId: user.id }),
    repos.derivedRoles.findBy({ tenantId: user.tenantId }),
    repos.tenants.findOneBy({ id: user.tenantId }),
  ]);
  return {
    phiAccess: user.phiAccess,
    roles,
    locations: new Map(locations.map((l) => [l.id, l])),
    institutions: new Map(institutions.map((i) => [i.id, i])),
    teams: teams.map((t) => t.key),
    timeZone: resolvePolicy(tenant?.policy).timeZone,
    overrides,
    derivations,
    assignments: await withGrantMarks(repos, assignments),
  };
}

/** Break-glass and elevation grants carry what their request said: the emergency's reason, one-time use. */
async function withGrantMarks(repos: Repos, assignments: Assignment[]) {
  const temporary = assignments.filter((a) => a.origin === 'break-glass' || a.origin === 'elevation');
  if (!temporary.length) return assignments;
  const marks = new Map((await queries.accessRequests.grantMarks(repos, temporary.map((a) => a.id))).map((m) => [m.assignmentId, m]));
  return assignments.map((a) => {
    const mark = marks.get(a.id);
    return mark ? { ...a, breakGlass: mark.kind === 'break-glass' ? { reason: mark.reason } : null, oneTime: mark.oneTime } : a;
  });
}

/** Where an assignment holds, as people and the API name it. */
export type ScopeName = { type: 'tenant' } | { type: 'location' | 'institution'; key: string | undefined } | { type: 'application'; clientId: string | undefined; name: string | undefined };

/**
 * Names the scopes of `assignments` by key (locations, institutions) or client id and name
 * (applications), from the snapshot and one read of the applications they name.
 */
export async function scopeNamer(repos: Repos, tenantId: string, snapshot: AuthzSnapshot, assignments: ReadonlyArray<{ scopeType: string; scopeId: string | null }>) {
  const appIds = [...new Set(assignments.flatMap((a) => (a.scopeType === 'application' && a.scopeId ? [a.scopeId] : [])))];
  const apps = new Map((appIds.length ? await repos.applications.findBy({ tenantId, id: In(appIds) }) : []).map((app) => [app.id, app]));
  return (a: { scopeType: string; scopeId: string | null }): ScopeName => {
    if (a.scopeType === 'location') return { type: 'location', key: snapshot.locations.get(a.scopeId!)?.key };
    if (a.scopeType === 'institution') return { type: 'institution', key: snapshot.institutions.get(a.scopeId!)?.key };
    if (a.scopeType === 'application') return { type: 'application', clientId: apps.get(a.scopeId!)?.clientId, name: apps.get(a.scopeId!)?.name };
    return { type: 'tenant' };
  };
}
