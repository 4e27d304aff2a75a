// Owner emergency access with two-person approval (issue 18; seeds: "Emergency bypass — owner can
// gain access if admin unavailable", "Separation of duties — different person must approve
// emergency access"). A break-glass rule with approvalsRequired (1 or 2) makes a use wait: each
// approval comes from a different person — a holder of the rule's reviewer role (not through a
// temporary grant) or one of its named approvers, never the person who asked — and the grant
// starts when the last one arrives. A use nobody approves in time lapses (expirePending).
import { ConflictError, ForbiddenError, NotFoundError, SelfChangeError } from '../errors.ts';
import { queries, type AccessRequest, type Repos, type Tenant, type User } from '../storage/index.ts';
import { alertBreakGlass, tellRequester } from './access-alerts.ts';
import { subjectOf } from './admin-authority.ts';
import { requireTenant, type Actor } from './context.ts';
import { decisionInput } from './emergency-access-rules.ts';
import type { EmergencyAccessDeps } from './emergency-access-service.ts';
import { parseInput } from './parse-input.ts';
import { activateUse, describeGrant, HIGH, holdsStandingRole } from './temporary-grant.ts';
import type { z } from 'zod';

/** Whether the person holds any of these roles other than through a temporary grant. */
type HoldsStanding = (roleIds: readonly string[]) => Promise<boolean>;

/** True when `person` is one of the use's approvers: named by its rule, or holding its reviewer role (not through a temporary grant). */
async function isApprover(use: Pick<AccessRequest, 'approverUserIds' | 'reviewerRoleId'>, person: User, holds: HoldsStanding): Promise<boolean> {
  return use.approverUserIds.includes(person.id) || Boolean(use.reviewerRoleId && (await holds([use.reviewerRoleId])));
}

/** `holdsStandingRole` for one person, each set of roles asked once (one snapshot load per question, not per use). */
function standingOf(db: Repos, person: User): HoldsStanding {
  const asked = new Map<string, Promise<boolean>>();
  return (roleIds) => {
    const key = [...roleIds].sort().join(',');
    let answer = asked.get(key);
    if (!answer) asked.set(key, (answer = holdsStandingRole(db, person, roleIds)));
    return answer;
  };
}

