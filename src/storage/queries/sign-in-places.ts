// The places each person has signed in from (migration 0015): device cookies (hashed) and address
// neighbourhoods. Kept bounded: only the most recently seen few of each kind per person stay.
import type { SignInPlace } from '../entities/network-rule.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** How many places of each kind a person keeps; the least recently seen go first. */
export const PLACES_KEPT = 20;

/** Whether the person has any place remembered yet (before the first sign-in noted, none). */
export async function hasAny(db: Repos, userId: string): Promise<boolean> {
  return (await exec(db, 'SELECT 1 FROM sign_in_places WHERE user_id = $1 LIMIT 1', [userId])).length > 0;
}

/**
 * Notes a sign-in from `value` (a device or a range): true when it was new to the person. One
 * statement, so two concurrent sign-ins from the same new place tell only one of them it was new.
 */
export async function note(db: Repos, userId: string, kind: SignInPlace['kind'], value: string): Promise<boolean> {
  const [r] = await exec<{ inserted: boolean }>(db, `INSERT INTO sign_in_places (user_id, kind, value) VALUES ($1, $2, $3)
    ON CONFLICT (user_id, kind, value) DO UPDATE SET last_seen_at = now()
    RETURNING (xmax = 0) AS inserted`, [userId, kind, value]);
  await exec(db, `DELETE FROM sign_in_places WHERE user_id = $1 AND kind = $2 AND value NOT IN (
    SELECT value FROM sign_in_places WHERE user_id = $1 AND kind = $2 ORDER BY last_seen_at DESC, first_seen_at DESC LIMIT ${PLACES_KEPT})`, [userId, kind]);
  return Boolean(r?.inserted);
}

/** Whether the person has signed in from this place before. */
export async function known(db: Repos, userId: string, kind: SignInPlace['kind'], value: string): Promise<boolean> {
  return (await exec(db, 'SELECT 1 FROM sign_in_places WHERE user_id = $1 AND kind = $2 AND value = $3', [userId, kind, value])).length > 0;
}
