// Emergency access (break-glass), with separation of duties (issue 18). A tenant's rules name the
// role taken in an emergency, where, by whom, for how long and who reviews it. An eligible user who
// has just signed in again (password, and the second factor when they have one) gives a reason and
// gets an assignment of origin 'break-glass' that ends by itself. Every use is a high-severity audit
// event, an email to the reviewers and a signed webhook; a reviewer other than the user records
// whether it was justified; unreviewed uses are listed and re-alerted daily. A rule may also want
// one or two other people to approve a use before it takes effect (owner emergency access with
// two-person approval): the use then waits, its approvers are alerted at once, and the grant starts
// with the last approval (break-glass-approvals.ts) or the use lapses.
import { randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError, SelfChangeError, UnauthorizedError } from '../errors.ts';
import { In, queries, type AccessRequest, type ApprovalLevel, type Repos, type Tenant, type User } from '../storage/index.ts';
import { alertBreakGlass, alertBreakGlassApprovers, webhookSecretContext, type AlertDeps } from './access-alerts.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { BREAK_GLASS_PENDING_MINUTES, breakGlassRuleInput, DEFAULT_MAX_MINUTES, emergencySettingsInput, invokeInput, publicRequest, requestFilter, reviewInput } from './emergency-access-rules.ts';
import { findUser } from './find-user.ts';
import { resolveLevels } from './approval-chain.ts';
import { assertMayGrant } from './grant-guard.ts';
import { parseInput } from './parse-input.ts';
import { resolveScope } from './assignment-service.ts';
import type { AuditDetails } from '../audit/index.ts';
import { activateUse, describeGrant, HIGH, holdsStandingRole, maxMinutes } from './temporary-grant.ts';
import { subjectOf } from './admin-authority.ts';
import type { z } from 'zod';

/** A break-glass use needs a sign-in at most this old (the account page's step-up). */
export const REAUTH_SECONDS = 300;

export type EmergencyAccessDeps = AccountsContext & AlertDeps;

/** How the user proved themselves just now: when they signed in and with which methods (amr). */
export interface Reauthentication {
  at: Date;
  amr: readonly string[];
}


/** The tenant's approval levels as administrators write them: role keys, or the manager. */
async function levelsByKey(db: Repos, tenantId: string, levels: ApprovalLevel[]) {
  const roles = new Map((await db.roles.findBy({ tenantId })).map((r) => [r.id, r.key]));
  return levels.map((l) => ('roleId' in l ? { role: roles.get(l.roleId) ?? l.roleId } : { manager: true as const }));
}

