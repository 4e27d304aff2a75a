// Service accounts an administrator creates for an integration (a script, an interface engine, a
// nightly export): users of kind `service` that never sign in, hold roles like anyone else (granted
// through the assignment routes, under the no-escalation rule) and authenticate with API keys.
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import { In, isUniqueViolation, queries, type User } from '../storage/index.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { parseInput } from './parse-input.ts';
import { requireKeyHolder, serviceAccountInput, type ServiceAccountInput } from './api-key-rules.ts';
import { endAssignments, serviceAssignments } from './service-account.ts';

const publicAccount = (u: User, keys = 0) => ({ id: u.id, username: u.username, displayName: u.displayName, status: u.status, createdAt: u.createdAt, activeKeys: keys });

export function createServiceAccountAdmin(ctx: AccountsContext) {
  const { storage, audit } = ctx;
  return {
    /** The tenant's standalone service accounts (not applications'), with how many keys work now. */
    async list(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const [accounts, apps, keys] = await Promise.all([
        storage.users.findBy({ tenantId: tenant.id, kind: 'service' }),
        storage.applications.findBy({ tenantId: tenant.id }),
        queries.apiKeys.list(storage, tenant.id),
      ]);
      const ofApps = new Set(apps.map((a) => a.serviceUserId));
      const now = new Date();
      return accounts.filter((u) => !ofApps.has(u.id)).sort((a, b) => a.username.localeCompare(b.username))
        .map((u) => publicAccount(u, keys.filter((k) => k.serviceUserId === u.id && !k.revokedAt && k.expiresAt > now).length));
    },

    async create(tenantSlug: string, raw: ServiceAccountInput, actor: Actor) {
      const input = parseInput(serviceAccountInput, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const account: Partial<User> = {
          id: randomUUID(), tenantId: tenant.id, username: input.username, status: 'active', kind: 'service',
          phiAccess: false, outsideVendor: false, source: 'local', displayName: input.displayName ?? input.username,
        };
        await tx.users.insert(account).catch((error: unknown) => {
          throw isUniqueViolation(error) ? new ConflictError(`a user named "${input.username}" already exists`) : error;
        });
        const created = (await tx.users.findOneBy({ id: account.id! }))!;
        await audit.record({ tenantId: tenant.id, actor, action: 'service_account.create', target: { type: 'user', id: created.id }, after: publicAccount(created) }, tx);
        return publicAccount(created);
      });
    },

    /** Deletes the account, its keys and its roles (each of which the actor must be able to take away). */
    async remove(tenantSlug: string, ref: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const account = await requireKeyHolder(tx, tenant.id, ref);
        await endAssignments(ctx, tx, tenant, await serviceAssignments(tx, tenant.id, account.id), actor, 'caregate.service_accounts:delete', 'service_account_removed');
        const keys = await queries.apiKeys.list(tx, tenant.id, account.id);
        await tx.users.delete({ id: account.id, tenantId: tenant.id });
        await audit.record({
          tenantId: tenant.id, actor, action: 'service_account.delete', target: { type: 'user', id: account.id }, before: publicAccount(account),
          details: { keysDeleted: keys.map((k) => k.id) },
        }, tx);
      });
    },

    /** Names of users by id, for key listings. */
    async names(tenantId: string, ids: string[]): Promise<Map<string, string>> {
      const unique = [...new Set(ids)];
      const users = unique.length ? await storage.users.findBy({ tenantId, id: In(unique) }) : [];
      return new Map(users.map((u) => [u.id, u.username]));
    },
  };
}
