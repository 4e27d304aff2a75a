// A user's previous password hashes, newest first: what "no reuse of the last N" checks against.
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** How many previous hashes are kept per user (the policy's history count is at most this). */
const KEPT = 24;

/** The user's `limit` most recent previous hashes, newest first. */
export async function recentHashes(db: Repos, userId: string, limit: number): Promise<string[]> {
  const rows = await exec<{ password_hash: string }>(db, 'SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2', [userId, limit]);
  return rows.map((r) => r.password_hash);
}

/** Drops all but the most recent hashes kept per user. */
export async function trim(db: Repos, userId: string): Promise<void> {
  await exec(db, `DELETE FROM password_history WHERE user_id = $1 AND id NOT IN (SELECT id FROM password_history WHERE user_id = $1 ORDER BY created_at DESC LIMIT ${KEPT})`, [userId]);
}
