// What break-glass uses and elevations share: the tenant's longest grant, the grant itself (an
// assignment of origin 'break-glass' or 'elevation' with an end), how a grant is named in alerts,
// and the activation of a break-glass use — at once, or when its last approval arrives.
import { randomUUID } from 'node:crypto';
import { isEffective, roleRequiresPhi } from '../authz/index.ts';
import type { AuditDetails, AuditWriter } from '../audit/index.ts';
import { PhiRequiredError } from '../errors.ts';
import { queries, type AccessRequest, type Assignment, type Repos, type Tenant, type User } from '../storage/index.ts';
import type { Actor } from './context.ts';
import { DEFAULT_MAX_MINUTES } from './emergency-access-rules.ts';
import { loadAuthzSnapshot } from './load-authz-snapshot.ts';
import { loadRoleDefinitions } from './role-definitions.ts';

export const HIGH = { severity: 'high' } as const;

/** The longest grant a tenant allows. */
export async function maxMinutes(db: Repos, tenantId: string): Promise<number> {
  return (await queries.accessRequests.settings(db, tenantId))?.maxMinutes ?? DEFAULT_MAX_MINUTES;
}

/**
 * Names a request's user, role and scope (alerts, lists): the role by its key, as webhooks and the
 * API give it, and by its name, as people read it.
 */
export async function describeGrant(db: Repos, tenant: Tenant, r: Pick<AccessRequest, 'userId' | 'roleId' | 'scopeType' | 'scopeId'>) {
  const [user, role] = await Promise.all([db.users.findOneBy({ id: r.userId }), db.roles.findOneBy({ id: r.roleId })]);
  const scope = r.scopeType === 'tenant' ? 'tenant-wide'
    : r.scopeType === 'location' ? `at location ${(await db.locations.findOneBy({ id: r.scopeId! }))?.key}`
    : r.scopeType === 'institution' ? `at institution ${(await db.institutions.findOneBy({ id: r.scopeId! }))?.key}`
    : `in application ${(await db.applications.findOneBy({ id: r.scopeId! }))?.clientId}`;
  return { user: user?.username ?? r.userId, userDisplayName: user?.displayName ?? null, role: role?.key ?? r.roleId, roleName: role?.name ?? r.roleId, scope, tenant };
}

/** Inserts the time-bound assignment a break-glass use or an approved elevation grants. */
export async function insertTemporaryGrant(tx: Repos, tenant: Tenant, user: User, r: Pick<AccessRequest, 'roleId' | 'scopeType' | 'scopeId'>, origin: 'break-glass' | 'elevation', minutes: number): Promise<Assignment> {
  if (!user.phiAccess && roleRequiresPhi(r.roleId, await loadRoleDefinitions(tx, tenant.id))) {
    throw new PhiRequiredError(`the role requires PHI access; user "${user.username}" does not have the PHI flag`);
  }
  const now = new Date();
  const assignment: Assignment = {
    id: randomUUID(), tenantId: tenant.id, userId: user.id, teamId: null, roleId: r.roleId, scopeType: r.scopeType, scopeId: r.scopeId,
    startsAt: now, expiresAt: new Date(now.getTime() + minutes * 60_000), origin, createdAt: now,
  };
  await tx.assignments.insert(assignment);
  return assignment;
}

/** True when `user` holds `roleId` in effect now, not through a temporary grant (reviewers, eligible users, approvers). */
export async function holdsStandingRole(tx: Repos, user: User, roleIds: readonly string[]): Promise<boolean> {
  const snapshot = await loadAuthzSnapshot(tx, user);
  const now = new Date();
  return snapshot.assignments.some((a) => roleIds.includes(a.roleId) && isEffective(a, snapshot, now) && !['break-glass', 'elevation'].includes((a as Assignment).origin));
}

/**
 * Grants a break-glass use: the assignment from now for the use's minutes, the request marked
 * granted and alerted, and the high-severity `break_glass.use` event. The caller alerts after commit.
 */
export async function activateUse(tx: Repos, audit: AuditWriter, tenant: Tenant, user: User, use: AccessRequest, actor: Actor, details: AuditDetails): Promise<Assignment> {
  const assignment = await insertTemporaryGrant(tx, tenant, user, use, 'break-glass', use.minutes);
  await queries.accessRequests.decide(tx, use.id, { status: 'granted', decidedBy: null, note: null, assignmentId: assignment.id, grantEndsAt: assignment.expiresAt! });
  await queries.accessRequests.markAlerted(tx, [use.id]);
  const facts = await describeGrant(tx, tenant, use);
  await audit.record({ tenantId: tenant.id, actor, action: 'break_glass.use', target: { type: 'assignment', id: assignment.id },
    after: assignment, details: { ...HIGH, role: facts.role, scope: facts.scope, reason: use.reason, minutes: use.minutes, endsAt: assignment.expiresAt, useId: use.id, userId: user.id, ...details } }, tx);
  return assignment;
}
