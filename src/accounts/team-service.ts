// Teams: the keyed service (create, list, get, delete) plus what only teams have — a name that
// changes while the key stays, members, and roles held by the team (assigned and taken away through
// the assignment service, so the scope and no-escalation rules apply). Every team operation is
// tenant-wide.
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { queries, type Assignment, type Repos, type Tenant } from '../storage/index.ts';
import { assertMayChangeMembership } from './grant-guard.ts';
import { beginAdminCheck } from './last-admin-guard.ts';
import { loadAuthority } from './admin-authority.ts';
import { createKeyedService } from './keyed-service.ts';
import { createAssignmentService, resolveScope } from './assignment-service.ts';
import { parseInput } from './parse-input.ts';
import { assignmentInput, teamPatch, type AssignmentInput, type TeamPatch } from './schemas.ts';

const TENANT = { kind: 'tenant' } as const;

/** Where an assignment holds, as the CLI and the API name it (by key, or an application's client id). */
async function scopeName(repos: Repos, tenant: Tenant, a: Assignment): Promise<Record<string, string>> {
  if (a.scopeType === 'tenant' || !a.scopeId) return { type: 'tenant' };
  if (a.scopeType === 'application') return { type: 'application', clientId: (await repos.applications.findOneBy({ tenantId: tenant.id, id: a.scopeId }))?.clientId ?? a.scopeId };
  const repo = (a.scopeType === 'location' ? repos.locations : repos.institutions) as Repos['locations'];
  return { type: a.scopeType, key: (await repo.findOneBy({ tenantId: tenant.id, id: a.scopeId }))?.key ?? a.scopeId };
}

export function createTeamService(ctx: AccountsContext) {
  const { storage, audit } = ctx;
  const assignments = createAssignmentService(ctx);
  return {
    ...createKeyedService('team', ctx),

    /** Renames a team; its key, members and roles stay. */
    async rename(tenantSlug: string, key: string, raw: TeamPatch, actor: Actor) {
      const { name } = parseInput(teamPatch, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const before = await requireByKey(tx.teams, tenant.id, key, 'team');
        await (await loadAuthority(tx, tenant, actor)).require('caregate.teams:edit', TENANT);
        await tx.teams.update({ id: before.id }, { name });
        const after = { ...before, name };
        await audit.record({ tenantId: tenant.id, actor, action: 'team.update', target: { type: 'team', id: before.id }, before, after }, tx);
        return after;
      });
    },

    /** The team's members by username, a page at a time; `actor`, when given, must hold caregate.teams:read. */
    async members(tenantSlug: string, key: string, { limit = 100, offset = 0 }: { limit?: number; offset?: number } = {}, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const team = await requireByKey(storage.teams, tenant.id, key, 'team');
      if (actor) await (await loadAuthority(storage, tenant, actor)).require('caregate.teams:read', TENANT);
      const users = await queries.teams.members(storage, tenant.id, team.id, { limit, offset });
      return users.map(({ id, username, displayName, kind, status }) => ({ id, username, displayName, kind, status }));
    },

    /** The roles the team holds: its assignments, each with its role's key and where it holds. */
    async roles(tenantSlug: string, key: string, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const team = await requireByKey(storage.teams, tenant.id, key, 'team');
      const rows = await assignments.list(tenantSlug, { teamId: team.id }, actor);
      return Promise.all(rows.map(async (a) => ({ ...a, scope: await scopeName(storage, tenant, a) })));
    },

    /** Gives the team a role at a scope (caregate.assignments:create tenant-wide, and no escalation). */
    async assign(tenantSlug: string, key: string, input: AssignmentInput, actor: Actor) {
      const team = await requireByKey(storage.teams, (await requireTenant(storage, tenantSlug)).id, key, 'team');
      return assignments.assign(tenantSlug, { teamId: team.id }, input, actor);
    },

    /** Takes a role at a scope away from the team: its assignments ended as DELETE /assignments/{id} ends one. */
    async unassign(tenantSlug: string, key: string, raw: Pick<AssignmentInput, 'role' | 'scope'>, actor: Actor) {
      const team = await requireByKey(storage.teams, (await requireTenant(storage, tenantSlug)).id, key, 'team');
      return { team: key, ...(await assignments.unassign(tenantSlug, { teamId: team.id }, raw, actor)) };
    },
  };
}
export type TeamService = ReturnType<typeof createTeamService>;

/** Team membership: joining or leaving counts as being granted or losing the team's roles. */
export function createTeamMembership({ storage, audit }: AccountsContext) {
  return {
    async add(tenantSlug: string, teamKey: string, userId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const team = await requireByKey(tx.teams, tenant.id, teamKey, 'team');
        if (!(await tx.users.findOneBy({ tenantId: tenant.id, id: userId }))) throw new ValidationError('user does not exist');
        await (await loadAuthority(tx, tenant, actor)).require('caregate.teams:edit', TENANT);
        await assertMayChangeMembership(tx, tenant, actor, team.id, userId, 'add to');
        if (await tx.teamMembers.findOneBy({ teamId: team.id, userId })) return;
        await tx.teamMembers.insert({ teamId: team.id, userId, tenantId: tenant.id });
        await audit.record({ tenantId: tenant.id, actor, action: 'team.member.add', target: { type: 'team', id: team.id }, after: { userId } }, tx);
      });
    },
    async remove(tenantSlug: string, teamKey: string, userId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const team = await requireByKey(tx.teams, tenant.id, teamKey, 'team');
        await (await loadAuthority(tx, tenant, actor)).require('caregate.teams:edit', TENANT);
        await assertMayChangeMembership(tx, tenant, actor, team.id, userId, 'remove from');
        const keepAdmin = await beginAdminCheck(tx, tenant);
        await tx.teamMembers.delete({ teamId: team.id, userId });
        await keepAdmin(`removing this member from team "${teamKey}"`);
        await audit.record({ tenantId: tenant.id, actor, action: 'team.member.remove', target: { type: 'team', id: team.id }, before: { userId } }, tx);
      });
    },
  };
}
