// Who may change whose access: the one home of the no-escalation rule (DESIGN.md, Administration).
// Every writer — admin API, CLI, federation and directory mapping rules, and whatever comes next —
// calls these before it writes:
//   - a role is granted (or taken away) only by someone holding all its permissions at that scope,
//     and within limits no wider than their own (a constraint such as maxAmount);
//   - joining or leaving a team counts as being granted or losing the team's roles;
//   - nobody changes their own assignments, memberships, status, flags or factors here;
//   - an account is managed only by someone holding every admin permission it holds (a help desk
//     may reset a nurse's password, not the owner's).
// An operator at the server's terminal (actor `cli`) and Caregate itself (`system`) are trusted.
import { allPermissions, heldPermissions, intersectPermissions, isAdminPermission, missingPermissions, roleConstraints, rolePermissions, widerLimits, type ScopeRef, type WiderLimit } from '../authz/index.ts';
import { EscalationError, SelfChangeError } from '../errors.ts';
import type { Repos, Tenant, User } from '../storage/index.ts';
import type { Actor } from './context.ts';
import { loadAuthzSnapshot } from './load-authz-snapshot.ts';
import { loadRoleDefinitions } from './role-definitions.ts';
import { loadActorSnapshot, loadAuthority, subjectOf, type AdminTarget } from './admin-authority.ts';

/**
 * A role at a scope: an assignment's shape, so assignments themselves can be checked. With
 * `permissions`, only those of the role's permissions are given (an API key's share of an assignment).
 */
export type Grant = { roleId: string; permissions?: readonly string[] | null } & ScopeRef;

const describeScope = (scope: ScopeRef) => (scope.scopeType === 'tenant' ? 'tenant-wide' : `at that ${scope.scopeType}`);

/**
 * Refuses unless the actor holds every permission of each role at its scope (or above), and none of
 * `affected` (the users whose access changes) is the actor. `verb` words the refusal.
 */
export async function assertMayGrant(repos: Repos, tenant: Tenant, actor: Actor, grants: Grant[], affected: string[] = [], verb = 'grant'): Promise<void> {
  const subject = await subjectOf(repos, tenant, actor);
  if (subject === undefined) return;
  if (subject && affected.includes(subject.id)) {
    throw new SelfChangeError('you cannot change your own roles or team memberships; ask another administrator', { reason: 'self_change' });
  }
  if (!grants.length) return;
  const roles = await loadRoleDefinitions(repos, tenant.id);
  const snapshot = subject ? await loadActorSnapshot(repos, tenant, actor, subject) : undefined;
  for (const grant of grants) {
    const role = roles.get(grant.roleId);
    if (!role) continue;
    const held = snapshot ? heldPermissions(snapshot, grant) : new Set<string>();
    const full = rolePermissions(role.id, roles);
    const missing = missingPermissions(held, grant.permissions ? intersectPermissions(full, grant.permissions) : full);
    if (missing.length) {
      throw new EscalationError(
        `you cannot ${verb} role "${role.key}" ${describeScope(grant)}: it carries permissions you do not hold there (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`,
        { reason: 'escalation', role: role.key, scope: { type: grant.scopeType, id: grant.scopeId }, missing },
      );
    }
    const given = grant.permissions ? intersectPermissions(full, grant.permissions) : full;
    const wider = snapshot ? widerLimits(snapshot, grant, { permissions: new Set(given), constraints: roleConstraints(role.id, roles) }) : [];
    if (wider.length) throw widerLimitsError(`${verb} role "${role.key}" ${describeScope(grant)}`, wider, { role: role.key, scope: { type: grant.scopeType, id: grant.scopeId } });
  }
}

/** The refusal of a grant or role edit that would loosen limits the actor holds within. */
export function widerLimitsError(what: string, wider: WiderLimit[], details: Record<string, unknown> = {}): EscalationError {
  const shown = wider.slice(0, 5).map((w) => `${w.permission}: you hold it up to ${JSON.stringify(w.held)}, this gives ${w.granted ? JSON.stringify(w.granted) : 'no limit'}`);
  return new EscalationError(`you cannot ${what}: it carries permissions with wider limits than you hold (${shown.join('; ')}${wider.length > 5 ? '; …' : ''})`, {
    reason: 'escalation', ...details, widerLimits: wider.map((w) => w.permission),
  });
}

/** Joining or leaving a team: the same as being granted or losing each of the team's roles. */
export async function assertMayChangeMembership(repos: Repos, tenant: Tenant, actor: Actor, teamId: string, userId: string, verb: 'add to' | 'remove from'): Promise<void> {
  const grants = await repos.assignments.findBy({ tenantId: tenant.id, teamId });
  await assertMayGrant(repos, tenant, actor, grants, [userId], `${verb} a team that has`);
}

/**
 * Refuses an admin change to `target`'s account (profile, status, password, factors, sessions):
 * by the target themselves, by someone who does not hold `permission` where the target is, or by
 * someone lacking there any admin permission the target holds.
 */
export async function assertMayManageUser(repos: Repos, tenant: Tenant, actor: Actor, target: User, permission = 'caregate.users:edit'): Promise<void> {
  const authority = await loadAuthority(repos, tenant, actor);
  if (authority.subject === undefined) return;
  if (authority.subject?.id === target.id) {
    throw new SelfChangeError('you cannot change your own account through the admin API; use your account page, or ask another administrator', { reason: 'self_change' });
  }
  const where: AdminTarget = { kind: 'user', user: target };
  await authority.require(permission, where);
  const theirs = [...allPermissions(await loadAuthzSnapshot(repos, target))].filter(isAdminPermission);
  if (!theirs.length) return;
  const held = new Set<string>();
  for (const scope of await authority.scopesFor(permission, where)) heldPermissions(authority.snapshot!, scope).forEach((p) => held.add(p));
  const missing = missingPermissions(held, theirs);
  if (missing.length) {
    throw new EscalationError(`you cannot manage "${target.username}": they hold admin permissions you do not (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`, {
      reason: 'escalation', user: target.username, missing,
    });
  }
}
