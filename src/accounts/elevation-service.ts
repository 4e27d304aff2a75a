// Just-in-time elevation with approval, and one-time access (issue 18). A user asks for a role at a
// scope for a while, with a reason; holders of caregate.access:approve are told; the first approver
// who is not the requester, holds that permission where the role is asked for, and may themselves
// grant the role there (the no-escalation rule), grants an assignment of origin 'elevation' that
// ends by itself. Where the tenant names approval levels (approval-chain.ts), each level approves
// in turn and the last one grants. A one-time grant is consumed by the first token issued with it
// (one-time-grants.ts). Rejections and requests nobody decided in time are audited and the
// requester is told.
import { randomUUID } from 'node:crypto';
import { permissionCovered, rolePermissions } from '../authz/index.ts';
import { ConflictError, NotFoundError, PhiRequiredError, SelfChangeError } from '../errors.ts';
import { In, queries, type AccessApproval, type AccessRequest, type Repos, type Tenant } from '../storage/index.ts';
import { roleRequiresPhi } from '../authz/index.ts';
import { alertApprovers, tellRequester } from './access-alerts.ts';
import { requireByKey, requireTenant, type Actor } from './context.ts';
import { decisionInput, elevationInput, PENDING_HOURS, publicRequest, requestFilter } from './emergency-access-rules.ts';
import type { EmergencyAccessDeps } from './emergency-access-service.ts';
import { describeGrant, insertTemporaryGrant, maxMinutes } from './temporary-grant.ts';
import { parseInput } from './parse-input.ts';
import { loadRoleDefinitions } from './role-definitions.ts';
import { resolveScope } from './assignment-service.ts';
import { loadAuthority, subjectOf } from './admin-authority.ts';
import { assertMayGrant } from './grant-guard.ts';
import { levelApprovers, levelToDecide } from './approval-chain.ts';
import type { z } from 'zod';

/** The permission that lets its holders decide elevation requests at its scope. */
export const APPROVE_PERMISSION = 'caregate.access:approve';

/** Users who hold a role carrying the approval permission (anywhere), but not the requester. */
async function approversOf(db: Repos, tenant: Tenant, requesterId: string) {
  const roles = await loadRoleDefinitions(db, tenant.id);
  const approving = [...roles.keys()].filter((id) => permissionCovered(rolePermissions(id, roles), APPROVE_PERMISSION));
  return (await queries.accessRequests.holdersWithEmail(db, tenant.id, approving)).filter((u) => u.id !== requesterId);
}

