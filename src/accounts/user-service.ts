// Users: create (with role assignments), edit, disable/enable, delete. Every change is audited in
// the transaction that makes it; disabling or deleting revokes the user's grants and refresh tokens.
import { randomUUID } from 'node:crypto';
import type { AuditWriter } from '../audit/index.ts';
import { roleRequiresPhi } from '../authz/index.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { In, isUniqueViolation, queries, searchUsers, type Repos, type Tenant, type User } from '../storage/index.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { checkPassword, type Lockout } from '../security/index.ts';
import { PasswordPolicyError } from './password-service.ts';
import { resolvePolicy } from './tenant-policy.ts';
import { addAssignment } from './assignment-service.ts';
import { revokeGrants } from './session-index.ts';
import { parseInput } from './parse-input.ts';
import { loadRoleDefinitions } from './role-definitions.ts';
import { assertMayManageUser } from './grant-guard.ts';
import { beginAdminCheck } from './last-admin-guard.ts';
import { assertNotOwner } from './ownership-service.ts';
import { findUser } from './find-user.ts';
import { loadAuthority } from './admin-authority.ts';
import { loadAuthzSnapshot, scopeNamer } from './load-authz-snapshot.ts';
import { userInput, userPatch, userQuery, type AssignmentInput, type UserInput, type UserQuery } from './schemas.ts';
import { applyAttributes, checkUserType, resolveUserProfile } from './user-profile.ts';

/** A location and every location below it. */
function subtree(rootId: string, locations: Array<{ id: string; parentId: string | null }>): string[] {
  const ids = [rootId];
  for (let i = 0; i < ids.length; i++) for (const l of locations) if (l.parentId === ids[i] && !ids.includes(l.id)) ids.push(l.id);
  return ids;
}

/** "Given Family", or null when neither is known. */
const fullName = (given?: string | null, family?: string | null) => [given, family].filter(Boolean).join(' ') || null;

/** The user as admins and the API see it: never the password hash. */
export function publicUser(user: User) {
  const { passwordHash, ...rest } = user;
  return { ...rest, hasPassword: passwordHash !== null };
}


/**
 * Removes every assignment of a role that requires PHI access from a user whose PHI flag was just
 * cleared (by an admin, or by an upstream source that owns the flag), audited in `tx`.
 */
export async function dropPhiAssignments(audit: AuditWriter, tx: Repos, tenant: Tenant, user: User, actor: Actor) {
  const roles = await loadRoleDefinitions(tx, tenant.id);
  const phiRoles = [...roles.values()].filter((r) => roleRequiresPhi(r.id, roles)).map((r) => r.id);
  if (!phiRoles.length) return;
  const removed = await tx.assignments.findBy({ tenantId: tenant.id, userId: user.id, roleId: In(phiRoles) });
  if (!removed.length) return;
  await tx.assignments.delete(removed.map((a) => a.id));
  await audit.record(
    { tenantId: tenant.id, actor, action: 'assignment.delete', target: { type: 'user', id: user.id }, details: { reason: 'phi_access_cleared', assignments: removed.map((a) => ({ id: a.id, role: roles.get(a.roleId)?.key })) } },
    tx,
  );
}

