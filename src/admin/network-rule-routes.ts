// Network rules (issue 18): the tenant-wide rule — sign-in and refresh only from these ranges —
// is security policy (caregate.policy:edit, tenant-wide); a role's rule — tokens issued from
// elsewhere leave the role out — is part of the role (caregate.roles:edit, tenant-wide).
import { z } from 'zod';
import { networkRuleInput, schemas, type Accounts } from '../accounts/index.ts';
import { defineRoute, type AdminRoute } from './define-route.ts';

const role = z.object({ key: schemas.keySchema });

export function networkRuleRoutes({ networkRules }: Accounts): AdminRoute[] {
  return [
    defineRoute({ method: 'get', path: '/network-rules', summary: 'The tenant-wide network rule (null when none) and each role\'s', permission: 'caregate.policy:read', handler: (r) => networkRules.list(r.tenant, r.actor) }),
    defineRoute({
      method: 'put', path: '/network-rules/tenant', summary: 'Allow sign-in and token refresh only from these address ranges (409 when the caller\'s own address is outside them, unless allowOutsideCaller)',
      permission: 'caregate.policy:edit', body: networkRuleInput, handler: (r) => networkRules.setTenantRule(r.tenant, r.body, r.actor),
    }),
    defineRoute({
      method: 'delete', path: '/network-rules/tenant', summary: 'Remove the tenant-wide network rule (sign-in from anywhere again)', permission: 'caregate.policy:edit',
      status: 204, handler: (r) => networkRules.removeTenantRule(r.tenant, r.actor),
    }),
    defineRoute({
      method: 'put', path: '/roles/{key}/network-rule', summary: 'Make a role require these address ranges: tokens issued from elsewhere leave it out (the person\'s other roles still count)',
      permission: 'caregate.roles:edit', params: role, body: networkRuleInput.omit({ allowOutsideCaller: true }), handler: (r) => networkRules.setRoleRule(r.tenant, r.params.key, r.body, r.actor),
    }),
    defineRoute({
      method: 'delete', path: '/roles/{key}/network-rule', summary: 'Let a role be used from anywhere again', permission: 'caregate.roles:edit',
      params: role, status: 204, handler: (r) => networkRules.removeRoleRule(r.tenant, r.params.key, r.actor),
    }),
  ];
}
