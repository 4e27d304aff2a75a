// Fine-grained access on top of roles (seed 002): per-user overrides — one permission of one
// application granted to or denied from one person (deny wins) — and derived roles — holders of a
// role, or of a permission, at a scope also hold another role there, evaluated at token time and
// gone when the source goes. Both obey the no-escalation rule: only someone holding a permission
// (or every permission of a role) may hand it out or take it away. And the explanation of what a
// user's token for an application carries, and why.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { basePermission, heldPermissions, missingPermissions, projectClaims, rolePermissions, withDerived } from '../authz/index.ts';
import { EscalationError, NotFoundError, SelfChangeError, ValidationError } from '../errors.ts';
import { In, type Repos, type Tenant, type User } from '../storage/index.ts';
import { loadAuthority } from './admin-authority.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { assertMayGrant } from './grant-guard.ts';
import { beginAdminCheck } from './last-admin-guard.ts';
import { loadAuthzSnapshot, scopeNamer } from './load-authz-snapshot.ts';
import { parseInput } from './parse-input.ts';
import { loadRoleDefinitions } from './role-definitions.ts';
import { keySchema } from './schemas.ts';
import { findUser } from './find-user.ts';

export const overrideInput = z.strictObject({
  application: z.string().min(1).max(64).describe('The client_id of the application whose permission this is'),
  permission: z.string().regex(/^[a-z][a-z0-9_.-]*(:[a-z][a-z0-9_.-]*)+$/, 'must look like "feature:action"'),
  effect: z.enum(['grant', 'deny']),
});

export const derivedRoleInput = z.strictObject({
  sourceRole: keySchema.optional().describe('Holders of this role …'),
  sourcePermission: z.string().regex(/^[a-z][a-z0-9_.-]*(:[a-z][a-z0-9_.-]*)+$/).optional().describe('… or of a role carrying this permission …'),
  targetRole: keySchema.describe('… also hold this role, at the same scope'),
}).refine((d) => Boolean(d.sourceRole) !== Boolean(d.sourcePermission), 'give sourceRole or sourcePermission, not both');

