// An extra check on oidc-provider's login prompt: a session signed in with one factor must step up
// to a second when the application asks for it (acr_values) or the tenant's policy now requires
// one for this user, or it is the admin console and the policy says the console needs one — even
// if the session itself is still valid.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { loadAuthzSnapshot, policyRequiresMfa, requestDemandsMfa, resolvePolicy, type ClaimsCache } from '../accounts/index.ts';
import type { Storage, Tenant } from '../storage/index.ts';
import { ACR } from './scopes.ts';

export function createInteractionPolicy(storage: Storage, claimsCache: ClaimsCache, tenant: Tenant) {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('mfa_required', 'a second factor is required', async (ctx: KoaContextWithOIDC) => {
      const { session, params, result } = ctx.oidc;
      if (!session?.accountId || result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      if ((session as unknown as { acr?: string }).acr === ACR.mfa) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const tenantPolicy = await claimsCache.get(tenant.id, 'policy', async () => resolvePolicy((await storage.tenants.findOneBy({ id: tenant.id }))?.policy));
      if (requestDemandsMfa(params ?? {}, tenantPolicy, ACR.mfa)) return interactionPolicy.Check.REQUEST_PROMPT;
      if (tenantPolicy.mfa.mode !== 'required' && tenantPolicy.mfa.mode !== 'roles') return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const user = await storage.users.findOneBy({ tenantId: tenant.id, id: session.accountId });
      if (!user) return interactionPolicy.Check.NO_NEED_TO_PROMPT; // findAccount ends the session
      const snapshot = await claimsCache.get(tenant.id, `snapshot:${user.id}`, () => loadAuthzSnapshot(storage, user));
      return policyRequiresMfa(tenantPolicy, snapshot) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}