export function createBreakGlassApprovals(deps: EmergencyAccessDeps) {
  const { storage, audit } = deps;

  /** A refused approval or refusal is recorded once its transaction has rolled back. */
  async function refused(tenant: Tenant, actor: Actor, id: string, error: { status?: number; details?: { reason?: string } }, action = 'break_glass.approve') {
    if (error.status === 403) {
      await audit.record({ tenantId: tenant.id, actor, action, outcome: 'failure', target: { type: 'access_request', id }, details: { ...HIGH, reason: error.details?.reason } });
    }
  }

  /**
   * The waiting use `id`, locked, and the person deciding on it — refused unless they are one of its
   * approvers (named, or holding the reviewer role not through a temporary grant) and not the person
   * who asked, and unless the use still waits.
   */
  async function decidable(tx: Repos, tenant: Tenant, id: string, actor: Actor, verb: 'approve' | 'refuse') {
    const use = await queries.accessRequests.findForUpdate(tx, tenant.id, id);
    if (!use || use.kind !== 'break-glass') throw new NotFoundError('emergency access use does not exist');
    const approver = await subjectOf(tx, tenant, actor);
    if (!approver) throw new ForbiddenError(`an emergency access use is decided by a person`, { reason: 'not_a_person' });
    if (approver.id === use.userId) throw new SelfChangeError(`you cannot ${verb} your own emergency access; another person must`, { reason: 'self_approval' });
    if (!(await isApprover(use, approver, (roleIds) => holdsStandingRole(tx, approver, roleIds)))) {
      throw new ForbiddenError(`only the rule's approvers and holders of its reviewer role may ${verb} this use`, { reason: 'not_approver' });
    }
    if (use.status !== 'pending') throw new ConflictError(use.approvalsRequired ? `this use is already ${use.status}` : 'this use needed no approval');
    if (use.pendingUntil && use.pendingUntil <= new Date()) throw new ConflictError('this request has lapsed; the person must ask again');
    return { use, approver };
  }

  return {
    /**
     * What waits for `user`'s approval (the account page's list): the uses still pending, asked by
     * someone else, that `user` may approve and has not yet approved, oldest first; and whether
     * `user` approves for any rule at all (so the page keeps the place where such requests appear).
     */
    async waitingFor(tenant: Tenant, user: User) {
      const now = new Date();
      const holds = standingOf(storage, user);
      const pending = (await queries.accessRequests.list(storage, tenant.id, { kind: 'break-glass', status: 'pending' }))
        .filter((u) => u.userId !== user.id && u.pendingUntil && u.pendingUntil > now);
      const given = await queries.accessRequests.approvals(storage, pending.map((u) => u.id));
      const uses = [];
      // Oldest first: it lapses soonest.
      for (const use of pending.reverse()) {
        const approvals = given.filter((a) => a.requestId === use.id);
        if (approvals.some((a) => a.approverId === user.id) || !(await isApprover(use, user, holds))) continue;
        const { user: asker, userDisplayName, role, roleName, scope } = await describeGrant(storage, tenant, use);
        uses.push({ id: use.id, user: asker, userDisplayName, role, roleName, scope, reason: use.reason, minutes: use.minutes, askedAt: use.createdAt, pendingUntil: use.pendingUntil!, approvals: approvals.length, approvalsRequired: use.approvalsRequired });
      }
      const rules = (await queries.accessRequests.rules(storage, tenant.id)).filter((r) => r.approvalsRequired > 0);
      const approves = uses.length > 0 || rules.some((r) => r.approverUserIds.includes(user.id)) || (rules.length > 0 && (await holds(rules.map((r) => r.reviewerRoleId))));
      return { approves, uses };
    },

    /** One approval of a waiting use; the last one grants it. */
    async approveUse(tenantSlug: string, id: string, raw: z.input<typeof decisionInput>, actor: Actor) {
      const input = parseInput(decisionInput.pick({ note: true }), raw);
      const tenant = await requireTenant(storage, tenantSlug);
      const done = await storage.transaction(async (tx) => {
        const { use, approver } = await decidable(tx, tenant, id, actor, 'approve');
        const given = await queries.accessRequests.approvals(tx, [id]);
        const approval = given.length + 1;
        // The unique (request, approver) index refuses the same person twice, even in a race.
        if (given.some((a) => a.approverId === approver.id) || !(await queries.accessRequests.addApproval(tx, { requestId: id, level: approval, approverId: approver.id, note: input.note ?? null }))) {
          throw new ForbiddenError('you have already approved this use; a different person must give the next approval', { reason: 'same_approver' });
        }
        const approvers = [...given.map((a) => a.approverId), approver.id];
        await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.approve', target: { type: 'access_request', id },
          after: { approval, of: use.approvalsRequired, note: input.note ?? null }, details: { ...HIGH, userId: use.userId } }, tx);
        if (approval < use.approvalsRequired) return { use, approval, user: undefined, endsAt: undefined };
        const user = await tx.users.findOneByOrFail({ id: use.userId });
        const assignment = await activateUse(tx, audit, tenant, user, use, actor, { approvedBy: approvers });
        return { use, approval, user, endsAt: assignment.expiresAt! };
      }).catch(async (error) => {
        await refused(tenant, actor, id, error);
        throw error;
      });
      const facts = await describeGrant(storage, tenant, done.use);
      if (!done.user) return { id, status: 'pending' as const, approvals: done.approval, approvalsRequired: done.use.approvalsRequired };
      // Granted: the reviewers and the webhook hear of the use as of any other, the person that it stands.
      await alertBreakGlass(deps, storage, tenant, done.use, { ...facts, reason: done.use.reason, endsAt: done.endsAt }).catch((e: Error) => deps.onError(e, 'break-glass alert'));
      await tellRequester(deps, tenant, done.user, done.use, 'approved', { ...facts, endsAt: done.endsAt }).catch((e: Error) => deps.onError(e, 'requester notice'));
      return { id, status: 'granted' as const, role: facts.role, roleName: facts.roleName, scope: facts.scope, endsAt: done.endsAt };
    },

    /**
     * Refuses a waiting use (one approver is enough to stop it: separation of duties is about
     * granting, and an approver who knows the emergency is not real should not have to wait for the
     * lapse). Audited at high severity; the person is told.
     */
    async rejectUse(tenantSlug: string, id: string, raw: z.input<typeof decisionInput>, actor: Actor) {
      const input = parseInput(decisionInput.pick({ note: true }), raw);
      const tenant = await requireTenant(storage, tenantSlug);
      const done = await storage.transaction(async (tx) => {
        const { use, approver } = await decidable(tx, tenant, id, actor, 'refuse');
        await queries.accessRequests.decide(tx, id, { status: 'rejected', decidedBy: approver.id, note: input.note ?? null });
        await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.reject', target: { type: 'access_request', id }, after: { note: input.note ?? null }, details: { ...HIGH, userId: use.userId } }, tx);
        return { use, user: await tx.users.findOneByOrFail({ id: use.userId }) };
      }).catch(async (error) => {
        await refused(tenant, actor, id, error, 'break_glass.reject');
        throw error;
      });
      const facts = await describeGrant(storage, tenant, done.use);
      await tellRequester(deps, tenant, done.user, done.use, 'rejected', { ...facts, note: input.note }).catch((e: Error) => deps.onError(e, 'requester notice'));
      return { id, status: 'rejected' as const };
    },
  };
}
export type BreakGlassApprovals = ReturnType<typeof createBreakGlassApprovals>;
