// The users table's SQL and its one row mapper: sign-in lookups and writes that skip the ORM (hot
// paths, and writes that must not touch updated_at), uniqueness checks, lock state, passwords and
// the inactivity sweep. Entity-shaped reads and profile writes go through the `users` repository.
import type { User } from '../entities/index.ts';
import type { Repos } from '../storage.ts';
import { exec, prepared } from './sql.ts';

/** Maps a raw `SELECT * FROM users` row. */
export function userFromRow(row: Record<string, any>): User {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    username: row.username,
    email: row.email,
    phone: row.phone,
    displayName: row.display_name,
    status: row.status,
    kind: row.kind,
    phiAccess: row.phi_access,
    outsideVendor: row.outside_vendor,
    source: row.source,
    externalId: row.external_id,
    passwordHash: row.password_hash,
    lastLoginAt: row.last_login_at && new Date(row.last_login_at),
    mustChangePassword: row.must_change_password,
    passwordChangedAt: row.password_changed_at && new Date(row.password_changed_at),
    lockedAt: row.locked_at && new Date(row.locked_at),
    expiresAt: row.expires_at && new Date(row.expires_at),
    reenabledAt: row.reenabled_at ? new Date(row.reenabled_at) : null,
    ownership: row.ownership ?? null,
    givenName: row.given_name ?? null,
    familyName: row.family_name ?? null,
    userType: row.user_type ?? null,
    attributes: row.attributes ?? {},
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** One query (on the case-insensitive unique indexes): the human user whose username, else email, matches. */
export async function findByLogin(db: Repos, tenantId: string, login: string): Promise<User | undefined> {
  // PostgreSQL text cannot hold NUL (the query would fail): no username or email contains one.
  if (login.includes('\0')) return undefined;
  const [row] = await exec(
    db,
    `SELECT * FROM users WHERE tenant_id = $1 AND kind = 'human' AND (lower(username) = lower($2) OR lower(email) = lower($2))
      ORDER BY (lower(username) = lower($2)) DESC LIMIT 1`,
    [tenantId, login],
  );
  return row ? userFromRow(row) : undefined;
}

/** The id of the tenant's user with this username (any case), if there is one. */
export async function findIdByUsername(db: Repos, tenantId: string, username: string): Promise<string | undefined> {
  const [row] = await exec<{ id: string }>(db, 'SELECT id FROM users WHERE tenant_id = $1 AND lower(username) = lower($2)', [tenantId, username]);
  return row?.id;
}

/** The id of the tenant's human user with this email (any case), if there is one. */
export async function findIdByEmail(db: Repos, tenantId: string, email: string): Promise<string | undefined> {
  const [row] = await exec<{ id: string }>(db, `SELECT id FROM users WHERE tenant_id = $1 AND kind = 'human' AND lower(email) = lower($2)`, [tenantId, email]);
  return row?.id;
}

/** True when a user of the tenant holds this username (any case). */
export async function usernameTaken(db: Repos, tenantId: string, username: string): Promise<boolean> {
  const [taken] = await exec(db, 'SELECT 1 FROM users WHERE tenant_id = $1 AND lower(username) = lower($2)', [tenantId, username]);
  return Boolean(taken);
}

/** Names the field (username or email) a user of the tenant already holds, if any. */
export async function takenField(db: Repos, tenantId: string, username: string, email: string | null): Promise<'username' | 'email' | undefined> {
  const [row] = await exec<{ taken: 'username' | 'email' }>(
    db,
    `SELECT CASE WHEN lower(username) = lower($2) THEN 'username' ELSE 'email' END AS taken
       FROM users WHERE tenant_id = $1 AND (lower(username) = lower($2) OR lower(email) = lower($3)) LIMIT 1`,
    [tenantId, username, email],
  );
  return row?.taken;
}

const RECORD_SIGN_IN = prepared('UPDATE users SET last_login_at = now() WHERE id = $1');
const RECORD_SIGN_IN_REHASHED = prepared('UPDATE users SET last_login_at = now(), password_hash = coalesce($2, password_hash) WHERE id = $1');

/**
 * Notes a sign-in, and stores a password hash upgraded to the current parameters when one is given.
 * Not a profile change: updated_at stays as it was.
 */
export async function recordSignIn(db: Repos, userId: string, rehashed?: string | null): Promise<void> {
  if (rehashed === undefined) await exec(db, RECORD_SIGN_IN, [userId]);
  else await exec(db, RECORD_SIGN_IN_REHASHED, [userId, rehashed]);
}

/** Locks an active account until an admin unlocks it (lockout policy "admin"). */
export async function lock(db: Repos, userId: string): Promise<void> {
  await exec(db, `UPDATE users SET status = 'locked', locked_at = now() WHERE id = $1 AND status = 'active'`, [userId]);
}

/** Ends a lock kept in the database: the account is active again. */
export async function unlock(db: Repos, userId: string): Promise<void> {
  await exec(db, `UPDATE users SET status = 'active', locked_at = NULL, updated_at = now() WHERE id = $1`, [userId]);
}

/** Stores a new password hash; `activate` makes an invited account active. */
export async function setPassword(db: Repos, userId: string, hash: string, opts: { mustChange: boolean; activate: boolean }): Promise<void> {
  await exec(
    db,
    `UPDATE users SET password_hash = $2, password_changed_at = now(), must_change_password = $3, updated_at = now(),
       status = CASE WHEN $4 AND status = 'invited' THEN 'active' ELSE status END WHERE id = $1`,
    [userId, hash, opts.mustChange, opts.activate],
  );
}

/**
 * Expires the tenant's active human accounts unused for `days`; last use is the latest of
 * creation, last sign-in and an admin's re-enabling. Returns them with that moment.
 */
export async function expireInactive(db: Repos, tenantId: string, days: number): Promise<Array<{ id: string; username: string; lastUsedAt: Date }>> {
  const rows = await exec<{ id: string; username: string; last_used: number }>(
    db,
    `UPDATE users SET status = 'expired', updated_at = now()
      WHERE tenant_id = $1 AND status = 'active' AND kind = 'human'
        AND GREATEST(created_at, last_login_at, reenabled_at) < now() - make_interval(days => $2)
      RETURNING id, username, extract(epoch FROM GREATEST(created_at, last_login_at, reenabled_at))::float8 AS last_used`,
    [tenantId, days],
  );
  return rows.map((r) => ({ id: r.id, username: r.username, lastUsedAt: new Date(Number(r.last_used) * 1000) }));
}

// A batch of new people (a directory sync) asks the same two questions for all of them at once.

/** The given emails (any case) that a human user of the tenant holds, lower-cased. */
export async function heldEmails(db: Repos, tenantId: string, emails: string[]): Promise<Set<string>> {
  if (!emails.length) return new Set();
  const rows = await exec<{ email: string }>(
    db,
    `SELECT lower(email) AS email FROM users WHERE tenant_id = $1 AND kind = 'human' AND lower(email) = ANY($2::text[])`,
    [tenantId, emails.map((e) => e.toLowerCase())],
  );
  return new Set(rows.map((r) => r.email));
}

/** The given usernames (any case) that a user of the tenant holds, lower-cased. */
export async function heldUsernames(db: Repos, tenantId: string, usernames: string[]): Promise<Set<string>> {
  if (!usernames.length) return new Set();
  const rows = await exec<{ username: string }>(
    db,
    'SELECT lower(username) AS username FROM users WHERE tenant_id = $1 AND lower(username) = ANY($2::text[])',
    [tenantId, usernames.map((u) => u.toLowerCase())],
  );
  return new Set(rows.map((r) => r.username));
}
