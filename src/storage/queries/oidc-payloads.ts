// oidc-provider's durable artefacts (grants, refresh tokens), one row per model and id, with the
// columns it looks them up by. Revocation by account, sign-on session or client deletes them here.
import type { Repos } from '../storage.ts';
import { exec, prepared } from './sql.ts';
import { expired, notExpired } from './validity.ts';

/** One tenant's rows of one model. */
export interface PayloadModel {
  tenantId: string;
  model: string;
}

/** What a stored payload carries beyond its own fields: the ids it is also found or revoked by. */
export interface StoredPayload {
  grantId?: string;
  uid?: string;
  userCode?: string;
}

// `consumed` lives in its own column: marking a payload consumed then changes no indexed column, so
// PostgreSQL updates the row in place (a HOT update) instead of rewriting the JSON and adding an
// entry to each of the table's four indexes. A read puts it back into the payload, where
// oidc-provider looks for it (epoch seconds, as it gave them).
const findBy = (column: 'id' | 'uid' | 'user_code') => prepared(
  `SELECT payload, extract(epoch FROM consumed_at)::float8 AS consumed FROM oidc_payloads
    WHERE tenant_id = $1 AND model = $2 AND ${column} = $3 AND ${notExpired('expires_at')}`,
);
const FIND = { id: findBy('id'), uid: findBy('uid'), user_code: findBy('user_code') };

/** The live (not expired) payload whose `column` is `value`. */
export async function find<T extends StoredPayload>(db: Repos, { tenantId, model }: PayloadModel, column: 'id' | 'uid' | 'user_code', value: string): Promise<T | undefined> {
  const [row] = await exec<{ payload: T; consumed: number | null }>(db, FIND[column], [tenantId, model, value]);
  if (!row) return undefined;
  return row.consumed === null ? row.payload : { ...row.payload, consumed: row.consumed };
}

const UPSERT = prepared(
  `INSERT INTO oidc_payloads (tenant_id, model, id, payload, grant_id, uid, user_code, expires_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
   ON CONFLICT (tenant_id, model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
     uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
);

/** Stores the payload under its id (replacing one there), to expire at `expiresAt` (null: never). */
export async function upsert(db: Repos, { tenantId, model }: PayloadModel, id: string, payload: StoredPayload, expiresAt: Date | null): Promise<void> {
  await exec(
    db,
    UPSERT,
    [tenantId, model, id, JSON.stringify(payload), payload.grantId ?? null, payload.uid ?? null, payload.userCode ?? null, expiresAt],
  );
}

const CONSUME = prepared(
  `UPDATE oidc_payloads SET consumed_at = to_timestamp($4::bigint)
    WHERE tenant_id = $1 AND model = $2 AND id = $3 AND consumed_at IS NULL RETURNING id`,
);

/**
 * Marks the payload consumed at `consumedAt` (epoch seconds; `find` gives it back in the payload) in
 * one atomic statement: true for the one caller that consumed it, false when it was already consumed or is gone.
 */
export async function consume(db: Repos, { tenantId, model }: PayloadModel, id: string, consumedAt: number): Promise<boolean> {
  const rows = await exec(db, CONSUME, [tenantId, model, id, consumedAt]);
  return rows.length > 0;
}

// The successor is inserted by the same statement that consumes the token it replaces, and only if
// that consumption took place: both happen, or neither does.
const ROTATE = prepared(
  `WITH consumed AS (
     UPDATE oidc_payloads SET consumed_at = to_timestamp($10::bigint)
      WHERE tenant_id = $1 AND model = $2 AND id = $9 AND consumed_at IS NULL RETURNING id
   )
   INSERT INTO oidc_payloads (tenant_id, model, id, payload, grant_id, uid, user_code, expires_at)
   SELECT $1::uuid, $2::text, $3::text, $4::jsonb, $5::text, $6::text, $7::text, $8::timestamptz FROM consumed
   ON CONFLICT (tenant_id, model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
     uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at
   RETURNING id`,
);

/**
 * A rotation in one statement: consumes `consumed.id` at `consumed.at` (epoch seconds, as `consume`
 * does) and stores the payload under `id` (as `upsert` does) — true when both happened; false, with
 * nothing stored, when `consumed.id` was already consumed or is gone.
 */
export async function rotate(
  db: Repos, { tenantId, model }: PayloadModel, consumed: { id: string; at: number }, id: string, payload: StoredPayload, expiresAt: Date | null,
): Promise<boolean> {
  const rows = await exec(db, ROTATE, [
    tenantId, model, id, JSON.stringify(payload), payload.grantId ?? null, payload.uid ?? null, payload.userCode ?? null, expiresAt, consumed.id, consumed.at,
  ]);
  return rows.length > 0;
}

const DESTROY = prepared('DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND id = $3');

export async function destroy(db: Repos, { tenantId, model }: PayloadModel, id: string): Promise<void> {
  await exec(db, DESTROY, [tenantId, model, id]);
}

export async function revokeByGrantId(db: Repos, { tenantId, model }: PayloadModel, grantId: string): Promise<void> {
  await exec(db, 'DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND grant_id = $3', [tenantId, model, grantId]);
}

/** Every grant and refresh token of a user. */
export async function revokeForAccount(db: Repos, tenantId: string, userId: string): Promise<void> {
  await exec(db, `DELETE FROM oidc_payloads WHERE tenant_id = $1 AND payload->>'accountId' = $2`, [tenantId, userId]);
}

/** The refresh tokens issued within one sign-on session. */
export async function revokeForSession(db: Repos, tenantId: string, sessionUid: string): Promise<void> {
  await exec(db, `DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = 'RefreshToken' AND payload->>'sessionUid' = $2`, [tenantId, sessionUid]);
}

/** Everything issued to one client. */
export async function revokeForClient(db: Repos, tenantId: string, clientId: string): Promise<void> {
  await exec(db, `DELETE FROM oidc_payloads WHERE tenant_id = $1 AND payload->>'clientId' = $2`, [tenantId, clientId]);
}

/** Removes the expired payloads of every tenant. */
export async function removeExpired(db: Repos): Promise<void> {
  await exec(db, `DELETE FROM oidc_payloads WHERE ${expired('expires_at')}`);
}
