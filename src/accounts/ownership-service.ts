// Tenant ownership (seeds 001 and 004): one owner — the bootstrap administrator at first — who
// may name backup owners and hand ownership over. The owner cannot be disabled or deleted, nor lose
// tenant-wide admin, while they are the owner; after a transfer they are an administrator like
// any other. A backup owner may claim ownership when the owner's account is no longer active
// (the clinic's "emergency bypass"). Every change is audited.
import { heldPermissions, missingPermissions } from '../authz/index.ts';
import { AdminRefusalError, ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { canSignIn } from './can-sign-in.ts';
import { findUser } from './find-user.ts';
import { In, IsNull, Not, type Repos, type Tenant, type User } from '../storage/index.ts';
import { subjectOf } from './admin-authority.ts';
import { adminCatalogue } from './builtin-roles.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { loadAuthzSnapshot } from './load-authz-snapshot.ts';
import { policyRequiresMfa } from './mfa-requirement.ts';
import { resolvePolicy } from './tenant-policy.ts';

const TENANT_WIDE = { scopeType: 'tenant', scopeId: null } as const;
const brief = (u: User) => ({ id: u.id, username: u.username, displayName: u.displayName, status: u.status });

/** What only the owner (or, to claim, a backup owner) may do, tried by someone else. */
class NotOwnerError extends AdminRefusalError {
  override readonly code = 'not_owner';
}

/** Throws 409 when `user` is the owner: what `what` would do to them needs a transfer first. */
export function assertNotOwner(user: User, what: string): void {
  if (user.ownership === 'owner') {
    throw new ConflictError(`"${user.username}" owns this tenant: ${what} needs ownership transferred to someone else first`, { reason: 'owner' });
  }
}

export function createOwnershipService({ storage, audit }: AccountsContext) {
  /** The named person; an unknown one is bad input here (400), not a missing resource. */
  async function findPerson(tx: Repos, tenant: Tenant, ref: string): Promise<User> {
    return findUser(tx, tenant.id, ref).catch((error: unknown) => {
      throw error instanceof NotFoundError ? new ValidationError(`user "${ref}" does not exist`) : error;
    });
  }

  /** Refuses unless the actor is `owner` (or trusted); returns the acting user. */
  async function requireOwner(tx: Repos, tenant: Tenant, actor: Actor, owner: User | null, what: string) {
    const subject = await subjectOf(tx, tenant, actor);
    if (subject !== undefined && subject?.id !== owner?.id) throw new NotOwnerError(`only the owner of this tenant can ${what}`, { reason: 'not_owner' });
    return subject;
  }

  /** An owner-to-be: an active person holding all of admin tenant-wide, with 2FA enrolled where the policy requires it. */
  async function requireEligible(tx: Repos, tenant: Tenant, user: User, requireFactor = true) {
    if (user.kind !== 'human' || !canSignIn(user)) throw new ConflictError(`"${user.username}" must be an active person to own the tenant`, { reason: 'not_eligible' });
    const snapshot = await loadAuthzSnapshot(tx, user);
    if (missingPermissions(heldPermissions(snapshot, TENANT_WIDE), adminCatalogue).length) {
      throw new ConflictError(`"${user.username}" must hold tenant-wide admin before owning the tenant`, { reason: 'not_eligible' });
    }
    if (!requireFactor) return;
    const factors = await tx.mfaFactors.count({ where: { userId: user.id, confirmedAt: Not(IsNull()) } });
    if (!factors && policyRequiresMfa(resolvePolicy(tenant.policy), snapshot)) {
      throw new ConflictError(`"${user.username}" must enrol a second factor first: this tenant requires two-step sign-in`, { reason: 'not_eligible' });
    }
  }

  async function moveOwnership(tx: Repos, tenant: Tenant, from: User | null, to: User, actor: Actor, action: string, requireFactor = true) {
    await requireEligible(tx, tenant, to, requireFactor);
    if (from) await tx.users.update({ id: from.id }, { ownership: null });
    await tx.users.update({ id: to.id }, { ownership: 'owner' });
    await audit.record({ tenantId: tenant.id, actor, action, target: { type: 'tenant', id: tenant.id }, before: { owner: from && brief(from) }, after: { owner: brief(to) } }, tx);
  }

  return {
    async get(slug: string) {
      const tenant = await requireTenant(storage, slug);
      const marked = await storage.users.find({ where: { tenantId: tenant.id, ownership: In(['owner', 'backup']) }, order: { username: 'ASC' } });
      const owner = marked.find((u) => u.ownership === 'owner');
      return { owner: owner ? brief(owner) : null, backups: marked.filter((u) => u.ownership === 'backup').map(brief) };
    },

    /** The first owner of a tenant that has none (first start): its first administrator, before any second factor. */
    async establish(slug: string, ref: string, actor: Actor) {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        if (await tx.users.findOneBy({ tenantId: tenant.id, ownership: 'owner' })) return;
        await moveOwnership(tx, tenant, null, await findPerson(tx, tenant, ref), actor, 'tenant.owner.transfer', false);
      });
    },

    /** The owner hands ownership to `to`; they stay an administrator. */
    async transfer(slug: string, to: string, actor: Actor) {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        const owner = await tx.users.findOneBy({ tenantId: tenant.id, ownership: 'owner' });
        await requireOwner(tx, tenant, actor, owner, 'transfer its ownership');
        const next = await findPerson(tx, tenant, to);
        if (next.id === owner?.id) throw new ValidationError(`"${next.username}" already owns this tenant`);
        await moveOwnership(tx, tenant, owner, next, actor, 'tenant.owner.transfer');
        return { owner: brief(next) };
      });
    },

    /** The owner names the backup owners (the list replaces the previous one). */
    async setBackups(slug: string, refs: string[], actor: Actor) {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        const owner = await tx.users.findOneBy({ tenantId: tenant.id, ownership: 'owner' });
        await requireOwner(tx, tenant, actor, owner, 'name backup owners');
        const backups = [];
        for (const ref of refs) backups.push(await findPerson(tx, tenant, ref));
        for (const b of backups) {
          if (b.id === owner?.id) throw new ValidationError(`"${b.username}" is the owner`);
          await requireEligible(tx, tenant, b);
        }
        const before = await tx.users.findBy({ tenantId: tenant.id, ownership: 'backup' });
        await tx.users.update({ tenantId: tenant.id, ownership: 'backup' }, { ownership: null });
        if (backups.length) await tx.users.update({ id: In(backups.map((b) => b.id)) }, { ownership: 'backup' });
        await audit.record({ tenantId: tenant.id, actor, action: 'tenant.owner.backups', target: { type: 'tenant', id: tenant.id }, before: { backups: before.map(brief) }, after: { backups: backups.map(brief) } }, tx);
        return { backups: backups.map(brief) };
      });
    },

    /** A backup owner takes ownership because the owner's account is no longer active. */
    async claim(slug: string, actor: Actor) {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        const claimant = await subjectOf(tx, tenant, actor);
        if (!claimant || claimant.ownership !== 'backup') throw new NotOwnerError('only a backup owner can claim ownership', { reason: 'not_backup_owner' });
        const owner = await tx.users.findOneBy({ tenantId: tenant.id, ownership: 'owner' });
        if (owner && canSignIn(owner)) throw new ConflictError(`the owner "${owner.username}" is active: ask them to transfer ownership`, { reason: 'owner_active' });
        await moveOwnership(tx, tenant, owner, claimant, actor, 'tenant.owner.claim');
        return { owner: brief(claimant) };
      });
    },
  };
}
export type OwnershipService = ReturnType<typeof createOwnershipService>;
