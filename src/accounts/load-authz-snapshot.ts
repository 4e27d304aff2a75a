// Gathers what the claims projection needs for one user: their assignments (direct and through
// teams), the tenant's roles and location tree, institutions and team keys, the user's permission
// overrides and the tenant's derived roles.
import type { AuthzSnapshot } from '../authz/index.ts';
import { In, type Repos, type User } from '../storage/index.ts';
import { loadRoleDefinitions } from './role-definitions.ts';

export async function loadAuthzSnapshot(repos: Repos, user: User): Promise<AuthzSnapshot> {
  const memberships = await repos.teamMembers.findBy({ userId: user.id });
  const teamIds = memberships.map((m) => m.teamId);
  const [teams, assignments, roles, locations, institutions, overrides, derivations] = await Promise.all([
    teamIds.length ? repos.teams.findBy({ id: In(teamIds) }) : [],
    repos.assignments.find({
      where: teamIds.length ? [{ userId: user.id }, { teamId: In(teamIds) }] : [{ userId: user.id }],
    }),
    loadRoleDefinitions(repos, user.tenantId),
    repos.locations.findBy({ tenantId: user.tenantId }),
    repos.institutions.findBy({ tenantId: user.tenantId }),
    repos.permissionOverrides.findBy({ tenantId: user.tenantId, userId: user.id }),
    repos.derivedRoles.findBy({ tenantId: user.tenantId }),
  ]);
  return {
    phiAccess: user.phiAccess,
    roles,
    locations: new Map(locations.map((l) => [l.id, l])),
    institutions: new Map(institutions.map((i) => [i.id, i])),
    teams: teams.map((t) => t.key),
    overrides,
    derivations,
    assignments,
  };
}
