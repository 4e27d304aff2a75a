// Multi-level approval of elevation requests (issue 18), where a tenant configures it: ordered
// levels, each the holders of a role at the request's scope or the requester's manager. A request
// is granted when every level has approved, in order; one person approves at most one level of a
// request and never their own; every approver also holds caregate.access:approve at the request's
// scope, as a single approval needs. The chain is copied onto the request when it is made, so a
// later change to the tenant's levels does not move the goalposts of requests already waiting.
import { isEffective, scopeContains, type AuthzSnapshot } from '../authz/index.ts';
import { ConflictError, ForbiddenError } from '../errors.ts';
import { In, queries, type AccessApproval, type AccessRequest, type ApprovalLevel, type Assignment, type Repos, type Tenant, type User } from '../storage/index.ts';
import { canSignIn } from './can-sign-in.ts';
import { requireByKey } from './context.ts';
import { loadAuthzSnapshot } from './load-authz-snapshot.ts';

/** The tenant's levels as stored (role ids), from what an administrator sends (role keys). */
export async function resolveLevels(tx: Repos, tenantId: string, levels: ReadonlyArray<{ role: string } | { manager: true }>): Promise<ApprovalLevel[]> {
  const out: ApprovalLevel[] = [];
  for (const l of levels) out.push('role' in l ? { roleId: (await requireByKey(tx.roles, tenantId, l.role, 'role')).id } : { manager: true });
  if (out.filter((l) => 'manager' in l).length > 1) throw new ConflictError('approvalLevels: the manager can be one level only');
  return out;
}

/** True when `snapshot` holds `roleId` in effect at a scope containing the request's (not through a temporary grant). */
function holdsRoleAt(snapshot: AuthzSnapshot, roleId: string, request: AccessRequest): boolean {
  const now = new Date();
  return snapshot.assignments.some((a) => a.roleId === roleId && isEffective(a, snapshot, now) && scopeContains(a, request, snapshot.locations)
    && !['break-glass', 'elevation'].includes((a as Assignment).origin));
}

/**
 * The level `approver` may decide now — the first one not yet approved — or a refusal: a level
 * asked for out of turn, a person who approved an earlier level, someone the level does not name.
 */
export async function levelToDecide(tx: Repos, request: AccessRequest, approver: User, snapshot: AuthzSnapshot | undefined, given: AccessApproval[], asked?: number): Promise<number> {
  const level = given.length + 1;
  if (asked !== undefined && asked !== level) {
    throw new ConflictError(asked > level ? `level ${level} must approve first` : `level ${asked} has already approved`, { reason: 'out_of_order', level });
  }
  if (given.some((a) => a.approverId === approver.id)) {
    throw new ForbiddenError('you approved an earlier level of this request; another person must approve this one', { reason: 'same_approver', level });
  }
  const wanted = request.approvalLevels[level - 1]!;
  const requester = await tx.users.findOneBy({ id: request.userId });
  const named = 'manager' in wanted ? requester?.managerId === approver.id : Boolean(snapshot && holdsRoleAt(snapshot, wanted.roleId, request));
  if (!named) {
    throw new ForbiddenError(`level ${level} of this request is approved by ${'manager' in wanted ? "the requester's manager" : 'holders of its role at the request\'s scope'}`, { reason: 'not_level_approver', level });
  }
  return level;
}

/** Who to tell that `level` awaits them: its role's holders or the manager, never the requester or an earlier approver. */
export async function levelApprovers(db: Repos, tenant: Tenant, request: AccessRequest, level: number, given: AccessApproval[]): Promise<Array<{ id: string; email: string }>> {
  const wanted = request.approvalLevels[level - 1];
  if (!wanted) return [];
  const skip = new Set([request.userId, ...given.map((a) => a.approverId)]);
  if ('roleId' in wanted) {
    // Those who could approve it: holders of the role at (or above) the request's scope, as levelToDecide checks.
    const holders = (await queries.accessRequests.holdersWithEmail(db, tenant.id, [wanted.roleId])).filter((u) => !skip.has(u.id));
    const able = new Set<string>();
    for (const u of holders.length ? await db.users.findBy({ tenantId: tenant.id, id: In(holders.map((h) => h.id)) }) : []) {
      if (holdsRoleAt(await loadAuthzSnapshot(db, u), wanted.roleId, request)) able.add(u.id);
    }
    return holders.filter((h) => able.has(h.id));
  }
  const requester = await db.users.findOneBy({ id: request.userId });
  const manager = requester?.managerId ? await db.users.findOneBy({ id: requester.managerId, tenantId: tenant.id }) : null;
  return manager?.email && canSignIn(manager) && !skip.has(manager.id) ? [{ id: manager.id, email: manager.email }] : [];
}