export function createAccessRuleService(ctx: AccountsContext) {
  const { storage, audit } = ctx;

  const userOf = (tx: Repos, tenant: Tenant, ref: string): Promise<User> => findUser(tx, tenant.id, ref);

  /** The actor holds `permission` for the application (tenant-wide, or at that application), and is not changing themselves. */
  async function mayHandOut(tx: Repos, tenant: Tenant, actor: Actor, user: User, applicationId: string, permission: string, adminPermission: string) {
    const authority = await loadAuthority(tx, tenant, actor);
    await authority.require(adminPermission, { kind: 'user', user });
    if (authority.subject === undefined) return;
    if (authority.subject?.id === user.id) throw new SelfChangeError('you cannot change your own permissions; ask another administrator', { reason: 'self_change' });
    const held = authority.snapshot ? heldPermissions(authority.snapshot, { scopeType: 'application', scopeId: applicationId }) : new Set<string>();
    const missing = missingPermissions(held, [permission]);
    if (missing.length) throw new EscalationError(`you cannot grant or deny "${permission}": you do not hold it for that application`, { reason: 'escalation', missing });
  }

  return {
    async listOverrides(slug: string, ref: string, actor?: Actor) {
      const tenant = await requireTenant(storage, slug);
      const user = await userOf(storage, tenant, ref);
      if (actor) await (await loadAuthority(storage, tenant, actor)).require('caregate.assignments:read', { kind: 'user', user });
      const rows = await storage.permissionOverrides.find({ where: { tenantId: tenant.id, userId: user.id }, order: { createdAt: 'ASC' } });
      // Named by client_id, as an administrator gives it to setOverride.
      const apps = rows.length ? await storage.applications.findBy({ tenantId: tenant.id, id: In([...new Set(rows.map((r) => r.applicationId))]) }) : [];
      return rows.map((r) => ({ ...r, application: apps.find((a) => a.id === r.applicationId)?.clientId ?? null }));
    },

    /** Grants or denies one permission of an application to a user (replacing an override of the same permission). */
    async setOverride(slug: string, ref: string, raw: z.input<typeof overrideInput>, actor: Actor) {
      const input = parseInput(overrideInput, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        const user = await userOf(tx, tenant, ref);
        const app = await tx.applications.findOneBy({ tenantId: tenant.id, clientId: input.application });
        if (!app) throw new NotFoundError(`application "${input.application}" does not exist`);
        if (!app.permissions.some((p) => basePermission(p) === basePermission(input.permission))) {
          throw new ValidationError(`permission: "${input.permission}" is not in the catalogue of application "${app.name}"`);
        }
        await mayHandOut(tx, tenant, actor, user, app.id, input.permission, 'caregate.assignments:create');
        const before = await tx.permissionOverrides.findOneBy({ userId: user.id, applicationId: app.id, permission: input.permission });
        const row = { id: before?.id ?? randomUUID(), tenantId: tenant.id, userId: user.id, applicationId: app.id, permission: input.permission, effect: input.effect, createdAt: before?.createdAt ?? new Date() };
        await tx.permissionOverrides.save(row);
        await audit.record({ tenantId: tenant.id, actor, action: 'override.set', target: { type: 'user', id: user.id }, before: before ?? null, after: { ...row, application: app.clientId } }, tx);
        return row;
      });
    },

    async removeOverride(slug: string, ref: string, id: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        const user = await userOf(tx, tenant, ref);
        const row = await tx.permissionOverrides.findOneBy({ tenantId: tenant.id, userId: user.id, id });
        if (!row) throw new NotFoundError('override does not exist');
        await mayHandOut(tx, tenant, actor, user, row.applicationId, row.permission, 'caregate.assignments:delete');
        await tx.permissionOverrides.delete({ id });
        await audit.record({ tenantId: tenant.id, actor, action: 'override.delete', target: { type: 'user', id: user.id }, before: row }, tx);
      });
    },

    async listDerived(slug: string) {
      const tenant = await requireTenant(storage, slug);
      const roles = await loadRoleDefinitions(storage, tenant.id);
      return (await storage.derivedRoles.find({ where: { tenantId: tenant.id }, order: { createdAt: 'ASC' } })).map((d) => ({
        id: d.id, sourceRole: d.sourceRoleId ? roles.get(d.sourceRoleId)?.key : undefined, sourcePermission: d.sourcePermission ?? undefined, targetRole: roles.get(d.targetRoleId)?.key, createdAt: d.createdAt,
      }));
    },

    /** Holders of `sourceRole` (or of a role carrying `sourcePermission`) also hold `targetRole` at the same scope. */
    async createDerived(slug: string, raw: z.input<typeof derivedRoleInput>, actor: Actor) {
      const input = parseInput(derivedRoleInput, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.roles:edit', { kind: 'tenant' });
        const target = await requireByKey(tx.roles, tenant.id, input.targetRole, 'role');
        const source = input.sourceRole ? await requireByKey(tx.roles, tenant.id, input.sourceRole, 'role') : null;
        if (source?.id === target.id) throw new ValidationError('targetRole: a role cannot derive itself');
        // The rule hands the target role to every matching holder, at any scope: grant it tenant-wide.
        await assertMayGrant(tx, tenant, actor, [{ roleId: target.id, scopeType: 'tenant', scopeId: null }], [], 'derive');
        const row = { id: randomUUID(), tenantId: tenant.id, sourceRoleId: source?.id ?? null, sourcePermission: input.sourcePermission ?? null, targetRoleId: target.id, createdAt: new Date() };
        await tx.derivedRoles.insert(row);
        await audit.record({ tenantId: tenant.id, actor, action: 'derived_role.create', target: { type: 'role', id: target.id }, after: { ...input, id: row.id } }, tx);
        return { id: row.id, ...input };
      });
    },

    async removeDerived(slug: string, id: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.roles:edit', { kind: 'tenant' });
        const row = await tx.derivedRoles.findOneBy({ tenantId: tenant.id, id });
        if (!row) throw new NotFoundError('derived role does not exist');
        await assertMayGrant(tx, tenant, actor, [{ roleId: row.targetRoleId, scopeType: 'tenant', scopeId: null }], [], 'remove');
        const keepAdmin = await beginAdminCheck(tx, tenant);
        await tx.derivedRoles.delete({ id });
        await keepAdmin('removing this derived role');
        await audit.record({ tenantId: tenant.id, actor, action: 'derived_role.delete', target: { type: 'role', id: row.targetRoleId }, before: row }, tx);
      });
    },

    /**
     * What a token for `application` would carry for the user, and why: each role with its scope and
     * where it comes from (directly, a team, derived from another role), and the overrides.
     */
    async explain(slug: string, ref: string, clientId: string | undefined, actor?: Actor) {
      const tenant = await requireTenant(storage, slug);
      const user = await userOf(storage, tenant, ref);
      if (actor) await (await loadAuthority(storage, tenant, actor)).require('caregate.users:read', { kind: 'user', user });
      const app = clientId ? await storage.applications.findOneBy({ tenantId: tenant.id, clientId }) : null;
      if (clientId && !app) throw new NotFoundError(`application "${clientId}" does not exist`);
      const snapshot = await loadAuthzSnapshot(storage, user);
      const claims = projectClaims(snapshot, { applicationId: app?.id ?? null, catalogue: app?.permissions ?? [] });
      const direct = await storage.assignments.findBy({ tenantId: tenant.id, userId: user.id });
      const teams = await storage.teams.findBy({ tenantId: tenant.id });
      const now = new Date();
      const all = withDerived(snapshot, now);
      const scopeName = await scopeNamer(storage, tenant.id, snapshot, all);
      const grants = all.map((a) => {
        const original = snapshot.assignments.includes(a);
        const team = 'teamId' in a && a.teamId ? teams.find((t) => t.id === a.teamId)?.key : undefined;
        return {
          role: snapshot.roles.get(a.roleId)?.key,
          scope: scopeName(a),
          via: !original ? 'derived' : direct.some((d) => d.id === (a as { id?: string }).id) ? 'direct' : `team:${team}`,
          inEffect: a.startsAt ? a.startsAt <= now : true,
          expiresAt: a.expiresAt,
          permissions: [...rolePermissions(a.roleId, snapshot.roles)].sort(),
        };
      });
      return { user: user.username, application: app?.clientId ?? null, ...claims, grants, overrides: (snapshot.overrides ?? []).filter((o) => !app || o.applicationId === app.id) };
    },

  };
}
export type AccessRuleService = ReturnType<typeof createAccessRuleService>;
