// The tenant always keeps someone who can administer it: at least one active person (not a
// service account) holding every admin permission tenant-wide. Writers that could take the last
// one away — disabling or deleting a user, removing an assignment or a team membership, editing or
// deleting a role — call beginAdminCheck inside their transaction before the change, and the check
// it returns after it, before the transaction commits.
// The owner (src/accounts/ownership-service.ts) keeps tenant-wide admin while they own the tenant.
import { heldPermissions, missingPermissions, rolePermissions } from '../authz/index.ts';
import { ConflictError } from '../errors.ts';
import { In, type Repos, type Tenant } from '../storage/index.ts';
import { adminCatalogue } from './builtin-roles.ts';
import { canSignIn } from './can-sign-in.ts';
import { loadAuthzSnapshot } from './load-authz-snapshot.ts';
import { loadRoleDefinitions } from './role-definitions.ts';

const TENANT_WIDE = { scopeType: 'tenant', scopeId: null } as const;

/**
 * Call before a change that could take admin rights away; returns the check to call after it,
 * which throws 409 when the change left no active person holding the whole admin catalogue
 * tenant-wide (where there was one before: a tenant that never had one is not blocked), or took
 * it from the owner.
 */
export async function beginAdminCheck(tx: Repos, tenant: Tenant): Promise<(what: string) => Promise<void>> {
  const had = await hasActiveAdmin(tx, tenant);
  return async (what) => {
    await assertOwnerStaysAdmin(tx, tenant, what);
    if (had && !(await hasActiveAdmin(tx, tenant))) {
      throw new ConflictError(`${what} would leave the tenant without an active administrator; make someone else a tenant-wide admin first`, { reason: 'last_admin' });
    }
  };
}

/** True when an active person (not a service account) holds the whole admin catalogue tenant-wide. */
async function hasActiveAdmin(tx: Repos, tenant: Tenant): Promise<boolean> {
  const roles = await loadRoleDefinitions(tx, tenant.id);
  const adminRoles = [...roles.values()].filter((r) => !missingPermissions(rolePermissions(r.id, roles), adminCatalogue).length).map((r) => r.id);
  if (adminRoles.length) {
    const grants = await tx.assignments.findBy({ tenantId: tenant.id, scopeType: 'tenant', roleId: In(adminRoles) });
    const teamIds = grants.flatMap((a) => (a.teamId ? [a.teamId] : []));
    const members = teamIds.length ? await tx.teamMembers.findBy({ teamId: In(teamIds) }) : [];
    const candidates = [...new Set([...grants.flatMap((a) => (a.userId ? [a.userId] : [])), ...members.map((m) => m.userId)])];
    const now = new Date();
    for (const user of candidates.length ? await tx.users.findBy({ tenantId: tenant.id, id: In(candidates) }) : []) {
      if (user.kind !== 'human' || !canSignIn(user, now)) continue;
      if (!missingPermissions(heldPermissions(await loadAuthzSnapshot(tx, user), TENANT_WIDE, now), adminCatalogue).length) return true;
    }
  }
  return false;
}

/** Throws 409 when the owner, as `tx` now stands, no longer holds every admin permission tenant-wide. */
async function assertOwnerStaysAdmin(tx: Repos, tenant: Tenant, what: string): Promise<void> {
  const owner = await tx.users.findOneBy({ tenantId: tenant.id, ownership: 'owner' });
  if (!owner) return;
  if (missingPermissions(heldPermissions(await loadAuthzSnapshot(tx, owner), TENANT_WIDE), adminCatalogue).length) {
    throw new ConflictError(`${what} would take tenant-wide admin from the owner "${owner.username}"; transfer ownership first`, { reason: 'owner' });
  }
}

