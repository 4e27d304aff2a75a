// Single-use links (password reset, invitation), stored as a digest of the token.
import type { ActionPurpose } from '../entities/index.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';
import { notExpired } from './validity.ts';

/** Voids the user's unused links of one purpose (a new one replaces them). */
export async function voidUnused(db: Repos, userId: string, purpose: ActionPurpose): Promise<void> {
  await exec(db, `UPDATE action_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, [userId, purpose]);
}

/** Marks the link used, atomically: true for the one caller that used it while it was unused and live. */
export async function use(db: Repos, tokenId: string): Promise<boolean> {
  const rows = await exec(db, `UPDATE action_tokens SET used_at = now() WHERE id = $1 AND used_at IS NULL AND ${notExpired('expires_at')} RETURNING id`, [tokenId]);
  return rows.length > 0;
}
