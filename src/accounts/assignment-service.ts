// Role assignments: user-or-team × role × scope × validity, with the PHI rule enforced on write.
import { randomUUID } from 'node:crypto';
import { roleRequiresPhi } from '../authz/index.ts';
import { NotFoundError, PhiRequiredError, ValidationError } from '../errors.ts';
import type { Assignment, Repos, Tenant } from '../storage/index.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { parseInput } from './parse-input.ts';
import { assignmentInput, type AssignmentInput } from './schemas.ts';
import { loadRoleDefinitions } from './role-definitions.ts';
import { assertMayGrant } from './grant-guard.ts';
import { beginAdminCheck } from './last-admin-guard.ts';
import { loadAuthority } from './admin-authority.ts';

export type Holder = { userId: string } | { teamId: string };

/** A scope as the CLI and the API name it (by key) → as assignments store it (by id). */
export async function resolveScope(tx: Repos, tenant: Tenant, scope: ReturnType<typeof parseInput<typeof assignmentInput>>['scope']) {
  switch (scope.type) {
    case 'tenant':
      return { scopeType: 'tenant' as const, scopeId: null };
    case 'location':
      return { scopeType: 'location' as const, scopeId: (await requireByKey(tx.locations, tenant.id, scope.key, 'location')).id };
    case 'institution':
      return { scopeType: 'institution' as const, scopeId: (await requireByKey(tx.institutions, tenant.id, scope.key, 'institution')).id };
    case 'application': {
      const app = await tx.applications.findOneBy({ tenantId: tenant.id, clientId: scope.clientId });
      if (!app) throw new NotFoundError(`application "${scope.clientId}" does not exist`);
      return { scopeType: 'application' as const, scopeId: app.id };
    }
  }
}

/** Adds one assignment inside `tx`; throws PhiRequiredError for a PHI role on a non-PHI user. */
export async function addAssignment(
  ctx: AccountsContext,
  tx: Repos,
  tenant: Tenant,
  holder: Holder,
  raw: AssignmentInput,
  actor: Actor,
  origin: Assignment['origin'] = 'manual',
  permission = 'caregate.assignments:create',
): Promise<Assignment> {
  const input = parseInput(assignmentInput, raw);
  if (input.startsAt && input.expiresAt && input.expiresAt <= input.startsAt) {
    throw new ValidationError('expiresAt: must be after startsAt');
  }
  const role = await requireByKey(tx.roles, tenant.id, input.role, 'role');
  if ('userId' in holder) {
    const user = await tx.users.findOneBy({ tenantId: tenant.id, id: holder.userId });
    if (!user) throw new NotFoundError('user does not exist');
    if (!user.phiAccess && roleRequiresPhi(role.id, await loadRoleDefinitions(tx, tenant.id))) {
      throw new PhiRequiredError(`role "${role.key}" requires PHI access; user "${user.username}" does not have the PHI flag`);
    }
  } else if (!(await tx.teams.findOneBy({ tenantId: tenant.id, id: holder.teamId }))) {
    throw new NotFoundError('team does not exist');
  }
  const scope = await resolveScope(tx, tenant, input.scope);
  // Within the actor's scope (a team, like every tenant-wide object, needs it tenant-wide) …
  await (await loadAuthority(tx, tenant, actor)).require(permission, 'teamId' in holder ? { kind: 'tenant' } : { kind: 'scope', scope });
  // … and nothing the actor does not hold there.
  // A team's members change too, but no self-change rule there: every admin is in "everyone",
  // and the actor holds whatever the role carries, so nobody gains anything.
  await assertMayGrant(tx, tenant, actor, [{ roleId: role.id, ...scope }], 'userId' in holder ? [holder.userId] : []);
  const assignment: Assignment = {
    id: randomUUID(),
    tenantId: tenant.id,
    userId: 'userId' in holder ? holder.userId : null,
    teamId: 'teamId' in holder ? holder.teamId : null,
    roleId: role.id,
    ...scope,
    startsAt: input.startsAt ?? null,
    expiresAt: input.expiresAt ?? null,
    timeWindow: input.timeWindow ?? null,
    origin,
    createdAt: new Date(),
  };
  await tx.assignments.insert(assignment);
  await ctx.audit.record(
    { tenantId: tenant.id, actor, action: 'assignment.create', target: { type: 'assignment', id: assignment.id }, after: { ...assignment, role: role.key } },
    tx,
  );
  return assignment;
}

/** Refuses unless the actor holds `permission` where the user is. */
export async function requireUserInScope(repos: Repos, tenant: Tenant, actor: Actor, userId: string, permission: string) {
  const user = await repos.users.findOneBy({ tenantId: tenant.id, id: userId });
  if (!user) throw new NotFoundError('user does not exist');
  await (await loadAuthority(repos, tenant, actor)).require(permission, { kind: 'user', user });
}