export function createEmergencyAccess(deps: EmergencyAccessDeps) {
  const { storage, audit, box } = deps;

  /** True when the user may invoke the rule: named, or holding an eligible role now (not through a temporary grant). */
  async function eligible(tx: Repos, rule: { eligibleUserIds: string[]; eligibleRoleIds: string[] }, user: User): Promise<boolean> {
    return rule.eligibleUserIds.includes(user.id) || holdsStandingRole(tx, user, rule.eligibleRoleIds);
  }

  async function refuse(tenant: Tenant, actor: Actor, user: User, reason: string, details: AuditDetails = {}) {
    await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.use', outcome: 'failure', target: { type: 'user', id: user.id }, details: { ...HIGH, reason, ...details } });
  }

  return {
    async getSettings(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const s = await queries.accessRequests.settings(storage, tenant.id);
      return { maxMinutes: s?.maxMinutes ?? DEFAULT_MAX_MINUTES, webhookUrl: s?.webhookUrl ?? null, webhookSecretSet: Boolean(s?.webhookSecretSealed), approvalLevels: await levelsByKey(storage, tenant.id, s?.approvalLevels ?? []) };
    },

    async setSettings(tenantSlug: string, raw: z.input<typeof emergencySettingsInput>, actor: Actor) {
      const input = parseInput(emergencySettingsInput, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const before = await queries.accessRequests.settings(tx, tenant.id);
        const sealed = input.webhookSecret ? box.seal(input.webhookSecret, webhookSecretContext(tenant.id)) : (before?.webhookSecretSealed ?? null);
        if (input.webhookUrl && !sealed) throw new ConflictError('webhookSecret: a webhook needs a secret to sign with');
        const approvalLevels = await resolveLevels(tx, tenant.id, input.approvalLevels);
        await queries.accessRequests.saveSettings(tx, { tenantId: tenant.id, maxMinutes: input.maxMinutes, webhookUrl: input.webhookUrl, webhookSecretSealed: sealed, approvalLevels });
        const after = { maxMinutes: input.maxMinutes, webhookUrl: input.webhookUrl, webhookSecretSet: Boolean(sealed), approvalLevels: input.approvalLevels };
        await audit.record({ tenantId: tenant.id, actor, action: 'emergency.settings.update', target: { type: 'tenant', id: tenant.id },
          before: before ? { maxMinutes: before.maxMinutes, webhookUrl: before.webhookUrl, approvalLevels: await levelsByKey(tx, tenant.id, before.approvalLevels) } : null, after, details: { secretChanged: Boolean(input.webhookSecret) } }, tx);
        return after;
      });
    },

    async listRules(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const rules = await queries.accessRequests.rules(storage, tenant.id);
      // Keys for the API, names for people: whoever may read the rules may lack the role catalogue.
      const roles = new Map((await storage.roles.findBy({ tenantId: tenant.id })).map((r) => [r.id, r]));
      return rules.map((r) => ({
        ...r,
        role: roles.get(r.roleId)?.key, roleName: roles.get(r.roleId)?.name,
        reviewerRole: roles.get(r.reviewerRoleId)?.key, reviewerRoleName: roles.get(r.reviewerRoleId)?.name,
        eligibleRoles: r.eligibleRoleIds.map((id) => roles.get(id)?.key), eligibleRoleNames: r.eligibleRoleIds.map((id) => roles.get(id)?.name),
      }));
    },

    /** A rule lets its users take a role: making one needs the right to grant that role there. */
    async createRule(tenantSlug: string, raw: z.input<typeof breakGlassRuleInput>, actor: Actor) {
      const input = parseInput(breakGlassRuleInput, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const role = await requireByKey(tx.roles, tenant.id, input.role, 'role');
        const reviewer = await requireByKey(tx.roles, tenant.id, input.reviewerRole, 'role');
        const eligibleRoles = await Promise.all(input.eligibleRoles.map((k) => requireByKey(tx.roles, tenant.id, k, 'role')));
        const eligibleUsers = await Promise.all(input.eligibleUsers.map((ref) => findUser(tx, tenant.id, ref)));
        const approvers = await Promise.all(input.approvers.map((ref) => findUser(tx, tenant.id, ref)));
        const scope = await resolveScope(tx, tenant, input.scope);
        const max = await maxMinutes(tx, tenant.id);
        if (input.minutes > max) throw new ConflictError(`minutes: at most the tenant's maximum of ${max}`);
        if (await queries.accessRequests.rule(tx, tenant.id, input.key)) throw new ConflictError(`break-glass rule "${input.key}" already exists`);
        await assertMayGrant(tx, tenant, actor, [{ roleId: role.id, ...scope }], [], 'let others take');
        const rule = { id: randomUUID(), tenantId: tenant.id, key: input.key, roleId: role.id, ...scope, eligibleRoleIds: eligibleRoles.map((r) => r.id), eligibleUserIds: eligibleUsers.map((u) => u.id), minutes: input.minutes, reviewerRoleId: reviewer.id,
          approvalsRequired: input.approvalsRequired, approverUserIds: approvers.map((u) => u.id) };
        await queries.accessRequests.insertRule(tx, rule);
        await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.rule.create', target: { type: 'break_glass_rule', id: rule.id }, after: { ...rule, role: role.key, reviewerRole: reviewer.key } }, tx);
        return { ...rule, role: role.key, reviewerRole: reviewer.key };
      });
    },

    async removeRule(tenantSlug: string, key: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const rule = await queries.accessRequests.rule(tx, tenant.id, key);
        if (!rule) throw new NotFoundError(`break-glass rule "${key}" does not exist`);
        await assertMayGrant(tx, tenant, actor, [rule], [], 'remove a rule that lets others take');
        await queries.accessRequests.deleteRule(tx, tenant.id, rule.id);
        await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.rule.delete', target: { type: 'break_glass_rule', id: rule.id }, before: rule }, tx);
      });
    },

    /** The rules this user may invoke now (the account page's choices). */
    async rulesFor(tenant: Tenant, user: User) {
      const rules = await queries.accessRequests.rules(storage, tenant.id);
      const mine = [];
      for (const r of rules) if (await eligible(storage, r, user)) mine.push({ key: r.key, ...(await describeGrant(storage, tenant, { ...r, userId: user.id })), minutes: Math.min(r.minutes, await maxMinutes(storage, tenant.id)) });
      return mine;
    },

    /**
     * Breaks the glass: refused (and audited) unless the user is eligible, gave a reason and signed
     * in again within REAUTH_SECONDS with their second factor when they have one.
     */
    async invoke(tenant: Tenant, user: User, raw: z.input<typeof invokeInput>, reauth: Reauthentication, actor: Actor) {
      const input = parseInput(invokeInput, raw);
      if (Date.now() - reauth.at.getTime() > REAUTH_SECONDS * 1000) {
        await refuse(tenant, actor, user, 'reauthentication_required', { rule: input.rule });
        throw new UnauthorizedError('sign in again (password and second step) to use emergency access', { reason: 'reauthentication_required' });
      }
      if ((await queries.mfaFactors.confirmed(storage, user.id)).length && !reauth.amr.includes('mfa')) {
        await refuse(tenant, actor, user, 'second_factor_required', { rule: input.rule });
        throw new UnauthorizedError('sign in again with your second step to use emergency access', { reason: 'second_factor_required' });
      }
      const granted = await storage.transaction(async (tx) => {
        const rule = await queries.accessRequests.rule(tx, tenant.id, input.rule);
        if (!rule || !(await eligible(tx, rule, user))) return undefined;
        const minutes = Math.min(input.minutes ?? rule.minutes, rule.minutes, await maxMinutes(tx, tenant.id));
        const waits = rule.approvalsRequired > 0;
        const use: AccessRequest = {
          id: randomUUID(), tenantId: tenant.id, kind: 'break-glass', userId: user.id, roleId: rule.roleId, scopeType: rule.scopeType, scopeId: rule.scopeId,
          ruleId: rule.id, reviewerRoleId: rule.reviewerRoleId, reason: input.reason, minutes, oneTime: false, status: waits ? 'pending' : 'granted', decidedBy: null, decidedAt: null,
          decisionNote: null, assignmentId: null, grantEndsAt: null, consumedAt: null, reviewOutcome: null, reviewedBy: null, reviewedAt: null,
          reviewNote: null, alertedAt: null, pendingUntil: waits ? new Date(Date.now() + BREAK_GLASS_PENDING_MINUTES * 60_000) : null, createdAt: new Date(),
          approvalLevels: [], approvalsRequired: rule.approvalsRequired, approverUserIds: rule.approverUserIds,
        };
        await queries.accessRequests.insertRequest(tx, use);
        const facts = await describeGrant(tx, tenant, use);
        if (waits) {
          // Two-person rule: nothing is granted until the approvals arrive.
          await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.request', target: { type: 'access_request', id: use.id },
            details: { ...HIGH, rule: rule.key, role: facts.role, scope: facts.scope, reason: input.reason, minutes, approvalsRequired: rule.approvalsRequired, pendingUntil: use.pendingUntil, amr: reauth.amr } }, tx);
          return { use, facts, endsAt: undefined };
        }
        const assignment = await activateUse(tx, audit, tenant, user, use, actor, { rule: rule.key, amr: reauth.amr });
        return { use, facts, endsAt: assignment.expiresAt! };
      });
      if (!granted) {
        await refuse(tenant, actor, user, 'not_eligible', { rule: input.rule });
        throw new ForbiddenError(`you may not use emergency access "${input.rule}"`, { reason: 'not_eligible' });
      }
      // After the commit: the grant (or the request) stands whatever happens to the alerts.
      const { use, facts } = granted;
      if (!granted.endsAt) {
        await alertBreakGlassApprovers(deps, storage, tenant, use, { ...facts, reason: input.reason }).catch((e: Error) => deps.onError(e, 'break-glass approver alert'));
        return { id: use.id, status: 'pending' as const, role: facts.role, roleName: facts.roleName, scope: facts.scope, approvalsRequired: use.approvalsRequired, pendingUntil: use.pendingUntil! };
      }
      await alertBreakGlass(deps, storage, tenant, use, { ...facts, reason: input.reason, endsAt: granted.endsAt }).catch((e: Error) => deps.onError(e, 'break-glass alert'));
      return { id: use.id, status: 'granted' as const, role: facts.role, roleName: facts.roleName, scope: facts.scope, endsAt: granted.endsAt };
    },

    async listUses(tenantSlug: string, filter: Pick<z.output<typeof requestFilter>, 'unreviewed'> = {}) {
      const tenant = await requireTenant(storage, tenantSlug);
      const uses = await queries.accessRequests.list(storage, tenant.id, { kind: 'break-glass', unreviewed: filter.unreviewed });
      const [users, roles] = await Promise.all([
        storage.users.findBy({ id: In([...new Set(uses.map((u) => u.userId))]) }),
        storage.roles.findBy({ tenantId: tenant.id }),
      ]);
      const given = await queries.accessRequests.approvals(storage, uses.filter((u) => u.approvalsRequired).map((u) => u.id));
      const approvers = given.length ? await storage.users.findBy({ id: In([...new Set(given.map((a) => a.approverId))]) }) : [];
      const userName = new Map([...users, ...approvers].map((u) => [u.id, u.username]));
      const role = new Map(roles.map((r) => [r.id, r]));
      return uses.map((u) => publicRequest(u, { user: userName.get(u.userId), role: role.get(u.roleId)?.key, roleName: role.get(u.roleId)?.name, userName: (id) => userName.get(id) }, given.filter((a) => a.requestId === u.id)));
    },

    /** A reviewer — holding the rule's reviewer role now, and not the user who broke the glass — records the verdict. */
    async review(tenantSlug: string, id: string, raw: z.input<typeof reviewInput>, actor: Actor) {
      const input = parseInput(reviewInput, raw);
      const tenant = await requireTenant(storage, tenantSlug);
      return storage.transaction(async (tx) => {
        const use = await queries.accessRequests.findForUpdate(tx, tenant.id, id);
        if (!use || use.kind !== 'break-glass') throw new NotFoundError('emergency access use does not exist');
        const reviewer = await subjectOf(tx, tenant, actor);
        if (!reviewer) throw new ForbiddenError('a review is recorded by a person', { reason: 'not_a_person' });
        if (reviewer.id === use.userId) {
          throw new SelfChangeError('you cannot review your own use of emergency access; another reviewer must', { reason: 'self_review' });
        }
        if (!use.reviewerRoleId || !(await holdsStandingRole(tx, reviewer, [use.reviewerRoleId]))) {
          throw new ForbiddenError('only holders of the reviewer role named by the rule may review this use', { reason: 'not_reviewer' });
        }
        if (use.reviewOutcome) throw new ConflictError('this use has already been reviewed');
        if (use.status !== 'granted') throw new ConflictError(`this use was never granted (${use.status}); there is nothing to review`);
        await queries.accessRequests.review(tx, id, { outcome: input.outcome, reviewedBy: reviewer.id, note: input.note });
        await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.review', target: { type: 'access_request', id },
          after: { outcome: input.outcome, note: input.note }, details: { severity: input.outcome === 'not_justified' ? 'high' : 'info', userId: use.userId } }, tx);
        return { id, outcome: input.outcome, note: input.note, reviewedBy: reviewer.username };
      }).catch(async (error: { status?: number; details?: { reason?: string } }) => {
        // A refused review is recorded once the transaction has rolled back.
        if (error.status === 403) await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.review', outcome: 'failure', target: { type: 'access_request', id }, details: { ...HIGH, reason: error.details?.reason } });
        throw error;
      });
    },

    /**
     * Re-alerts the reviewers of every unreviewed use last alerted before `before` (the daily job
     * passes a day ago; a test passes now). Returns the ids of the uses alerted again.
     */
    async remindUnreviewed(before: Date): Promise<string[]> {
      const done: string[] = [];
      for (const use of await queries.accessRequests.dueForReminder(storage, before)) {
        const tenant = await storage.tenants.findOneBy({ id: use.tenantId });
        if (!tenant) continue;
        const facts = await describeGrant(storage, tenant, use);
        await alertBreakGlass(deps, storage, tenant, use, { ...facts, reason: use.reason, endsAt: use.grantEndsAt ?? use.createdAt }, true);
        await queries.accessRequests.markAlerted(storage, [use.id]);
        await audit.record({ tenantId: tenant.id, actor: { type: 'system', id: 'break-glass' }, action: 'break_glass.remind', target: { type: 'access_request', id: use.id }, details: { ...HIGH, unreviewedSince: use.createdAt } });
        done.push(use.id);
      }
      return done;
    },
  };
}
export type EmergencyAccess = ReturnType<typeof createEmergencyAccess>;
