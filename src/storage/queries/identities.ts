// Links between users and their identities at an upstream source (a federation connection or a
// directory source), and what such a source granted: its assignments and team memberships.
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/**
 * Notes what an upstream said of an identity at a sign-in or a sync: its email, the time of a
 * sign-in (not for a sync), and a sync's record (digest and profile; the link is live again).
 */
export async function recordUse(
  db: Repos,
  key: { tenantId: string; upstream: string; subject: string },
  use: { email: string | null; signIn: boolean; record?: { syncDigest: string; profile: Record<string, string> } },
): Promise<void> {
  const { record } = use;
  await exec(
    db,
    `UPDATE user_identities SET ${use.signIn ? 'last_login_at = now(), ' : ''}email = $4${record ? ', sync_digest = $5, profile = $6, disabled_at = NULL' : ''}
      WHERE tenant_id = $1 AND upstream = $2 AND subject = $3`,
    [key.tenantId, key.upstream, key.subject, use.email, ...(record ? [record.syncDigest, JSON.stringify(record.profile)] : [])],
  );
}

/** Forgets that upstream sources disabled the user (an admin decides from now on). */
export async function clearDisabled(db: Repos, tenantId: string, userId: string): Promise<void> {
  await exec(db, 'UPDATE user_identities SET disabled_at = NULL WHERE tenant_id = $1 AND user_id = $2 AND disabled_at IS NOT NULL', [tenantId, userId]);
}

/**
 * Removes what an upstream source granted (assignments and team memberships) and its identity
 * links; the users themselves stay. Returns how many grants went.
 */
export async function removeUpstream(db: Repos, tenantId: string, upstream: string): Promise<{ assignmentsRemoved: number; membershipsRemoved: number }> {
  const [assignments, memberships] = await Promise.all([
    exec<{ id: string }>(db, 'DELETE FROM assignments WHERE tenant_id = $1 AND upstream = $2 RETURNING id', [tenantId, upstream]),
    exec<{ team_id: string }>(db, 'DELETE FROM team_members WHERE tenant_id = $1 AND upstream = $2 RETURNING team_id', [tenantId, upstream]),
  ]);
  await exec(db, 'DELETE FROM user_identities WHERE tenant_id = $1 AND upstream = $2', [tenantId, upstream]);
  return { assignmentsRemoved: assignments.length, membershipsRemoved: memberships.length };
}
