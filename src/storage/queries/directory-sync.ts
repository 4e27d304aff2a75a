// A directory sync's own rows: its runs (progress, heartbeat, result), its source's watermark, the
// identities it linked, and the status changes it makes to the people behind them.
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** A person the source linked, as a sync plans with them. */
export interface DirectoryLink {
  subject: string;
  userId: string;
  username: string;
  status: string;
  disabledAt: Date | null;
  digest: string | null;
  profile: Record<string, string> | null;
}

export async function links(db: Repos, tenantId: string, upstream: string): Promise<DirectoryLink[]> {
  const rows = await exec(db,
    `SELECT ui.subject, ui.user_id, u.username, u.status, ui.disabled_at, ui.sync_digest, ui.profile
       FROM user_identities ui JOIN users u ON u.id = ui.user_id WHERE ui.tenant_id = $1 AND ui.upstream = $2`,
    [tenantId, upstream]);
  return rows.map((r) => ({ subject: r.subject, userId: r.user_id, username: r.username, status: r.status, disabledAt: r.disabled_at, digest: r.sync_digest, profile: r.profile }));
}

/** A run whose node died left its row "running": it stopped when its heartbeat did. */
export async function abandonRunning(db: Repos, sourceId: string): Promise<void> {
  await exec(db, `UPDATE directory_runs SET status = 'failed', finished_at = now(), error = 'abandoned: its process stopped' WHERE source_id = $1 AND status = 'running'`, [sourceId]);
}

export async function heartbeat(db: Repos, runId: string, progress: object): Promise<void> {
  await exec(db, 'UPDATE directory_runs SET progress = $2, heartbeat_at = now() WHERE id = $1', [runId, JSON.stringify(progress)]);
}

export async function finishRun(db: Repos, runId: string, result: { status: string; progress: object; summary: object; error: string | null; mode: string }): Promise<void> {
  await exec(db, 'UPDATE directory_runs SET status = $2, finished_at = now(), progress = $3, summary = $4, error = $5, mode = $6 WHERE id = $1',
    [runId, result.status, JSON.stringify(result.progress), JSON.stringify(result.summary), result.error, result.mode]);
}

/** After a run that applied everything: the new watermark (when the server gave one), and the time of a full run. */
export async function advance(db: Repos, sourceId: string, watermark: object | undefined, full: boolean): Promise<void> {
  await exec(db,
    `UPDATE directory_sources SET watermark = CASE WHEN $2::boolean THEN $3::jsonb ELSE watermark END,
       last_full_sync_at = CASE WHEN $4::boolean THEN now() ELSE last_full_sync_at END WHERE id = $1`,
    [sourceId, Boolean(watermark), JSON.stringify(watermark ?? null), full]);
}

/** Disables an active user because the source did (false: not active, nothing changed); the link remembers it. */
export async function disableLinked(db: Repos, link: { tenantId: string; userId: string; upstream: string; subject: string }): Promise<boolean> {
  const [row] = await exec(db, `UPDATE users SET status = 'disabled', updated_at = now() WHERE id = $1 AND tenant_id = $2 AND status = 'active' RETURNING id`, [link.userId, link.tenantId]);
  if (!row) return false;
  await exec(db, 'UPDATE user_identities SET disabled_at = now() WHERE tenant_id = $1 AND upstream = $2 AND subject = $3', [link.tenantId, link.upstream, link.subject]);
  return true;
}

/** Enables a user the source had disabled, noting when (the inactivity rule counts from then). */
export async function reenableLinked(db: Repos, link: { tenantId: string; userId: string; upstream: string; subject: string }): Promise<void> {
  await exec(db, `UPDATE users SET status = 'active', reenabled_at = now(), updated_at = now() WHERE id = $1 AND tenant_id = $2 AND status = 'disabled'`, [link.userId, link.tenantId]);
  await exec(db, 'UPDATE user_identities SET disabled_at = NULL WHERE tenant_id = $1 AND upstream = $2 AND subject = $3', [link.tenantId, link.upstream, link.subject]);
}

/**
 * Runs `work` in a savepoint of the caller's transaction: when it throws an error `undo` accepts,
 * only its writes are rolled back and the error is returned; any other error is rethrown.
 */
export async function inSavepoint<T>(tx: Repos, work: () => Promise<T>, undo: (error: unknown) => boolean): Promise<{ value: T } | { error: unknown }> {
  await exec(tx, 'SAVEPOINT person');
  try {
    const value = await work();
    await exec(tx, 'RELEASE SAVEPOINT person');
    return { value };
  } catch (error) {
    if (!undo(error)) throw error;
    await exec(tx, 'ROLLBACK TO SAVEPOINT person');
    return { error };
  }
}
