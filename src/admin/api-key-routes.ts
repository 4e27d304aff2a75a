// Service accounts and their API keys (issue 18): the account is created here and given roles
// through the assignment routes like any user; its keys are created (the value is answered once),
// listed with last use and uses per day, rotated with an overlap and revoked.
import { z } from 'zod';
import { apiKeyInput, apiKeyRotation, serviceAccountInput, type Accounts } from '../accounts/index.ts';
import { defineRoute, type AdminRoute } from './define-route.ts';

const account = z.object({ account: z.string().min(1).max(128).describe('Service account id or username') });
const keyId = z.object({ id: z.uuid() });

export function apiKeyRoutes({ serviceAccounts, apiKeys }: Accounts): AdminRoute[] {
  return [
    defineRoute({ method: 'get', path: '/service-accounts', summary: "Service accounts created for integrations (not applications'), with how many keys work now", permission: 'caregate.service_accounts:read', handler: (r) => serviceAccounts.list(r.tenant) }),
    defineRoute({
      method: 'post', path: '/service-accounts', summary: 'Create a service account for an integration; give it roles with POST /users/{user}/assignments, then keys', permission: 'caregate.service_accounts:create',
      body: serviceAccountInput, status: 201, handler: (r) => serviceAccounts.create(r.tenant, r.body, r.actor),
    }),
    defineRoute({
      method: 'delete', path: '/service-accounts/{account}', summary: 'Delete a service account, its keys and its roles', permission: 'caregate.service_accounts:delete',
      params: account, status: 204, handler: (r) => serviceAccounts.remove(r.tenant, r.params.account, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/service-accounts/{account}/keys',
      summary: "Create an API key (the value cgk_… is answered once, never again): a subset of the account's permissions that the caller also holds, an end within the tenant's maximum, an owner, a rate limit",
      permission: 'caregate.service_accounts:edit', params: account, body: apiKeyInput, status: 201, handler: (r) => apiKeys.create(r.tenant, r.params.account, r.body, r.actor),
    }),
    defineRoute({
      method: 'get', path: '/api-keys', summary: 'API keys (of one account, or owned by one person) with state, last use and uses per day over 30 days; never their values',
      permission: 'caregate.service_accounts:read', query: z.object({ account: z.string().min(1).max(128).optional(), owner: z.string().min(1).max(128).optional() }),
      handler: (r) => apiKeys.list(r.tenant, r.query),
    }),
    defineRoute({
      method: 'post', path: '/api-keys/{id}/rotate', summary: 'Rotate a key: a new value carrying the same is answered once; the old one keeps working overlapMinutes more',
      permission: 'caregate.service_accounts:edit', params: keyId, body: apiKeyRotation, handler: (r) => apiKeys.rotate(r.tenant, r.params.id, r.body, r.actor),
    }),
    defineRoute({
      method: 'delete', path: '/api-keys/{id}', summary: 'Revoke a key now: the next request with it is refused on every node', permission: 'caregate.service_accounts:edit',
      params: keyId, status: 204, handler: (r) => apiKeys.revoke(r.tenant, r.params.id, r.actor),
    }),
  ];
}
