// What an API key is to the rest of Caregate: when it works, how it is shown (never its secret or
// its hash), the shapes administrators send, and which accounts may hold keys.
import { z } from 'zod';
import { isPermission } from '../authz/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { ApiKey, Repos, User } from '../storage/index.ts';
import { findUser } from './find-user.ts';

/** A key works until it is revoked or reaches its end (a rotation's overlap shortens the end). */
export function apiKeyUsable(key: Pick<ApiKey, 'revokedAt' | 'expiresAt'>, now = new Date()): boolean {
  return !key.revokedAt && key.expiresAt > now;
}

export type ApiKeyState = 'active' | 'rotating' | 'expired' | 'revoked';

export function apiKeyState(key: ApiKey, now = new Date()): ApiKeyState {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt <= now) return 'expired';
  return key.replacedBy ? 'rotating' : 'active';
}

/** A key as the API shows it: what it carries, whose it is, its state and use; never its secret or hash. */
export function publicApiKey(key: ApiKey, names: { account?: string; owner?: string | null } = {}) {
  const { secretHash: _hash, ...rest } = key;
  return { ...rest, account: names.account, owner: names.owner ?? null, state: apiKeyState(key) };
}

const permission = z.string().max(200).refine(isPermission, 'must be a permission such as "caregate.users:read" or "reports:*"');
const future = z.coerce.date().refine((d) => d.getTime() > Date.now(), 'must be in the future');

export const serviceAccountInput = z.strictObject({
  username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be lowercase letters, digits, ".", "-" or "_" (max 64)').describe('The account\'s name, unique among the tenant\'s users'),
  displayName: z.string().min(1).max(200).optional(),
});

export const apiKeyInput = z.strictObject({
  name: z.string().min(1).max(200).describe('What the key is for ("nightly export to the data warehouse")'),
  permissions: z.array(permission).min(1).max(200).describe("The permissions the key carries: a subset of its account's; the caller must hold them too"),
  expiresAt: future.describe("When the key stops working (required; at most the tenant's apiKeys.maxLifetimeDays ahead)"),
  owner: z.string().min(1).max(128).optional().describe('The person responsible for the key (id or username; default: the caller)'),
  rateLimitPerMinute: z.int().min(1).max(100_000).optional().describe("Requests per minute (default: the tenant's apiKeys.defaultRateLimitPerMinute)"),
});

export const apiKeyRotation = z.strictObject({
  overlapMinutes: z.int().min(0).max(7 * 24 * 60).default(60).describe('Minutes the old key keeps working (default 60, at most 7 days; 0 ends it at once)'),
  expiresAt: future.describe('When the new key stops working (required, as at creation)'),
});

export type ServiceAccountInput = z.input<typeof serviceAccountInput>;
export type ApiKeyInput = z.input<typeof apiKeyInput>;
export type ApiKeyRotation = z.input<typeof apiKeyRotation>;

/**
 * A service account that may hold keys: one an administrator created for an integration, not an
 * application's (that one authenticates with the application's client secret and goes with it).
 */
export async function requireKeyHolder(repos: Repos, tenantId: string, ref: string): Promise<User> {
  const user = await findUser(repos, tenantId, ref).catch(() => undefined);
  if (!user || user.kind !== 'service') throw new NotFoundError(`service account "${ref}" does not exist`);
  if (await repos.applications.findOneBy({ tenantId, serviceUserId: user.id })) {
    throw new ConflictError(`"${user.username}" is an application's service account: it authenticates with the application's client secret, not with API keys`);
  }
  return user;
}
