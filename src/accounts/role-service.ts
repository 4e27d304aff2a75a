// Roles: a key, permissions, an optional parent to inherit from, and the PHI requirement. Built-in
// templates are edited like custom roles but never deleted. A role is a tenant-wide definition:
// creating, editing or deleting one needs the roles permission tenant-wide, and — since a role's
// permissions reach everyone who holds it — every permission it carries before and after.
import { randomUUID } from 'node:crypto';
import { heldPermissions, missingPermissions, permissionCovered, RoleCycleError, roleConstraints, roleRequiresPhi, rolePermissions, widerLimits, type RoleDefinition } from '../authz/index.ts';
import { ConflictError, EscalationError, PhiRequiredError, ValidationError } from '../errors.ts';
import { In, isUniqueViolation, queries, type Repos, type Role, type Tenant } from '../storage/index.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { loadAuthority } from './admin-authority.ts';
import { assertMayGrant, widerLimitsError } from './grant-guard.ts';
import { beginAdminCheck } from './last-admin-guard.ts';
import { parseInput } from './parse-input.ts';
import { loadRoleDefinitions } from './role-definitions.ts';
import { roleInput, rolePatch, type RoleInput, type RolePatch } from './schemas.ts';

const TENANT_WIDE = { scopeType: 'tenant', scopeId: null } as const;

/** The role and every role inheriting from it, by id. */
function withDescendants(roleId: string, roles: ReadonlyMap<string, RoleDefinition>): string[] {
  const ids = [roleId];
  for (let i = 0; i < ids.length; i++) for (const r of roles.values()) if (r.parentId === ids[i] && !ids.includes(r.id)) ids.push(r.id);
  return ids;
}

/** The usernames of people without the PHI flag who hold any of `roleIds`, directly or through a team. */
async function holdersWithoutPhi(tx: Repos, tenant: Tenant, roleIds: string[]): Promise<Array<{ id: string; username: string }>> {
  const held = await tx.assignments.findBy({ tenantId: tenant.id, roleId: In(roleIds) });
  const teamIds = held.flatMap((a) => (a.teamId ? [a.teamId] : []));
  const members = teamIds.length ? await tx.teamMembers.findBy({ teamId: In(teamIds) }) : [];
  const userIds = [...new Set([...held.flatMap((a) => (a.userId ? [a.userId] : [])), ...members.map((m) => m.userId)])];
  if (!userIds.length) return [];
  return (await tx.users.findBy({ tenantId: tenant.id, id: In(userIds), phiAccess: false })).map((u) => ({ id: u.id, username: u.username })).sort((a, b) => a.username.localeCompare(b.username));
}

/** A constraint on a permission the role does not carry would be silently meaningless: refuse it, naming it. */
function assertConstrainedHeld(role: Role, defs: ReadonlyMap<string, RoleDefinition>) {
  const carried = rolePermissions(role.id, defs);
  const stray = Object.keys(role.constraints ?? {}).filter((p) => !permissionCovered(carried, p));
  if (stray.length) throw new ValidationError(`constraints: role "${role.key}" does not carry ${stray.map((p) => `"${p}"`).join(', ')}`);
}

