// An application's service account: the user whose role assignments give its client-credentials
// tokens their permissions. It comes with the client_credentials grant and goes with it; its
// tenant-wide roles are the application's service roles, granted and taken away under the
// no-escalation rule like any other role.
import { randomUUID } from 'node:crypto';
import type { Application, Assignment, Repos, Tenant, User } from '../storage/index.ts';
import type { AccountsContext, Actor } from './context.ts';
import { addAssignment } from './assignment-service.ts';
import { assertMayGrant } from './grant-guard.ts';
import { loadAuthority } from './admin-authority.ts';
import { loadRoleDefinitions } from './role-definitions.ts';

/** Creates the service account of an application that gains the client_credentials grant; its id. */
export async function addServiceAccount(tx: Repos, tenantId: string, app: Pick<Application, 'clientId' | 'name'>): Promise<string> {
  const service: Partial<User> = {
    id: randomUUID(), tenantId, username: `svc-${app.clientId}`, status: 'active', kind: 'service',
    phiAccess: false, outsideVendor: false, source: 'local', displayName: `${app.name} (service account)`,
  };
  await tx.users.insert(service);
  return service.id!;
}

/** Every assignment of the service account, at any scope. */
export function serviceAssignments(tx: Repos, tenantId: string, serviceUserId: string | null): Promise<Assignment[]> {
  return serviceUserId ? tx.assignments.findBy({ tenantId, userId: serviceUserId }) : Promise.resolve([]);
}

/** The keys of the roles the service account holds tenant-wide: the application's service roles. */
export async function serviceRoleKeys(tx: Repos, tenantId: string, serviceUserId: string | null): Promise<string[]> {
  const roles = await loadRoleDefinitions(tx, tenantId);
  const held = (await serviceAssignments(tx, tenantId, serviceUserId)).filter((a) => a.scopeType === 'tenant');
  return [...new Set(held.map((a) => roles.get(a.roleId)?.key).filter((k): k is string => !!k))].sort();
}

/**
 * Refuses unless the actor may take each assignment away (`permission` where it is, and every
 * permission it carries there), then ends it, audited.
 */
export async function endAssignments(ctx: AccountsContext, tx: Repos, tenant: Tenant, ended: Assignment[], actor: Actor, permission: string, reason: string) {
  const authority = await loadAuthority(tx, tenant, actor);
  for (const a of ended) await authority.require(permission, { kind: 'scope', scope: a });
  await assertMayGrant(tx, tenant, actor, ended, [], 'remove');
  for (const a of ended) {
    await tx.assignments.delete({ id: a.id });
    await ctx.audit.record({ tenantId: tenant.id, actor, action: 'assignment.delete', target: { type: 'assignment', id: a.id }, before: a, details: { reason } }, tx);
  }
}

/**
 * Makes the service account's tenant-wide roles exactly `roles`: grants the missing ones, takes the
 * others away, each checked (`permission` tenant-wide, and no escalation) and audited. Its roles at
 * a location, institution or application are left as they are.
 */
export async function setServiceRoles(ctx: AccountsContext, tx: Repos, tenant: Tenant, serviceUserId: string, roles: string[], actor: Actor, permission: string) {
  const defs = await loadRoleDefinitions(tx, tenant.id);
  const held = (await serviceAssignments(tx, tenant.id, serviceUserId)).filter((a) => a.scopeType === 'tenant');
  const keyOf = (a: Assignment) => defs.get(a.roleId)?.key;
  await endAssignments(ctx, tx, tenant, held.filter((a) => !roles.includes(keyOf(a) ?? '')), actor, permission, 'service_roles');
  for (const role of roles.filter((r) => !held.some((a) => keyOf(a) === r))) {
    await addAssignment(ctx, tx, tenant, { userId: serviceUserId }, { role }, actor, 'manual', permission);
  }
}

/** Deletes a service account and its assignments, each of which the actor must be able to take away. */
export async function removeServiceAccount(ctx: AccountsContext, tx: Repos, tenant: Tenant, serviceUserId: string, actor: Actor, permission: string) {
  await endAssignments(ctx, tx, tenant, await serviceAssignments(tx, tenant.id, serviceUserId), actor, permission, 'service_account_removed');
  await tx.users.delete({ id: serviceUserId });
}

/**
 * Whoever holds an application's secret acts as its service account: revealing a new secret, or
 * opening the admin API to it, needs every role that account holds, where it holds it.
 */
export async function assertMayActAsService(tx: Repos, tenant: Tenant, actor: Actor, serviceUserId: string | null, verb: string) {
  await assertMayGrant(tx, tenant, actor, await serviceAssignments(tx, tenant.id, serviceUserId), [], verb);
}