export function createElevations(deps: EmergencyAccessDeps) {
  const { storage, audit } = deps;

  /**
   * The checks every decision makes: pending, not one's own, the approval permission where the role
   * is asked for — and, on a request with approval levels, the level now awaiting a decision.
   */
  async function decidable(tx: Repos, tenant: Tenant, id: string, actor: Actor, verb: 'approve' | 'reject', asked?: number) {
    const request = await queries.accessRequests.findForUpdate(tx, tenant.id, id);
    if (!request || request.kind !== 'elevation') throw new NotFoundError('access request does not exist');
    if (request.status !== 'pending') throw new ConflictError(`this request is already ${request.status}`);
    if (request.pendingUntil && request.pendingUntil <= new Date()) throw new ConflictError('this request has lapsed; ask the requester to ask again');
    const approver = await subjectOf(tx, tenant, actor);
    if (approver?.id === request.userId) {
      throw new SelfChangeError(`you cannot ${verb} your own request; another approver must`, { reason: 'self_approval' });
    }
    const authority = await loadAuthority(tx, tenant, actor);
    await authority.require(APPROVE_PERMISSION, { kind: 'scope', scope: request });
    if (!request.approvalLevels.length) return { request, approver, level: undefined, given: [] as AccessApproval[] };
    if (!approver) throw new SelfChangeError('a level of an approval chain is approved by a person', { reason: 'not_a_person' });
    const given = await queries.accessRequests.approvals(tx, [request.id]);
    return { request, approver, level: await levelToDecide(tx, request, approver, authority.snapshot, given, asked), given };
  }

  /** Names for the API: users and roles by id, and the approvals given to `requests`. */
  async function named(db: Repos, tenant: Tenant, requests: AccessRequest[]) {
    const given = await queries.accessRequests.approvals(db, requests.map((r) => r.id));
    const userIds = [...new Set([...requests.map((r) => r.userId), ...given.map((a) => a.approverId)])];
    const users = new Map((userIds.length ? await db.users.findBy({ id: In(userIds) }) : []).map((u) => [u.id, u.username]));
    const roles = new Map((await db.roles.findBy({ tenantId: tenant.id })).map((r) => [r.id, r]));
    return (r: AccessRequest) =>
      publicRequest(r, { user: users.get(r.userId), role: roles.get(r.roleId)?.key, roleName: roles.get(r.roleId)?.name, userName: (id) => users.get(id), roleKey: (id) => roles.get(id)?.key }, given.filter((a) => a.requestId === r.id));
  }

  /** Refusals are audited after the refused transaction rolled back. */
  async function audited<T>(tenant: Tenant, actor: Actor, action: string, id: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const reason = (error as { details?: { reason?: string } }).details?.reason ?? (error as { code?: string }).code;
      if ((error as { status?: number }).status === 403) {
        await audit.record({ tenantId: tenant.id, actor, action, outcome: 'failure', target: { type: 'access_request', id }, details: { reason } });
      }
      throw error;
    }
  }

  return {
    /** The caller asks for a role at a scope for themselves; approvers are told. */
    async request(tenantSlug: string, raw: z.input<typeof elevationInput>, actor: Actor) {
      const input = parseInput(elevationInput, raw);
      const created = await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const user = await subjectOf(tx, tenant, actor);
        if (!user) throw new NotFoundError('only a person of this tenant may ask for access');
        const role = await requireByKey(tx.roles, tenant.id, input.role, 'role');
        if (!user.phiAccess && roleRequiresPhi(role.id, await loadRoleDefinitions(tx, tenant.id))) {
          throw new PhiRequiredError(`role "${role.key}" requires PHI access; you do not have the PHI flag`);
        }
        const max = await maxMinutes(tx, tenant.id);
        if (input.minutes > max) throw new ConflictError(`minutes: at most the tenant's maximum of ${max}`);
        const scope = await resolveScope(tx, tenant, input.scope);
        const approvalLevels = (await queries.accessRequests.settings(tx, tenant.id))?.approvalLevels ?? [];
        if (approvalLevels.some((l) => 'manager' in l) && !user.managerId) {
          throw new ConflictError("this tenant's approvals start with your manager, and you have none: ask an administrator to set your manager", { reason: 'no_manager' });
        }
        const request = {
          id: randomUUID(), tenantId: tenant.id, kind: 'elevation' as const, userId: user.id, roleId: role.id, ...scope, ruleId: null, reviewerRoleId: null,
          reason: input.reason, minutes: input.minutes, oneTime: input.oneTime, status: 'pending' as const, pendingUntil: new Date(Date.now() + PENDING_HOURS * 3600_000), approvalLevels,
        };
        await queries.accessRequests.insertRequest(tx, request);
        await audit.record({ tenantId: tenant.id, actor, action: 'elevation.request', target: { type: 'access_request', id: request.id }, after: { ...request, role: role.key } }, tx);
        return { tenant, request: (await queries.accessRequests.find(tx, tenant.id, request.id))! };
      });
      const { tenant, request } = created;
      const facts = await describeGrant(storage, tenant, request);
      const first = request.approvalLevels.length ? await levelApprovers(storage, tenant, request, 1, []) : await approversOf(storage, tenant, request.userId);
      await alertApprovers(deps, tenant, first, request, { ...facts, reason: request.reason }).catch((e: Error) => deps.onError(e, 'approver alert'));
      return (await named(storage, tenant, [request]))(request);
    },

    /**
     * What the request form offers the caller, by name and without any admin permission: the
     * tenant's roles (those needing the PHI flag the caller lacks marked), the places to ask for
     * them at, and the longest grant.
     */
    async choices(tenantSlug: string, actor: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      // A person's: an integration (its API key or client token speaks for a service account) reads catalogues with the permissions for them.
      const user = await subjectOf(storage, tenant, actor);
      if (!user || user.kind !== 'human') throw new NotFoundError('only a person of this tenant may ask for access');
      const byName = <T extends { name: string }>(rows: T[]) => rows.sort((a, b) => a.name.localeCompare(b.name));
      const [roles, locations, institutions, applications] = await Promise.all([
        storage.roles.findBy({ tenantId: tenant.id }),
        storage.locations.findBy({ tenantId: tenant.id }),
        storage.institutions.findBy({ tenantId: tenant.id }),
        storage.applications.findBy({ tenantId: tenant.id }),
      ]);
      // The rows are the definitions the PHI rule reads (a role inherits its parent's flag).
      const definitions = new Map(roles.map((r) => [r.id, r]));
      return {
        maxMinutes: await maxMinutes(storage, tenant.id),
        roles: byName(roles).map((r) => {
          const requiresPhi = roleRequiresPhi(r.id, definitions);
          return { key: r.key, name: r.name, description: r.description, requiresPhi, mayAsk: !requiresPhi || user.phiAccess };
        }),
        locations: byName(locations).map((l) => ({ id: l.id, key: l.key, name: l.name })),
        institutions: byName(institutions).map((i) => ({ id: i.id, key: i.key, name: i.name })),
        // The applications people sign in to; an integration's own client (a service account) is no place to ask for a role at.
        applications: byName(applications.filter((a) => !a.serviceUserId)).map((a) => ({ id: a.id, clientId: a.clientId, name: a.name })),
      };
    },

    async list(tenantSlug: string, filter: Pick<z.output<typeof requestFilter>, 'status'>, actor: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const authority = await loadAuthority(storage, tenant, actor);
      const all = await queries.accessRequests.list(storage, tenant.id, { kind: 'elevation', status: filter.status });
      const visible = [];
      for (const r of all) if ((await authority.scopesFor(APPROVE_PERMISSION, { kind: 'scope', scope: r })).length || authority.subject?.id === r.userId) visible.push(r);
      return visible.map(await named(storage, tenant, visible));
    },

    async approve(tenantSlug: string, id: string, raw: z.input<typeof decisionInput>, actor: Actor) {
      const input = parseInput(decisionInput, raw);
      const tenant = await requireTenant(storage, tenantSlug);
      const done = await audited(tenant, actor, 'elevation.approve', id, () => storage.transaction(async (tx) => {
        const { request, approver, level, given } = await decidable(tx, tenant, id, actor, 'approve', input.level);
        if (level !== undefined) {
          // One approval of the chain; the unique index refuses the same person twice even in a race.
          if (!(await queries.accessRequests.addApproval(tx, { requestId: id, level, approverId: approver!.id, note: input.note ?? null }))) {
            throw new SelfChangeError('you have already approved this request; another person must approve this level', { reason: 'same_approver', level });
          }
          given.push({ requestId: id, level, approverId: approver!.id, note: input.note ?? null, approvedAt: new Date() });
        }
        if (level !== undefined && level < request.approvalLevels.length) {
          await audit.record({ tenantId: tenant.id, actor, action: 'elevation.approve', target: { type: 'access_request', id }, after: { level, of: request.approvalLevels.length, note: input.note ?? null } }, tx);
          return { request, user: undefined, endsAt: undefined, level, given };
        }
        // The (last) approver grants: they must be allowed to give this role there, as any admin would.
        await assertMayGrant(tx, tenant, actor, [request], [request.userId], 'approve');
        const user = await tx.users.findOneByOrFail({ id: request.userId });
        const assignment = await insertTemporaryGrant(tx, tenant, user, request, 'elevation', request.minutes);
        await queries.accessRequests.decide(tx, id, { status: 'granted', decidedBy: approver?.id ?? null, note: input.note ?? null, assignmentId: assignment.id, grantEndsAt: assignment.expiresAt! });
        await audit.record({ tenantId: tenant.id, actor, action: 'elevation.approve', target: { type: 'access_request', id }, after: { assignment, oneTime: request.oneTime, note: input.note ?? null, ...(level ? { level, of: level } : {}) } }, tx);
        return { request, user, endsAt: assignment.expiresAt!, level, given };
      }));
      const facts = await describeGrant(storage, tenant, done.request);
      if (!done.user) {
        // A level approved, not the last: the next level's approvers are told.
        const next = await levelApprovers(storage, tenant, done.request, done.level! + 1, done.given);
        await alertApprovers(deps, tenant, next, done.request, { ...facts, reason: done.request.reason }).catch((e: Error) => deps.onError(e, 'approver alert'));
        return { id, status: 'pending', role: facts.role, roleName: facts.roleName, scope: facts.scope, approvedLevel: done.level, awaitingLevel: done.level! + 1, oneTime: done.request.oneTime };
      }
      await tellRequester(deps, tenant, done.user, done.request, 'approved', { ...facts, endsAt: done.endsAt, note: input.note }).catch((e: Error) => deps.onError(e, 'requester notice'));
      return { id, status: 'granted', role: facts.role, roleName: facts.roleName, scope: facts.scope, endsAt: done.endsAt, oneTime: done.request.oneTime };
    },

    async reject(tenantSlug: string, id: string, raw: z.input<typeof decisionInput>, actor: Actor) {
      const input = parseInput(decisionInput, raw);
      const tenant = await requireTenant(storage, tenantSlug);
      const done = await audited(tenant, actor, 'elevation.reject', id, () => storage.transaction(async (tx) => {
        const { request, approver, level } = await decidable(tx, tenant, id, actor, 'reject', input.level);
        await queries.accessRequests.decide(tx, id, { status: 'rejected', decidedBy: approver?.id ?? null, note: input.note ?? null });
        await audit.record({ tenantId: tenant.id, actor, action: 'elevation.reject', target: { type: 'access_request', id }, after: { note: input.note ?? null, ...(level ? { level } : {}) } }, tx);
        return { request, user: await tx.users.findOneByOrFail({ id: request.userId }) };
      }));
      const facts = await describeGrant(storage, tenant, done.request);
      await tellRequester(deps, tenant, done.user, done.request, 'rejected', { ...facts, note: input.note }).catch((e: Error) => deps.onError(e, 'requester notice'));
      return { id, status: 'rejected' };
    },

    /** Lapses the requests (and break-glass uses awaiting approval) nobody decided in time: audited, and the requester is told. */
    async expirePending(): Promise<AccessRequest[]> {
      const lapsed = await storage.transaction(async (tx) => {
        const rows = await queries.accessRequests.expirePending(tx);
        for (const r of rows) {
          const breakGlass = r.kind === 'break-glass';
          await audit.record({ tenantId: r.tenantId, actor: { type: 'system', id: breakGlass ? 'break-glass' : 'elevation' }, action: breakGlass ? 'break_glass.expire' : 'elevation.expire',
            target: { type: 'access_request', id: r.id }, details: { pendingUntil: r.pendingUntil, ...(breakGlass ? { severity: 'high', approvalsRequired: r.approvalsRequired } : {}) } }, tx);
        }
        return rows;
      });
      for (const r of lapsed) {
        const [tenant, user] = await Promise.all([storage.tenants.findOneByOrFail({ id: r.tenantId }), storage.users.findOneBy({ id: r.userId })]);
        if (user) await tellRequester(deps, tenant, user, r, 'expired', await describeGrant(storage, tenant, r)).catch((e: Error) => deps.onError(e, 'requester notice'));
      }
      return lapsed;
    },
  };
}
export type Elevations = ReturnType<typeof createElevations>;