export function createRoleService(ctx: AccountsContext) {
  const { storage, audit } = ctx;

  /** Tenant-wide `permission`, and the right to grant what the role carries (a role definition reaches all its holders). */
  async function mayDefine(tx: Repos, tenant: Tenant, actor: Actor, permission: string, roleId: string, verb: string) {
    await (await loadAuthority(tx, tenant, actor)).require(permission, { kind: 'tenant' });
    await assertMayGrant(tx, tenant, actor, [{ roleId, scopeType: 'tenant', scopeId: null }], [], verb);
  }

  const withEffective = (role: Role, defs: ReadonlyMap<string, RoleDefinition>) => ({ ...role, effectivePermissions: [...rolePermissions(role.id, defs)].sort() });

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
            constraints: input.constraints,
            builtin: false,
            createdAt: new Date(),
          };
          assertConstrainedHeld(role, new Map(await loadRoleDefinitions(tx, tenant.id)).set(role.id, role));
          await tx.roles.insert(role);
          await mayDefine(tx, tenant, actor, 'caregate.roles:create', role.id, 'create');
          await audit.record({ tenantId: tenant.id, actor, action: 'role.create', target: { type: 'role', id: role.id }, after: { ...role, parent: input.parent ?? null } }, tx);
          return role;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`role "${input.key}" already exists`);
        throw error;
      }
    },

    /** Every role with its effective permissions and `holders` (how many assignments hold it). */
    async list(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const defs = await loadRoleDefinitions(storage, tenant.id);
      const roles = await storage.roles.find({ where: { tenantId: tenant.id }, order: { key: 'ASC' } });
      const holders = await queries.assignments.holderCounts(storage, tenant.id);
      return roles.map((r) => ({ ...withEffective(r, defs), holders: holders.get(r.id) ?? 0 }));
    },

    /** A role with its effective permissions and `holders`: the assignments of it, direct and to teams. */
    async get(tenantSlug: string, key: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const role = await requireByKey(storage.roles, tenant.id, key, 'role');
      const holders = await queries.assignments.holderCounts(storage, tenant.id, role.id);
      return { ...withEffective(role, await loadRoleDefinitions(storage, tenant.id)), holders: holders.get(role.id) ?? 0 };
    },

    /**
     * Edits a role (built-in ones too). Tokens reflect it at their next grant. Making it require PHI
     * is refused while people without the PHI flag hold it (or a role inheriting from it), naming
     * them — unless `dropNonPhiHolders`, which ends those assignments, audited (the built-in fix).
     */
    async update(tenantSlug: string, key: string, raw: RolePatch, actor: Actor, { dropNonPhiHolders = false } = {}) {
      const patch = parseInput(rolePatch, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const before = await requireByKey(tx.roles, tenant.id, key, 'role');
        await mayDefine(tx, tenant, actor, 'caregate.roles:edit', before.id, 'edit');
        const keepAdmin = await beginAdminCheck(tx, tenant);
        const parentId = patch.parent === undefined ? before.parentId : patch.parent === null ? null : (await requireByKey(tx.roles, tenant.id, patch.parent, 'parent role')).id;
        const after: Role = {
          ...before,
          name: patch.name ?? before.name,
          description: patch.description === undefined ? before.description : patch.description,
          parentId,
          permissions: patch.permissions ?? before.permissions,
          removedPermissions: patch.removedPermissions ?? before.removedPermissions,
          requiresPhi: patch.requiresPhi ?? before.requiresPhi,
          constraints: patch.constraints ?? before.constraints,
        };
        const defs = new Map(await loadRoleDefinitions(tx, tenant.id)).set(after.id, after);
        try {
          rolePermissions(after.id, defs);
        } catch (error) {
          if (error instanceof RoleCycleError) throw new ValidationError(`parent: "${patch.parent}" inherits from "${key}"; a role cannot inherit from itself`);
          throw error;
        }
        assertConstrainedHeld(after, defs);
        if (roleRequiresPhi(after.id, defs) && !roleRequiresPhi(before.id, await loadRoleDefinitions(tx, tenant.id))) {
          const affected = withDescendants(after.id, defs);
          const holders = await holdersWithoutPhi(tx, tenant, affected);
          if (holders.length && !dropNonPhiHolders) {
            throw new PhiRequiredError(`role "${key}" cannot require PHI access while ${holders.length} user(s) without the PHI flag hold it: ${holders.slice(0, 10).map((h) => h.username).join(', ')}${holders.length > 10 ? ', …' : ''}`, { users: holders.map((h) => h.username) });
          }
          const dropped = holders.length ? await tx.assignments.findBy({ tenantId: tenant.id, roleId: In(affected), userId: In(holders.map((h) => h.id)) }) : [];
          for (const a of dropped) {
            await tx.assignments.delete({ id: a.id });
            await audit.record({ tenantId: tenant.id, actor, action: 'assignment.delete', target: { type: 'assignment', id: a.id }, before: a, details: { reason: 'role_requires_phi', role: key } }, tx);
          }
        }
        // What the role now carries reaches its holders: the actor must hold all of it (as it stood before the edit).
        const authority = await loadAuthority(tx, tenant, actor);
        if (authority.subject !== undefined) {
          const missing = missingPermissions(authority.snapshot ? heldPermissions(authority.snapshot, TENANT_WIDE) : new Set<string>(), rolePermissions(after.id, defs));
          if (missing.length) throw new EscalationError(`you cannot give role "${key}" permissions you do not hold tenant-wide (${missing.slice(0, 5).join(', ')})`, { reason: 'escalation', role: key, missing });
          const wider = authority.snapshot ? widerLimits(authority.snapshot, TENANT_WIDE, { permissions: rolePermissions(after.id, defs), constraints: roleConstraints(after.id, defs) }) : [];
          if (wider.length) throw widerLimitsError(`give role "${key}" these limits`, wider, { role: key });
        }
        await tx.roles.update({ id: before.id }, { name: after.name, description: after.description, parentId: after.parentId, permissions: after.permissions, removedPermissions: after.removedPermissions, requiresPhi: after.requiresPhi, constraints: after.constraints });
        await keepAdmin(`editing role "${key}"`);
        await audit.record({ tenantId: tenant.id, actor, action: 'role.update', target: { type: 'role', id: before.id }, before, after }, tx);
        return withEffective(after, defs);
      });
    },

    /**
     * Deletes a custom role. A built-in template cannot be deleted; a role still assigned is refused
     * with the count unless `force`, which ends those assignments first, each audited.
     */
    async remove(tenantSlug: string, key: string, actor: Actor, { force = false } = {}) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const role = await requireByKey(tx.roles, tenant.id, key, 'role');
        await mayDefine(tx, tenant, actor, 'caregate.roles:delete', role.id, 'delete');
        if (role.builtin) throw new ConflictError(`role "${key}" is built in: edit it instead of deleting it`, { reason: 'builtin_role' });
        if (await tx.roles.findOneBy({ tenantId: tenant.id, parentId: role.id })) {
          throw new ValidationError(`role "${key}" is the parent of other roles; remove or re-parent them first`);
        }
        const held = await tx.assignments.findBy({ tenantId: tenant.id, roleId: role.id });
        if (held.length && !force) {
          throw new ConflictError(`role "${key}" is assigned ${held.length} time(s); remove those assignments first, or delete with force to end them`, { reason: 'role_in_use', assignments: held.length });
        }
        const keepAdmin = await beginAdminCheck(tx, tenant);
        for (const a of held) {
          await tx.assignments.delete({ id: a.id });
          await audit.record({ tenantId: tenant.id, actor, action: 'assignment.delete', target: { type: 'assignment', id: a.id }, before: a, details: { reason: 'role_deleted', role: key } }, tx);
        }
        await tx.roles.delete({ id: role.id });
        await keepAdmin(`deleting role "${key}"`);
        await audit.record({ tenantId: tenant.id, actor, action: 'role.delete', target: { type: 'role', id: role.id }, before: role }, tx);
      });
    },
  };
}
export type RoleService = ReturnType<typeof createRoleService>;
