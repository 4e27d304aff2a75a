// Temporary delegation ("Acting Manager"): a person passes one of their role assignments — or some
// of its permissions — to a colleague for a date range, without changing either person's own
// roles. A delegation is an assignment of origin 'delegation' naming its delegator and the
// assignment it passes on; it ends by itself, with that assignment (ON DELETE CASCADE), or early
// by the delegator or an administrator with the right at its scope. Tokens carry it with
// `delegated_from` (src/authz/project-claims.ts).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hasExpired, permissionCovered, rolePermissions, roleRequiresPhi } from '../authz/index.ts';
import { DelegationRefusedError, EscalationError, NotFoundError, PhiRequiredError, ValidationError } from '../errors.ts';
import { In, type Assignment, type Repos, type Tenant } from '../storage/index.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { loadAuthority } from './admin-authority.ts';
import { assertMayGrant } from './grant-guard.ts';
import { findUser } from './find-user.ts';
import { requireUserInScope } from './assignment-service.ts';
import { loadRoleDefinitions } from './role-definitions.ts';

export const delegationInput = z.strictObject({
  assignment: z.uuid().describe("The delegator's own assignment to pass on (a role at a scope)"),
  delegate: z.string().min(1).max(128).describe('Username or id of the colleague who acts for the delegator'),
  startsAt: z.coerce.date().optional().describe('Default: now'),
  expiresAt: z.coerce.date().describe("When it ends by itself; no later than the delegator's assignment ends"),
  permissions: z
    .array(z.string().regex(/^[a-z][a-z0-9_.-]*(:[a-z][a-z0-9_.-]*)+$/, 'must be a permission such as "schedule:edit"'))
    .min(1)
    .max(200)
    .optional()
    .describe("Only these of the role's permissions (the delegate's tokens carry them, not the role); default: the whole role"),
  reason: z.string().max(500).optional().describe('Why, for the audit log'),
});
export type DelegationInput = z.input<typeof delegationInput>;

/**
 * Origins that cannot be passed on. A delegation cannot be re-delegated: the delegator chose whom
 * to trust, and a chain would let access travel where they never sent it and outlast their
 * decision to end it. Elevation and break-glass grants were approved for one person and one reason.
 */
const NOT_DELEGABLE: ReadonlySet<Assignment['origin']> = new Set(['delegation', 'elevation', 'break-glass']);

type Mode = { as: 'delegator' } | { as: 'admin' };

