// Second factors (TOTP, passkeys, email, SMS) and recovery codes: reads that skip the ORM on the
// sign-in path, the atomic use of a recovery code, and the one row mapper of mfa_factors.
import type { MfaFactor } from '../entities/index.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** Maps a raw `SELECT * FROM mfa_factors` row. */
function factorFromRow(row: Record<string, any>): MfaFactor {
  return {
    id: row.id, tenantId: row.tenant_id, userId: row.user_id, type: row.type, name: row.name, secretSealed: row.secret_sealed,
    credentialId: row.credential_id, data: row.data ?? {}, confirmedAt: row.confirmed_at && new Date(row.confirmed_at),
    lastUsedAt: row.last_used_at && new Date(row.last_used_at), createdAt: new Date(row.created_at),
  };
}

/** The user's confirmed factors, oldest first. */
export async function confirmed(db: Repos, userId: string): Promise<MfaFactor[]> {
  const rows = await exec(db, `SELECT * FROM mfa_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL ORDER BY created_at`, [userId]);
  return rows.map(factorFromRow);
}

/** Records a successful use, and a passkey's new signature counter when given. */
export async function recordUse(db: Repos, factorId: string, counter?: number): Promise<void> {
  if (counter === undefined) await exec(db, 'UPDATE mfa_factors SET last_used_at = now() WHERE id = $1', [factorId]);
  else await exec(db, `UPDATE mfa_factors SET last_used_at = now(), data = jsonb_set(data, '{counter}', to_jsonb($2::bigint)) WHERE id = $1`, [factorId, counter]);
}

/** Uses the user's unused recovery code with this hash, atomically: true for the one caller that used it. */
export async function useRecoveryCode(db: Repos, userId: string, codeHash: string): Promise<boolean> {
  const rows = await exec(db, 'UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id', [userId, codeHash]);
  return rows.length > 0;
}

/** How many of the user's recovery codes are unused. */
export async function recoveryCodesLeft(db: Repos, userId: string): Promise<number> {
  const [{ left }] = await exec<{ left: number }>(db, 'SELECT count(*)::int AS left FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
  return left;
}
