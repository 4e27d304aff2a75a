// Delegations ("Acting Manager") for administrators: list those at scopes they read, create one on a
// person's behalf (they must be able to grant the role there themselves), end one early. People
// delegate their own roles from the account page (src/interactions/register-account-routes.ts).
import { z } from 'zod';
import { delegationInput, type Accounts } from '../accounts/index.ts';
import { defineRoute, type AdminRoute } from './define-route.ts';

const ADMIN = { as: 'admin' } as const;
const SELF = { as: 'delegator' } as const;

export function delegationRoutes({ delegations }: Accounts): AdminRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/delegations', scoped: true, summary: 'Delegations running or scheduled (with ended ones too when asked) at the scopes the caller reads',
      permission: 'caregate.assignments:read', query: z.object({ ended: z.enum(['true', 'false']).optional() }),
      handler: (r) => delegations.list(r.tenant, r.actor, { includeEnded: r.query.ended === 'true' }),
    }),
    defineRoute({
      method: 'post', path: '/delegations', scoped: true,
      summary: "Pass a person's role assignment (or some of its permissions) to a colleague until a date; never to the same person, never a delegation again, never past the assignment's end",
      permission: 'caregate.assignments:create', body: delegationInput, status: 201, handler: (r) => delegations.create(r.tenant, r.body, r.actor, ADMIN),
    }),
    defineRoute({
      method: 'delete', path: '/delegations/{id}', scoped: true, summary: 'End a delegation now (it stays listed as ended)',
      permission: 'caregate.assignments:delete', params: z.object({ id: z.uuid() }), status: 204, handler: (r) => delegations.end(r.tenant, r.params.id, r.actor, ADMIN),
    }),
    // Self-service: any signed-in person, for their own roles (no admin permission needed or used).
    defineRoute({ method: 'get', path: '/me/delegable', summary: 'The caller\'s own role assignments they may delegate', permission: null, handler: (r) => delegations.delegable(r.tenant, r.actor) }),
    defineRoute({ method: 'get', path: '/me/delegations', summary: 'Delegations the caller gave and holds', permission: null, handler: (r) => delegations.mine(r.tenant, r.actor) }),
    defineRoute({
      method: 'post', path: '/me/delegations', summary: 'Delegate one of the caller\'s own role assignments (or some of its permissions) to a colleague until a date',
      permission: null, body: delegationInput, status: 201, handler: (r) => delegations.create(r.tenant, r.body, r.actor, SELF),
    }),
    defineRoute({
      method: 'delete', path: '/me/delegations/{id}', summary: 'End a delegation the caller gave, now', permission: null,
      params: z.object({ id: z.uuid() }), status: 204, handler: (r) => delegations.end(r.tenant, r.params.id, r.actor, SELF),
    }),
  ];
}