export function createDelegationService(ctx: AccountsContext) {
  const { storage, audit } = ctx;

  /** The API's view of a delegation: who, what, where, when. */
  async function describe(repos: Repos, tenant: Tenant, rows: Assignment[]) {
    const userIds = [...new Set(rows.flatMap((d) => [d.userId!, d.delegatedBy!]))];
    const users = new Map((userIds.length ? await repos.users.findBy({ tenantId: tenant.id, id: In(userIds) }) : []).map((u) => [u.id, u.username]));
    const roles = new Map((await repos.roles.findBy({ tenantId: tenant.id })).map((r) => [r.id, r]));
    const now = new Date();
    return rows.map((d) => ({
      id: d.id,
      delegator: { id: d.delegatedBy, username: users.get(d.delegatedBy!) },
      delegate: { id: d.userId, username: users.get(d.userId!) },
      role: roles.get(d.roleId)?.key,
      roleName: roles.get(d.roleId)?.name,
      scope: { type: d.scopeType, id: d.scopeId },
      permissions: d.permissions ?? null,
      sourceAssignment: d.sourceAssignmentId,
      startsAt: d.startsAt,
      expiresAt: d.expiresAt,
      timeWindow: d.timeWindow ?? null,
      status: hasExpired(d.expiresAt, now) ? 'ended' : d.startsAt && d.startsAt > now ? 'scheduled' : 'active',
    }));
  }

  /** The user behind a person's actor; delegating for oneself needs one. */
  function actorUserId(actor: Actor): string {
    if (actor.type !== 'user' || !actor.id) throw new DelegationRefusedError('only a person delegates their own roles', { reason: 'not_a_person' });
    return actor.id;
  }

  return {
    /**
     * Passes `input.assignment` (or some of its permissions) to `input.delegate` until `expiresAt`.
     * As the delegator: the assignment must be the actor's own. As an admin: the actor needs
     * caregate.assignments:create at its scope and must hold the role there (no escalation).
     */
    async create(tenantSlug: string, raw: DelegationInput, actor: Actor, mode: Mode) {
      const input = delegationInput.parse(raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const now = new Date();
        // 1. The assignment passed on: a person's own, still running.
        const source = await tx.assignments.findOneBy({ tenantId: tenant.id, id: input.assignment });
        const mine = mode.as === 'delegator' ? source?.userId === actorUserId(actor) : true;
        if (!source || !mine) throw new NotFoundError('assignment does not exist');
        if (!source.userId) throw new DelegationRefusedError("a team's role is not any one member's to delegate", { reason: 'team_assignment' });
        if (NOT_DELEGABLE.has(source.origin)) {
          throw new DelegationRefusedError(`an assignment of origin "${source.origin}" cannot be delegated: only standing roles are passed on, never a delegation again or a temporary grant`, { reason: 'not_delegable', origin: source.origin });
        }
        if (hasExpired(source.expiresAt, now)) throw new DelegationRefusedError('that assignment has ended', { reason: 'source_ended' });
        const delegator = (await tx.users.findOneBy({ tenantId: tenant.id, id: source.userId }))!;
        // 2. The delegate: someone else in this tenant, with the PHI flag for a PHI role.
        const delegate = await findUser(tx, tenant.id, input.delegate);
        if (delegate.id === delegator.id) throw new DelegationRefusedError('you cannot delegate to yourself', { reason: 'self_delegation' });
        const roles = await loadRoleDefinitions(tx, tenant.id);
        const role = roles.get(source.roleId)!;
        if (roleRequiresPhi(role.id, roles) && !(delegate.phiAccess && delegator.phiAccess)) {
          throw new PhiRequiredError(`role "${role.key}" requires PHI access; "${delegator.phiAccess ? delegate.username : delegator.username}" does not have the PHI flag`);
        }
        // 3. What: the role, or a part of it — never more than it carries.
        const carried = rolePermissions(role.id, roles);
        const beyond = (input.permissions ?? []).filter((p) => !permissionCovered(carried, p));
        if (beyond.length) {
          throw new EscalationError(`role "${role.key}" does not carry ${beyond.join(', ')}: you can delegate only what you hold there`, { reason: 'escalation', role: role.key, missing: beyond });
        }
        // 4. When: within the assignment's own validity.
        const startsAt = input.startsAt ?? (source.startsAt && source.startsAt > now ? source.startsAt : now);
        if (source.startsAt && startsAt < source.startsAt) throw new ValidationError(`startsAt: must not be before the delegated assignment starts (${source.startsAt.toISOString()})`);
        if (input.expiresAt <= startsAt || input.expiresAt <= now) throw new ValidationError('expiresAt: must be after startsAt and in the future');
        if (source.expiresAt && input.expiresAt > source.expiresAt) {
          throw new ValidationError(`expiresAt: must not be after the delegated assignment ends (${source.expiresAt.toISOString()})`);
        }
        // 5. Who may: the delegator themselves, or an administrator who could grant the role there.
        if (mode.as === 'admin') {
          await requireUserInScope(tx, tenant, actor, delegate.id, 'caregate.assignments:create');
          await (await loadAuthority(tx, tenant, actor)).require('caregate.assignments:create', { kind: 'scope', scope: source });
          await assertMayGrant(tx, tenant, actor, [source], [delegate.id], 'delegate');
        }
        const running = (await tx.assignments.findBy({ tenantId: tenant.id, sourceAssignmentId: source.id, userId: delegate.id })).filter((d) => !hasExpired(d.expiresAt, now));
        if (running.length) throw new DelegationRefusedError(`"${delegate.username}" already holds a delegation of this assignment; end it first`, { reason: 'duplicate', delegation: running[0]!.id });
        const delegation: Assignment = {
          id: randomUUID(),
          tenantId: tenant.id,
          userId: delegate.id,
          teamId: null,
          roleId: source.roleId,
          scopeType: source.scopeType,
          scopeId: source.scopeId,
          startsAt,
          expiresAt: input.expiresAt,
          // The delegate acts when the delegator could: the same weekly window.
          timeWindow: source.timeWindow ?? null,
          origin: 'delegation',
          delegatedBy: delegator.id,
          sourceAssignmentId: source.id,
          permissions: input.permissions ? [...new Set(input.permissions)].sort() : null,
          createdAt: now,
        };
        await tx.assignments.insert(delegation);
        await audit.record(
          { tenantId: tenant.id, actor, action: 'delegation.create', target: { type: 'assignment', id: delegation.id }, after: { ...delegation, role: role.key }, details: { delegator: delegator.username, delegate: delegate.username, reason: input.reason ?? null } },
          tx,
        );
        return (await describe(tx, tenant, [delegation]))[0]!;
      });
    },

    /** As an admin: the delegations at scopes where the actor holds caregate.assignments:read (all, tenant-wide). */
    async list(tenantSlug: string, actor: Actor, { includeEnded = false } = {}) {
      const tenant = await requireTenant(storage, tenantSlug);
      const authority = await loadAuthority(storage, tenant, actor);
      const rows = await storage.assignments.find({ where: { tenantId: tenant.id, origin: 'delegation' }, order: { createdAt: 'ASC' } });
      const visible: Assignment[] = [];
      for (const d of rows) {
        if (!includeEnded && hasExpired(d.expiresAt, new Date())) continue;
        if ((await authority.scopesFor('caregate.assignments:read', { kind: 'scope', scope: d })).length) visible.push(d);
      }
      return describe(storage, tenant, visible);
    },

    /** As a person: their own role assignments they could pass on (standing, not ended), to choose from. */
    async delegable(tenantSlug: string, actor: Actor) {
      const me = actorUserId(actor);
      const tenant = await requireTenant(storage, tenantSlug);
      const roles = await loadRoleDefinitions(storage, tenant.id);
      const now = new Date();
      const own = await storage.assignments.find({ where: { tenantId: tenant.id, userId: me }, order: { createdAt: 'ASC' } });
      return own
        .filter((a) => !NOT_DELEGABLE.has(a.origin) && !hasExpired(a.expiresAt, now))
        .map((a) => ({ id: a.id, role: roles.get(a.roleId)?.key, scope: { type: a.scopeType, id: a.scopeId }, expiresAt: a.expiresAt, timeWindow: a.timeWindow ?? null, permissions: [...rolePermissions(a.roleId, roles)].sort() }));
    },

    /** As a person: the delegations they gave and those they hold. */
    async mine(tenantSlug: string, actor: Actor) {
      const me = actorUserId(actor);
      const tenant = await requireTenant(storage, tenantSlug);
      const rows = await storage.assignments.find({ where: [{ tenantId: tenant.id, delegatedBy: me }, { tenantId: tenant.id, userId: me, origin: 'delegation' }], order: { createdAt: 'ASC' } });
      const all = await describe(storage, tenant, rows);
      return { given: all.filter((d) => d.delegator.id === me), received: all.filter((d) => d.delegate.id === me) };
    },

    /**
     * Ends a delegation now (it stays listed as ended). As the delegator: only one they gave. As an
     * admin: caregate.assignments:delete at its scope and the right to take the role away there.
     */
    async end(tenantSlug: string, id: string, actor: Actor, mode: Mode) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const d = await tx.assignments.findOneBy({ tenantId: tenant.id, id, origin: 'delegation' });
        if (!d || (mode.as === 'delegator' && d.delegatedBy !== actorUserId(actor))) throw new NotFoundError('delegation does not exist');
        if (mode.as === 'admin') {
          await (await loadAuthority(tx, tenant, actor)).require('caregate.assignments:delete', { kind: 'scope', scope: d });
          await assertMayGrant(tx, tenant, actor, [d], [d.userId!], 'remove');
        }
        const now = new Date();
        if (hasExpired(d.expiresAt, now)) return;
        await tx.assignments.update({ id: d.id }, { expiresAt: now });
        await audit.record({ tenantId: tenant.id, actor, action: 'delegation.end', target: { type: 'assignment', id: d.id }, before: d, after: { ...d, expiresAt: now }, details: { early: true } }, tx);
      });
    },
  };
}
export type DelegationService = ReturnType<typeof createDelegationService>;
