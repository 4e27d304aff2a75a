// LDAP / Active Directory sources as the scheduler sees them: which are enabled, how often they
// sync, and when they last ran.
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

export interface ScheduledSource {
  id: string;
  key: string;
  /** The tenant's slug. */
  slug: string;
  /** As the admin gave them (null: not given). */
  syncIntervalMinutes: number | null;
  fullSyncHours: number | null;
  lastFullSyncAt: Date | null;
  /** The start of the last run that was not a dry run. */
  lastStartedAt: Date | null;
}

/** Every enabled source of every tenant, with its schedule settings and last runs. */
export async function enabledWithSchedule(db: Repos): Promise<ScheduledSource[]> {
  const rows = await exec<{ id: string; key: string; slug: string; interval: number | null; full_hours: number | null; last_full: Date | null; last_start: Date | null }>(
    db,
    `SELECT s.id, s.key, t.slug, (s.settings->>'syncIntervalMinutes')::int AS interval, (s.settings->>'fullSyncHours')::int AS full_hours, s.last_full_sync_at AS last_full,
            (SELECT max(r.started_at) FROM directory_runs r WHERE r.source_id = s.id AND NOT r.dry_run) AS last_start
       FROM directory_sources s JOIN tenants t ON t.id = s.tenant_id WHERE s.enabled`,
  );
  return rows.map((r) => ({
    id: r.id, key: r.key, slug: r.slug, syncIntervalMinutes: r.interval, fullSyncHours: r.full_hours,
    lastFullSyncAt: r.last_full && new Date(r.last_full), lastStartedAt: r.last_start && new Date(r.last_start),
  }));
}
