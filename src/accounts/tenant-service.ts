// Tenants: an organisation with its own issuer, keys, users and roles.
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import { isUniqueViolation, type Tenant } from '../storage/index.ts';
import type { AccountsContext, Actor } from './context.ts';
import { builtinRoles } from './builtin-roles.ts';
import { parseInput } from './parse-input.ts';
import { roleInput, tenantInput } from './schemas.ts';
import { mergePolicy, resolvePolicy, tenantPolicySchema, type TenantPolicy } from './tenant-policy.ts';
import { requireTenant } from './context.ts';
import { loadAuthority } from './admin-authority.ts';
import { resolveUserProfile, userProfileSchema, type UserProfileSchema } from './user-profile.ts';

export function createTenantService({ storage, audit }: AccountsContext) {
  return {
    async create(input: { slug: string; name?: string }, actor: Actor): Promise<Tenant> {
      const { slug, name } = parseInput(tenantInput, { ...input, name: input.name ?? input.slug });
      try {
        return await storage.transaction(async (tx) => {
          const tenant: Tenant = { id: randomUUID(), slug, name, policy: {}, createdAt: new Date() };
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
    /** The effective security policy (defaults filled in). */
    async policy(slug: string): Promise<TenantPolicy> {
      return resolvePolicy((await requireTenant(storage, slug)).policy);
    },
    /** Changes part of the policy (objects merge, values replace); validated whole, audited. */
    async updatePolicy(slug: string, patch: Record<string, unknown>, actor: Actor): Promise<TenantPolicy> {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        const stored = mergePolicy(tenant.policy ?? {}, patch);
        const effective = parseInput(tenantPolicySchema, stored);
        await tx.tenants.update({ id: tenant.id }, { policy: stored });
        const before = resolvePolicy(tenant.policy);
        await audit.record({ tenantId: tenant.id, actor, action: 'tenant.policy.update', target: { type: 'tenant', id: tenant.id }, before, after: effective }, tx);
        return effective;
      });
    },
    /** The tenant's user types and declared profile attributes (defaults filled in). */
    async profileSchema(slug: string): Promise<UserProfileSchema> {
      return resolveUserProfile((await requireTenant(storage, slug)).userProfile);
    },
    /** Replaces the user types and attribute declarations, validated whole; audited. Users' values are checked at their next edit. */
    async updateProfileSchema(slug: string, raw: unknown, actor: Actor): Promise<UserProfileSchema> {
      const next = parseInput(userProfileSchema, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.tenant:edit', { kind: 'tenant' });
        await tx.tenants.update({ id: tenant.id }, { userProfile: next });
        await audit.record({ tenantId: tenant.id, actor, action: 'tenant.profile.update', target: { type: 'tenant', id: tenant.id }, before: resolveUserProfile(tenant.userProfile), after: next }, tx);
        return next;
      });
    },
    findBySlug: (slug: string) => storage.tenants.findOneBy({ slug }),
  };
}
export type TenantService = ReturnType<typeof createTenantService>;
