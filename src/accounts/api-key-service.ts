// API keys of service accounts: created with a subset of the account's permissions, shown once,
// rotated with an overlap, revoked at once; every write checked by the no-escalation rule (the
// caller must hold what the key carries, where the account holds it) and audited without the secret.
import { allPermissions, intersectPermissions, missingPermissions, withDerived } from '../authz/index.ts';
import { queries, type ApiKey, type Repos, type Tenant, type User } from '../storage/index.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { parseInput } from './parse-input.ts';
import { assertMayGrant } from './grant-guard.ts';
import { loadAuthzSnapshot } from './load-authz-snapshot.ts';
import { findUser } from './find-user.ts';
import { resolvePolicy } from './tenant-policy.ts';
import { apiKeyInput, apiKeyRotation, publicApiKey, requireKeyHolder, type ApiKeyInput, type ApiKeyRotation } from './api-key-rules.ts';
import { hashApiKeySecret, newApiKeyValue } from './api-key-secret.ts';
import { createApiKeyUsage } from './api-key-usage.ts';
import { createApiKeyGate } from './api-key-gate.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';

const DAY_MS = 86_400_000;

export function createApiKeyService(ctx: AccountsContext) {
  const { storage, audit, box } = ctx;
  const hmacKey = box.derive('api-keys');
  const usage = createApiKeyUsage(ctx);

  /**
   * Refuses a key carrying `permissions` unless the account holds them all, and the actor holds,
   * at every scope where the account holds any of them, the share the key would carry there.
   */
  async function assertMayIssue(tx: Repos, tenant: Tenant, actor: Actor, account: User, permissions: readonly string[], verb: string) {
    const snapshot = await loadAuthzSnapshot(tx, account);
    const lacking = missingPermissions(allPermissions(snapshot), permissions);
    if (lacking.length) throw new ValidationError(`permissions: service account "${account.username}" does not hold ${lacking.join(', ')}; grant it a role first`, { missing: lacking });
    const grants = withDerived(snapshot, new Date()).map((a) => {
      const own = (a as { permissions?: string[] | null }).permissions;
      return { roleId: a.roleId, scopeType: a.scopeType, scopeId: a.scopeId, permissions: [...(own ? intersectPermissions(own, permissions) : permissions)] };
    });
    // The account itself (one of its keys) never issues keys for itself: that would outlive the key's own end.
    await assertMayGrant(tx, tenant, actor, grants, [account.id], verb);
  }

  /** The key's end, refused when past the tenant's maximum lifetime. */
  function checkEnd(tenant: Tenant, expiresAt: Date) {
    const { apiKeys } = resolvePolicy(tenant.policy);
    const latest = Date.now() + apiKeys.maxLifetimeDays * DAY_MS;
    if (expiresAt.getTime() > latest) {
      throw new ValidationError(`expiresAt: keys of this tenant live at most ${apiKeys.maxLifetimeDays} days (until ${new Date(latest).toISOString()}); the tenant policy's apiKeys.maxLifetimeDays sets it`);
    }
    return apiKeys;
  }

  async function requireKey(repos: Repos, tenant: Tenant, id: string): Promise<ApiKey> {
    const key = /^[0-9a-f-]{36}$/i.test(id) ? await queries.apiKeys.find(repos, tenant.id, id) : undefined;
    if (!key) throw new NotFoundError(`API key "${id}" does not exist`);
    return key;
  }

  /** Writes a new key and returns it with its value, the one time the value is ever shown. */
  async function issue(tx: Repos, tenant: Tenant, account: User, fields: Pick<ApiKey, 'name' | 'permissions' | 'ownerId' | 'rateLimitPerMinute' | 'expiresAt'>, actor: Actor) {
    const value = newApiKeyValue(tenant.slug);
    await queries.apiKeys.insert(tx, {
      ...fields, id: value.id, tenantId: tenant.id, serviceUserId: account.id, secretHash: hashApiKeySecret(hmacKey, value.id, value.secret),
      createdBy: `${actor.type}:${actor.id ?? ''}`,
    });
    return { stored: (await queries.apiKeys.find(tx, tenant.id, value.id))!, value: value.value };
  }

  return {
    /** Authenticates a presented key value (the admin API, and any endpoint that accepts keys). */
    check: createApiKeyGate(ctx, hmacKey, usage),

    async create(tenantSlug: string, accountRef: string, raw: ApiKeyInput, actor: Actor) {
      const input = parseInput(apiKeyInput, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const account = await requireKeyHolder(tx, tenant.id, accountRef);
        // 1. An end within the tenant's maximum; a person responsible for the key.
        const policy = checkEnd(tenant, input.expiresAt);
        const ownerRef = input.owner ?? (actor.type === 'user' ? actor.id : undefined);
        if (!ownerRef) throw new ValidationError('owner: name the person responsible for this key');
        const owner = await findUser(tx, tenant.id, ownerRef).catch(() => undefined);
        if (!owner || owner.kind !== 'human' || owner.status !== 'active') throw new ValidationError(`owner: "${ownerRef}" is not an active person of this tenant`);
        // 2. Nothing the account lacks, nothing the caller lacks (no escalation).
        const permissions = [...new Set(input.permissions)].sort();
        await assertMayIssue(tx, tenant, actor, account, permissions, 'issue a key carrying');
        // 3. Stored hashed, audited without the secret, shown once.
        const { stored, value } = await issue(tx, tenant, account, {
          name: input.name, permissions, ownerId: owner.id, expiresAt: input.expiresAt, rateLimitPerMinute: input.rateLimitPerMinute ?? policy.defaultRateLimitPerMinute,
        }, actor);
        const shown = publicApiKey(stored, { account: account.username, owner: owner.username });
        await audit.record({ tenantId: tenant.id, actor, action: 'api_key.create', target: { type: 'api_key', id: stored.id }, after: shown }, tx);
        return { ...shown, key: value };
      });
    },

    /** Keys of the tenant (of one account, or owned by one person), with last use and uses per day over 30 days. */
    async list(tenantSlug: string, filter: { account?: string; owner?: string } = {}) {
      const tenant = await requireTenant(storage, tenantSlug);
      const account = filter.account ? await requireKeyHolder(storage, tenant.id, filter.account) : undefined;
      const owner = filter.owner ? await findUser(storage, tenant.id, filter.owner) : undefined;
      const keys = (await queries.apiKeys.list(storage, tenant.id, account?.id)).filter((k) => !owner || k.ownerId === owner.id);
      const [uses, users] = await Promise.all([usage.perDay(keys.map((k) => k.id), 30), storage.users.findBy({ tenantId: tenant.id })]);
      const names = new Map(users.map((u) => [u.id, u.username]));
      return keys.map((k) => ({ ...publicApiKey(k, { account: names.get(k.serviceUserId), owner: k.ownerId ? names.get(k.ownerId) : null }), usesPerDay: uses.get(k.id) ?? {} }));
    },

    /** A new key carrying the same; the old one keeps working `overlapMinutes` more, then stops. */
    async rotate(tenantSlug: string, id: string, raw: ApiKeyRotation, actor: Actor) {
      const input = parseInput(apiKeyRotation, raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const old = await requireKey(tx, tenant, id);
        if (old.revokedAt || old.expiresAt <= new Date()) throw new ConflictError('this key has been revoked or has expired: create a new one');
        if (old.replacedBy) throw new ConflictError('this key has already been rotated: rotate its replacement');
        checkEnd(tenant, input.expiresAt);
        const account = (await tx.users.findOneBy({ tenantId: tenant.id, id: old.serviceUserId }))!;
        await assertMayIssue(tx, tenant, actor, account, old.permissions, 'rotate a key carrying');
        const { stored, value } = await issue(tx, tenant, account, { ...old, expiresAt: input.expiresAt }, actor);
        const oldEnd = new Date(Date.now() + input.overlapMinutes * 60_000);
        await queries.apiKeys.replace(tx, tenant.id, old.id, stored.id, oldEnd);
        const previous = (await queries.apiKeys.find(tx, tenant.id, old.id))!;
        const shown = publicApiKey(stored, { account: account.username });
        await audit.record({
          tenantId: tenant.id, actor, action: 'api_key.rotate', target: { type: 'api_key', id: old.id }, before: publicApiKey(old), after: publicApiKey(previous),
          details: { replacedBy: stored.id, overlapMinutes: input.overlapMinutes, previousKeyEndsAt: previous.expiresAt },
        }, tx);
        return { ...shown, key: value, previous: { id: previous.id, expiresAt: previous.expiresAt } };
      });
    },

    /** Revokes a key now: the next request with it is refused on every node (keys are read on every use). */
    async revoke(tenantSlug: string, id: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const key = await requireKey(tx, tenant, id);
        if (!(await queries.apiKeys.revoke(tx, tenant.id, key.id))) return;
        await audit.record({ tenantId: tenant.id, actor, action: 'api_key.revoke', target: { type: 'api_key', id: key.id }, before: publicApiKey(key), after: publicApiKey({ ...key, revokedAt: new Date() }) }, tx);
      });
    },
  };
}
export type ApiKeyService = ReturnType<typeof createApiKeyService>;