export function createAssignmentService(ctx: AccountsContext) {
  const { storage, audit } = ctx;
  return {
    async assign(tenantSlug: string, holder: Holder, input: AssignmentInput, actor: Actor) {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        // A scoped administrator gives roles only to users already in their scope.
        if ('userId' in holder) await requireUserInScope(tx, tenant, actor, holder.userId, 'caregate.assignments:create');
        return addAssignment(ctx, tx, tenant, holder, input, actor);
      });
    },
    /**
     * What the holder holds, each with its role's key and name (a scoped administrator may not read
     * the role catalogue). `actor`, when given, must hold caregate.assignments:read where the user
     * is (tenant-wide for a team).
     */
    async list(tenantSlug: string, holder: Holder, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      if (actor && 'userId' in holder) await requireUserInScope(storage, tenant, actor, holder.userId, 'caregate.assignments:read');
      else if (actor) await (await loadAuthority(storage, tenant, actor)).require('caregate.assignments:read', { kind: 'tenant' });
      const rows = await storage.assignments.find({ where: { tenantId: tenant.id, ...holder }, order: { createdAt: 'ASC' } });
      const roles = rows.length ? await loadRoleDefinitions(storage, tenant.id) : new Map();
      return rows.map((a) => ({ ...a, role: roles.get(a.roleId)?.key ?? null, roleName: roles.get(a.roleId)?.name ?? null }));
    },
    async remove(tenantSlug: string, assignmentId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const before = await tx.assignments.findOneBy({ tenantId: tenant.id, id: assignmentId });
        if (!before) throw new NotFoundError('assignment does not exist');
        await endAssignments(ctx, tx, tenant, [before], actor);
      });
    },
    /** Ends what the holder holds of `role` at `scope` (as remove() ends one), in one transaction; 404 when it holds none there. */
    async unassign(tenantSlug: string, holder: Holder, raw: Pick<AssignmentInput, 'role' | 'scope'>, actor: Actor) {
      const { role, scope } = parseInput(assignmentInput.pick({ role: true, scope: true }), raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        // A scoped administrator learns nothing about users outside their scope.
        if ('userId' in holder) await requireUserInScope(tx, tenant, actor, holder.userId, 'caregate.assignments:delete');
        const roleRow = await requireByKey(tx.roles, tenant.id, role, 'role');
        const where = await resolveScope(tx, tenant, scope);
        const held = (await tx.assignments.findBy({ tenantId: tenant.id, ...holder, roleId: roleRow.id, scopeType: where.scopeType })).filter((a) => a.scopeId === where.scopeId);
        if (!held.length) {
          const who = 'userId' in holder ? `user "${(await tx.users.findOneBy({ id: holder.userId }))?.username}"` : `team "${(await tx.teams.findOneBy({ id: holder.teamId }))?.key}"`;
          throw new NotFoundError(`${who} does not hold role "${role}" there`);
        }
        await endAssignments(ctx, tx, tenant, held, actor);
        return { role, scope, removed: held.map((a) => a.id) };
      });
    },
  };
}

/** Ends assignments: taking a role away needs the same rights as granting it, where it is (and never one's own); the last administrator stays. */
async function endAssignments({ audit }: AccountsContext, tx: Repos, tenant: Tenant, ended: Assignment[], actor: Actor) {
  const authority = await loadAuthority(tx, tenant, actor);
  for (const a of ended) {
    await authority.require('caregate.assignments:delete', a.teamId ? { kind: 'tenant' } : { kind: 'scope', scope: a });
    await assertMayGrant(tx, tenant, actor, [a], a.userId ? [a.userId] : [], 'remove');
  }
  const keepAdmin = await beginAdminCheck(tx, tenant);
  for (const a of ended) {
    // Delegations of it end with it (ON DELETE CASCADE); say so in the log.
    for (const d of await tx.assignments.findBy({ tenantId: tenant.id, sourceAssignmentId: a.id })) {
      await audit.record({ tenantId: tenant.id, actor, action: 'delegation.end', target: { type: 'assignment', id: d.id }, before: d, details: { reason: 'source_ended' } }, tx);
    }
    await tx.assignments.delete({ id: a.id });
    await audit.record({ tenantId: tenant.id, actor, action: 'assignment.delete', target: { type: 'assignment', id: a.id }, before: a }, tx);
  }
  await keepAdmin(ended.length > 1 ? 'removing these assignments' : 'removing this assignment');
}
export type AssignmentService = ReturnType<typeof createAssignmentService>;
