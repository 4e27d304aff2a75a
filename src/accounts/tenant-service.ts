// Tenants: an organisation with its own issuer, keys, users and roles.
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import { isUniqueViolation, type Tenant } from '../storage/index.ts';
import type { AccountsContext, Actor } from './context.ts';
import { builtinRoles } from './builtin-roles.ts';
import { parseInput } from './parse-input.ts';
import { roleInput, tenantInput } from './schemas.ts';

export function createTenantService({ storage, audit }: AccountsContext) {
  return {
    async create(input: { slug: string; name?: string }, actor: Actor): Promise<Tenant> {
      const { slug, name } = parseInput(tenantInput, { ...input, name: input.name ?? input.slug });
      try {
        return await storage.transaction(async (tx) => {
          const tenant: Tenant = { id: randomUUID(), slug, name, createdAt: new Date() };
          await tx.tenants.insert(tenant);
          await tx.roles.insert(
            builtinRoles.map((r) => {
              const role = parseInput(roleInput, r);
              return { ...role, id: randomUUID(), tenantId: tenant.id, parentId: null, description: role.description ?? null, builtin: true };
            }),
          );
          await tx.teams.insert({ id: randomUUID(), tenantId: tenant.id, key: 'everyone', name: 'Everyone' });
          await audit.record({ tenantId: tenant.id, actor, action: 'tenant.create', target: { type: 'tenant', id: tenant.id }, after: tenant }, tx);
          return tenant;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`tenant "${slug}" already exists`);
        throw error;
      }
    },
    list: () => storage.tenants.find({ order: { slug: 'ASC' } }),
    findBySlug: (slug: string) => storage.tenants.findOneBy({ slug }),
  };
}
export type TenantService = ReturnType<typeof createTenantService>;
