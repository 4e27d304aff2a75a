// API keys and their daily use counts (migration 0014). A key is read by id on every use, so a
// revocation or a rotation's end holds on every node with the next request.
import type { ApiKey } from '../entities/api-key.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

const COLUMNS = `id, tenant_id AS "tenantId", service_user_id AS "serviceUserId", owner_id AS "ownerId", name,
  secret_hash AS "secretHash", permissions, rate_limit_per_minute AS "rateLimitPerMinute", expires_at AS "expiresAt",
  revoked_at AS "revokedAt", replaced_by AS "replacedBy", last_used_at AS "lastUsedAt", created_by AS "createdBy", created_at AS "createdAt"`;

const row = (r: ApiKey): ApiKey => ({ ...r, expiresAt: new Date(r.expiresAt), revokedAt: r.revokedAt && new Date(r.revokedAt), lastUsedAt: r.lastUsedAt && new Date(r.lastUsedAt), createdAt: new Date(r.createdAt) });

export type NewApiKey = Omit<ApiKey, 'revokedAt' | 'replacedBy' | 'lastUsedAt' | 'createdAt'>;

export async function insert(db: Repos, key: NewApiKey): Promise<void> {
  await exec(db, `INSERT INTO api_keys (id, tenant_id, service_user_id, owner_id, name, secret_hash, permissions, rate_limit_per_minute, expires_at, created_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
  [key.id, key.tenantId, key.serviceUserId, key.ownerId, key.name, key.secretHash, JSON.stringify(key.permissions), key.rateLimitPerMinute, key.expiresAt, key.createdBy]);
}

/** One key of a tenant, whatever its state. */
export async function find(db: Repos, tenantId: string, id: string): Promise<ApiKey | undefined> {
  const [found] = await exec<ApiKey>(db, `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return found && row(found);
}

/** The keys of a tenant, or of one service account, newest first. */
export async function list(db: Repos, tenantId: string, serviceUserId?: string): Promise<ApiKey[]> {
  const rows = await exec<ApiKey>(db, `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND ($2::uuid IS NULL OR service_user_id = $2) ORDER BY created_at DESC, id`, [tenantId, serviceUserId ?? null]);
  return rows.map(row);
}

/** Revokes a key now; false when it was already revoked. */
export async function revoke(db: Repos, tenantId: string, id: string): Promise<boolean> {
  return (await exec(db, `UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id`, [tenantId, id])).length > 0;
}

/** A rotation: the old key ends at `endsAt` (never later than it would have) and names its replacement. */
export async function replace(db: Repos, tenantId: string, id: string, replacedBy: string, endsAt: Date): Promise<void> {
  await exec(db, `UPDATE api_keys SET replaced_by = $3, expires_at = LEAST(expires_at, $4) WHERE tenant_id = $1 AND id = $2`, [tenantId, id, replacedBy, endsAt]);
}

/**
 * Records a use: true for the one caller per key and minute that moved last_used_at (that caller
 * then flushes the counts), so a busy key costs one UPDATE a minute, not one per request.
 */
export async function touch(db: Repos, id: string): Promise<boolean> {
  return (await exec(db, `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') RETURNING id`, [id])).length > 0;
}

/** Adds uses to a key's count for a day (UTC date, YYYY-MM-DD). */
export async function addUses(db: Repos, keyId: string, day: string, uses: number): Promise<void> {
  await exec(db, `INSERT INTO api_key_usage (key_id, day, uses) VALUES ($1, $2::date, $3)
    ON CONFLICT (key_id, day) DO UPDATE SET uses = api_key_usage.uses + EXCLUDED.uses`, [keyId, day, uses]);
}

/** Uses per day of the given keys since `since` (a UTC date), oldest day first. */
export async function usage(db: Repos, keyIds: string[], since: string): Promise<Array<{ keyId: string; day: string; uses: number }>> {
  if (!keyIds.length) return [];
  const rows = await exec<{ keyId: string; day: string; uses: string }>(db,
    `SELECT key_id AS "keyId", to_char(day, 'YYYY-MM-DD') AS day, uses::text AS uses FROM api_key_usage WHERE key_id = ANY($1::uuid[]) AND day >= $2::date ORDER BY day`, [keyIds, since]);
  return rows.map((r) => ({ keyId: r.keyId, day: r.day, uses: Number(r.uses) }));
}