export function createUserService(ctx: AccountsContext) {
  const { storage, audit, hasher } = ctx;

  /** Enables or disables `before` inside `tx`, with every guard; disabling ends their sessions and grants. */
  async function changeStatus(tx: Repos, tenant: Tenant, before: User, status: 'active' | 'disabled', actor: Actor) {
    await assertMayManageUser(tx, tenant, actor, before);
    const keepAdmin = status !== 'active' ? await beginAdminCheck(tx, tenant) : undefined;
    // Enabling starts a new inactivity period (an expired account would otherwise expire again).
    await tx.users.update({ id: before.id }, { status, updatedAt: new Date(), ...(status === 'active' && before.status !== 'active' ? { reenabledAt: new Date() } : {}) });
    // The admin decides from now on: a directory re-enables only an account it disabled itself.
    await queries.identities.clearDisabled(tx, tenant.id, before.id);
    if (status !== 'active') {
      assertNotOwner(before, 'disabling them');
      await keepAdmin!(`disabling "${before.username}"`);
      await revokeGrants(tx, tenant.id, before.id);
      await tx.afterCommit(() => ctx.sessions.endAll(tenant.id, before.id).then(() => undefined));
    }
    await audit.record(
      { tenantId: tenant.id, actor, action: status === 'active' ? 'user.enable' : 'user.disable', target: { type: 'user', id: before.id }, before: { status: before.status }, after: { status } },
      tx,
    );
    return publicUser({ ...before, status });
  }

  return {
    publicUser,

    async create(tenantSlug: string, raw: UserInput, assignments: AssignmentInput[], actor: Actor) {
      const input = parseInput(userInput, raw);
      if (input.password && input.invite) throw new ValidationError('password: give a password or --invite, not both');
      if (!input.password && !input.invite) throw new ValidationError('password: required unless the user is invited');
      // An admin's initial password meets the tenant's policy like any other.
      if (input.password) {
        const policy = resolvePolicy((await requireTenant(storage, tenantSlug)).policy).password;
        const problems = checkPassword(policy, input.password, { username: input.username, email: input.email }).map((p) => p.message);
        if (problems.length) throw new PasswordPolicyError(`password: ${problems.join(' ')}`, { issues: problems });
      }
      const passwordHash = input.password ? await hasher.hash(input.password) : null;
      try {
        return await storage.transaction(async (tx) => {
          const tenant = await requireTenant(tx, tenantSlug);
          const profile = resolveUserProfile(tenant.userProfile);
          checkUserType(profile, input.userType);
          const user: User = {
            id: randomUUID(),
            tenantId: tenant.id,
            username: input.username,
            email: input.email?.toLowerCase() ?? null,
            phone: input.phone ?? null,
            displayName: input.displayName ?? fullName(input.givenName, input.familyName),
            givenName: input.givenName ?? null,
            familyName: input.familyName ?? null,
            userType: input.userType ?? null,
            attributes: applyAttributes(profile, {}, input.attributes),
            status: input.invite ? 'invited' : 'active',
            kind: 'human',
            phiAccess: input.phiAccess,
            outsideVendor: input.outsideVendor,
            source: 'local',
            externalId: null,
            passwordHash,
            lastLoginAt: null,
            mustChangePassword: false,
            passwordChangedAt: passwordHash ? new Date() : null,
            lockedAt: null,
            expiresAt: input.expiresAt ?? null,
            reenabledAt: null,
            createdAt: new Date(),
            updatedAt: new Date(),
          };
          const taken = await queries.users.takenField(tx, tenant.id, user.username, user.email);
          if (taken) throw new ConflictError(`a user with this ${taken} already exists`);
          await tx.users.insert(user);
          const everyone = await tx.teams.findOneBy({ tenantId: tenant.id, key: 'everyone' });
          if (everyone) await tx.teamMembers.insert({ teamId: everyone.id, userId: user.id, tenantId: tenant.id });
          await audit.record({ tenantId: tenant.id, actor, action: 'user.create', target: { type: 'user', id: user.id }, after: publicUser(user) }, tx);
          for (const a of assignments) await addAssignment(ctx, tx, tenant, { userId: user.id }, a, actor, 'manual', 'caregate.users:create');
          // A scoped administrator creates users only into their scope: with a role there.
          await (await loadAuthority(tx, tenant, actor)).require('caregate.users:create', { kind: 'user', user });
          return publicUser(user);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('a user with this username or email already exists');
        throw error;
      }
    },

    /** A user, with the upstream identities linked to them (federation connections, directory sources). */
    /** `actor`, when given, must hold caregate.users:read where the user is. */
    async get(tenantSlug: string, ref: string, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const user = await findUser(storage, tenant.id, ref);
      if (actor) await (await loadAuthority(storage, tenant, actor)).require('caregate.users:read', { kind: 'user', user });
      const [links, snapshot, direct, factors] = await Promise.all([
        storage.userIdentities.find({ where: { tenantId: tenant.id, userId: user.id }, order: { createdAt: 'ASC' } }),
        loadAuthzSnapshot(storage, user),
        storage.assignments.find({ where: { tenantId: tenant.id, userId: user.id }, order: { createdAt: 'ASC' } }),
        storage.mfaFactors.find({ where: { userId: user.id }, order: { createdAt: 'ASC' } }),
      ]);
      const scopeOf = await scopeNamer(storage, tenant.id, snapshot, direct);
      return {
        ...publicUser(user),
        // What an administrator reads on the user's page: roles where, teams, second factors.
        assignments: direct.map((a) => ({
          id: a.id, role: snapshot.roles.get(a.roleId)?.key, scope: scopeOf(a),
          startsAt: a.startsAt, expiresAt: a.expiresAt, origin: a.origin, timeWindow: a.timeWindow ?? null,
          ...(a.origin === 'delegation' ? { delegatedBy: a.delegatedBy, permissions: a.permissions ?? null } : {}),
        })),
        teams: snapshot.teams,
        factors: factors.filter((f) => f.confirmedAt).map((f) => ({ type: f.type, name: f.name, createdAt: f.createdAt, lastUsedAt: f.lastUsedAt })),
        identities: links.map((l) => ({
          upstream: l.upstream, subject: l.subject, email: l.email, profile: l.profile ?? null,
          disabledByUpstreamAt: l.disabledAt ?? null, linkedAt: l.createdAt, lastLoginAt: l.lastLoginAt,
        })),
      };
    },

    /** The ids of the users `actor` reaches with `permission`; undefined when they hold it tenant-wide. */
    async visibleTo(tenantSlug: string, actor: Actor, permission: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      return (await loadAuthority(storage, tenant, actor)).visibleUsers(permission);
    },

    /** Users by username; with `actor`, only those within their caregate.users:read scope (never a 403 for the list). */
    async list(tenantSlug: string, { limit = 100, offset = 0 } = {}, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const ids = actor ? await (await loadAuthority(storage, tenant, actor)).visibleUsers('caregate.users:read') : undefined;
      if (!ids) return (await storage.users.find({ where: { tenantId: tenant.id }, order: { username: 'ASC' }, take: limit, skip: offset })).map(publicUser);
      if (!ids.length) return [];
      return (await storage.users.find({ where: { tenantId: tenant.id, id: In(ids) }, order: { username: 'ASC' }, take: limit, skip: offset })).map(publicUser);
    },

    /**
     * A page of the users matching the search and filters, and how many match in all; with `actor`,
     * only users within their caregate.users:read scope (never a 403 for the list).
     */
    async search(tenantSlug: string, raw: UserQuery, actor?: Actor) {
      const query = parseInput(userQuery, raw);
      const tenant = await requireTenant(storage, tenantSlug);
      const within = actor ? await (await loadAuthority(storage, tenant, actor)).visibleUsers('caregate.users:read') : undefined;
      if (within && !within.length) return { users: [], total: 0 };
      const byKey = async <T extends { id: string }>(repo: { findOneBy(where: object): Promise<T | null> }, key: string | undefined, kind: string) => {
        if (key === undefined) return undefined;
        const row = await repo.findOneBy({ tenantId: tenant.id, key });
        if (!row) throw new ValidationError(`${kind}: "${key}" does not exist`);
        return row;
      };
      const role = await byKey(storage.roles, query.role, 'role');
      const location = await byKey(storage.locations, query.location, 'location');
      const institution = await byKey(storage.institutions, query.institution, 'institution');
      const team = await byKey(storage.teams, query.team, 'team');
      const { users, total } = await searchUsers(storage, {
        tenantId: tenant.id, text: query.q, status: query.status, userType: query.userType, phiAccess: query.phi, outsideVendor: query.vendor,
        roleIds: role && [role.id],
        ...(location ? { scopeType: 'location' as const, scopeIds: subtree(location.id, await storage.locations.findBy({ tenantId: tenant.id })) } : {}),
        ...(institution ? { scopeType: 'institution' as const, scopeIds: [institution.id] } : {}),
        teamId: team?.id,
        notSignedInSince: query.inactiveDays ? new Date(Date.now() - query.inactiveDays * 86_400_000) : undefined,
        within, limit: query.limit, offset: query.offset,
      });
      return { users: users.map(publicUser), total };
    },

    async update(tenantSlug: string, ref: string, raw: unknown, actor: Actor) {
      const patch = parseInput(userPatch, raw);
      try {
        return await storage.transaction(async (tx) => {
          const tenant = await requireTenant(tx, tenantSlug);
          const before = await findUser(tx, tenant.id, ref);
          await assertMayManageUser(tx, tenant, actor, before);
          const profile = resolveUserProfile(tenant.userProfile);
          checkUserType(profile, patch.userType);
          const { manager, ...fields } = patch;
          const managerId = manager === undefined ? before.managerId ?? null : manager === null ? null : (await findUser(tx, tenant.id, manager)).id;
          if (managerId === before.id) throw new ConflictError('manager: a user cannot be their own manager');
          const after: User = {
            ...before, ...fields, managerId,
            email: patch.email === undefined ? before.email : (patch.email?.toLowerCase() ?? null),
            attributes: patch.attributes === undefined ? before.attributes : applyAttributes(profile, before.attributes ?? {}, patch.attributes),
            updatedAt: new Date(),
          };
          if (patch.username && patch.username.toLowerCase() !== before.username.toLowerCase() && (await queries.users.takenField(tx, tenant.id, patch.username, null)) === 'username') {
            throw new ConflictError('a user with this username already exists');
          }
          await tx.users.update({ id: before.id }, {
            username: after.username, email: after.email, phone: after.phone, displayName: after.displayName, givenName: after.givenName, familyName: after.familyName,
            userType: after.userType, attributes: after.attributes, phiAccess: after.phiAccess, outsideVendor: after.outsideVendor, expiresAt: after.expiresAt, updatedAt: after.updatedAt,
            managerId: after.managerId,
          });
          await audit.record({ tenantId: tenant.id, actor, action: 'user.update', target: { type: 'user', id: before.id }, before: publicUser(before), after: publicUser(after) }, tx);
          // Clearing the PHI flag removes every assignment of a role that requires it.
          if (before.phiAccess && !after.phiAccess) await dropPhiAssignments(audit, tx, tenant, after, actor);
          return publicUser(after);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('a user with this email already exists');
        throw error;
      }
    },

    async setStatus(tenantSlug: string, ref: string, status: 'active' | 'disabled', actor: Actor) {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        return changeStatus(tx, tenant, await findUser(tx, tenant.id, ref), status, actor);
      });
    },

    /** The same, inside a caller's transaction (bulk actions). */
    changeStatus,

    async remove(tenantSlug: string, ref: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const before = await findUser(tx, tenant.id, ref);
        await assertMayManageUser(tx, tenant, actor, before, 'caregate.users:delete');
        assertNotOwner(before, 'deleting them');
        const keepAdmin = await beginAdminCheck(tx, tenant);
        await revokeGrants(tx, tenant.id, before.id);
        await tx.users.delete({ id: before.id });
        await keepAdmin(`deleting "${before.username}"`);
        await tx.afterCommit(() => ctx.sessions.endAll(tenant.id, before.id).then(() => undefined));
        await audit.record({ tenantId: tenant.id, actor, action: 'user.delete', target: { type: 'user', id: before.id }, before: publicUser(before) }, tx);
      });
    },

    /** Ends a lockout: the counters in the ephemeral store and a lock kept in the database. */
    async unlock(tenantSlug: string, ref: string, actor: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const user = await findUser(storage, tenant.id, ref);
      await assertMayManageUser(storage, tenant, actor, user);
      await ctx.lockout.unlock(tenant.id, user.id);
      await storage.transaction(async (tx) => {
        if (user.status === 'locked') await queries.users.unlock(tx, user.id);
        await audit.record({ tenantId: tenant.id, actor, action: 'user.unlock', target: { type: 'user', id: user.id }, before: { status: user.status }, after: { status: user.status === 'locked' ? 'active' : user.status } }, tx);
      });
      return publicUser({ ...user, status: user.status === 'locked' ? 'active' : user.status, lockedAt: null });
    },

    /** What an admin sees of a user's sign-in security: lock state and consecutive failures. */
    async lockState(tenantSlug: string, ref: string, lockoutPolicy: Parameters<Lockout['state']>[2]) {
      const tenant = await requireTenant(storage, tenantSlug);
      const user = await findUser(storage, tenant.id, ref);
      const state = await ctx.lockout.state(tenant.id, user.id, lockoutPolicy);
      const locked = state.locked || user.status === 'locked';
      return { ...state, failures: locked ? lockoutPolicy.threshold : state.failures, locked, lockedAt: user.lockedAt };
    },

    findUser: async (tenantSlug: string, ref: string) => findUser(storage, (await requireTenant(storage, tenantSlug)).id, ref),
    /** A user of the tenant by id or username, inside `repos` (a transaction). */
    findUserIn: (repos: Repos, tenantId: string, ref: string) => findUser(repos, tenantId, ref),
  };
}
export type UserService = ReturnType<typeof createUserService>;
