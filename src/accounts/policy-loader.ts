// Reading a tenant's effective policy on hot paths (sign-in, session saves), and the session limits
// it sets for one user.
import type { Storage } from '../storage/index.ts';
import type { ClaimsCache } from './claims-cache.ts';
import { loadAuthzSnapshot } from './load-authz-snapshot.ts';
import { activeRoleKeys } from './mfa-requirement.ts';
import type { SessionLimitsFor } from './session-index.ts';
import { resolvePolicy, sessionLimitsFor, type TenantPolicy } from './tenant-policy.ts';

interface PolicyDeps {
  storage: Storage;
  claimsCache: ClaimsCache;
}

/** The tenant's effective policy, cached with the tenant's directory (emptied on every change). */
export function loadTenantPolicy({ claimsCache, storage }: PolicyDeps, tenantId: string): Promise<TenantPolicy> {
  return claimsCache.get(tenantId, 'policy', async () => resolvePolicy((await storage.tenants.findOneBy({ id: tenantId }))?.policy));
}

/** Limits for a user's new session: the tenant's, shortened by the roles the user holds now. */
export function createSessionLimits(deps: PolicyDeps): SessionLimitsFor {
  return async (tenantId, accountId) => {
    const policy = await loadTenantPolicy(deps, tenantId);
    if (!Object.keys(policy.sessions.roles).length) return sessionLimitsFor(policy, []);
    const user = await deps.storage.users.findOneBy({ tenantId, id: accountId });
    return sessionLimitsFor(policy, user ? activeRoleKeys(await loadAuthzSnapshot(deps.storage, user)) : []);
  };
}
