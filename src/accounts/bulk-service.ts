// Bulk actions on selected users (the console's checkboxes, a script's list): assign or remove a
// role at a scope, disable or enable. All or nothing: one transaction, every user through the same
// guards as one at a time (scope, no escalation, not oneself, the owner, the last administrator),
// so one refusal refuses the whole request and changes nobody.
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { addAssignment, requireUserInScope, resolveScope } from './assignment-service.ts';
import { loadAuthority } from './admin-authority.ts';
import { assertMayGrant } from './grant-guard.ts';
import { beginAdminCheck } from './last-admin-guard.ts';
import { parseInput } from './parse-input.ts';
import { keySchema, scopeInput } from './schemas.ts';
import type { UserService } from './user-service.ts';

export const bulkRequest = z.discriminatedUnion('action', [
  z.strictObject({ action: z.enum(['assign', 'unassign']), users: z.array(z.string().min(1).max(128)).min(1).max(1000), role: keySchema, scope: scopeInput.default({ type: 'tenant' }) }),
  z.strictObject({ action: z.enum(['disable', 'enable']), users: z.array(z.string().min(1).max(128)).min(1).max(1000) }),
]);
export type BulkRequest = z.input<typeof bulkRequest>;

export function createBulkService(ctx: AccountsContext, users: UserService) {
  const { storage, audit } = ctx;
  return {
    async apply(tenantSlug: string, raw: BulkRequest, actor: Actor) {
      const request = parseInput(bulkRequest, raw);
      if (new Set(request.users.map((u) => u.toLowerCase())).size !== request.users.length) throw new ValidationError('users: each user once');
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const targets = [];
        for (const ref of request.users) targets.push(await users.findUserIn(tx, tenant.id, ref));
        if (request.action === 'disable' || request.action === 'enable') {
          for (const user of targets) await users.changeStatus(tx, tenant, user, request.action === 'disable' ? 'disabled' : 'active', actor);
        } else if (request.action === 'assign') {
          for (const user of targets) {
            await requireUserInScope(tx, tenant, actor, user.id, 'caregate.assignments:create');
            await addAssignment(ctx, tx, tenant, { userId: user.id }, { role: request.role, scope: request.scope }, actor);
          }
        } else if (request.action === 'unassign') {
          const role = await tx.roles.findOneBy({ tenantId: tenant.id, key: request.role });
          if (!role) throw new NotFoundError(`role "${request.role}" does not exist`);
          const scope = await resolveScope(tx, tenant, request.scope);
          const authority = await loadAuthority(tx, tenant, actor);
          const keepAdmin = await beginAdminCheck(tx, tenant);
          for (const user of targets) {
            const held = await tx.assignments.findBy({ tenantId: tenant.id, userId: user.id, roleId: role.id, scopeType: scope.scopeType, ...(scope.scopeId ? { scopeId: scope.scopeId } : {}) });
            for (const a of held) {
              await authority.require('caregate.assignments:delete', { kind: 'scope', scope: a });
              await assertMayGrant(tx, tenant, actor, [a], [user.id], 'remove');
              await tx.assignments.delete({ id: a.id });
              await audit.record({ tenantId: tenant.id, actor, action: 'assignment.delete', target: { type: 'assignment', id: a.id }, before: a, details: { bulk: true } }, tx);
            }
          }
          await keepAdmin('removing these assignments');
        }
        return { action: request.action, users: targets.map((u) => u.username) };
      });
    },
  };
}
export type BulkService = ReturnType<typeof createBulkService>;
