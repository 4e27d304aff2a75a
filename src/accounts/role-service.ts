// Custom roles: a key, permissions, an optional parent to inherit from, and the PHI requirement.
import { randomUUID } from 'node:crypto';
import { rolePermissions } from '../authz/index.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { isUniqueViolation, type Role } from '../storage/index.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { parseInput } from './parse-input.ts';
import { loadRoleDefinitions } from './role-definitions.ts';
import { roleInput, type RoleInput } from './schemas.ts';

export function createRoleService({ storage, audit }: AccountsContext) {
  return {
    async create(tenantSlug: string, raw: RoleInput, actor: Actor): Promise<Role> {
      const input = parseInput(roleInput, raw);
      try {
        return await storage.transaction(async (tx) => {
          const tenant = await requireTenant(tx, tenantSlug);
          const parent = input.parent ? await requireByKey(tx.roles, tenant.id, input.parent, 'parent role') : null;
          if (await tx.roles.findOneBy({ tenantId: tenant.id, key: input.key })) throw new ConflictError(`role "${input.key}" already exists`);
          const role: Role = {
            id: randomUUID(),
            tenantId: tenant.id,
            key: input.key,
            name: input.name,
            description: input.description ?? null,
            parentId: parent?.id ?? null,
            permissions: input.permissions,
            removedPermissions: input.removedPermissions,
            requiresPhi: input.requiresPhi,
            builtin: false,
            createdAt: new Date(),
          };
          await tx.roles.insert(role);
          await audit.record({ tenantId: tenant.id, actor, action: 'role.create', target: { type: 'role', id: role.id }, after: { ...role, parent: input.parent ?? null } }, tx);
          return role;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`role "${input.key}" already exists`);
        throw error;
      }
    },

    async list(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const defs = await loadRoleDefinitions(storage, tenant.id);
      const roles = await storage.roles.find({ where: { tenantId: tenant.id }, order: { key: 'ASC' } });
      return roles.map((r) => ({ ...r, effectivePermissions: [...rolePermissions(r.id, defs)].sort() }));
    },

    async get(tenantSlug: string, key: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const role = await requireByKey(storage.roles, tenant.id, key, 'role');
      const defs = await loadRoleDefinitions(storage, tenant.id);
      return { ...role, effectivePermissions: [...rolePermissions(role.id, defs)].sort() };
    },

    async remove(tenantSlug: string, key: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const role = await requireByKey(tx.roles, tenant.id, key, 'role');
        if (await tx.roles.findOneBy({ tenantId: tenant.id, parentId: role.id })) {
          throw new ValidationError(`role "${key}" is the parent of other roles; remove or re-parent them first`);
        }
        await tx.roles.delete({ id: role.id });
        await audit.record({ tenantId: tenant.id, actor, action: 'role.delete', target: { type: 'role', id: role.id }, before: role }, tx);
      });
    },
  };
}
export type RoleService = ReturnType<typeof createRoleService>;
