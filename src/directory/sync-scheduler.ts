// The server syncs each enabled source on its schedule: incremental every `syncIntervalMinutes`,
// full once `fullSyncHours` have passed since the last full run. Every node ticks; a claim in the
// shared ephemeral store gives each interval of a source to one node, and the run's own lock keeps
// a slow run from overlapping the next.
import { queries, type Storage } from '../storage/index.ts';
import { DirectoryError } from './directory-error.ts';
import type { DirectorySync } from './directory-sync.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { SyncSummary } from './sync-engine.ts';

export interface SchedulerDeps {
  storage: Storage;
  ephemeral: EphemeralStore;
  directory: DirectorySync;
  onError(error: Error, source: string): void;
  onRun(summary: SyncSummary): void;
}

/** Runs every source that is due; returns what ran (tests call it directly). */
export async function syncDueSources(deps: SchedulerDeps, now = new Date()): Promise<SyncSummary[]> {
  const sources = await queries.directorySources.enabledWithSchedule(deps.storage);
  const ran: SyncSummary[] = [];
  for (const source of sources) {
    const minutes = source.syncIntervalMinutes ?? 15; // stored settings hold only what the admin gave
    if (minutes === 0) continue;
    if (source.lastStartedAt && now.getTime() - source.lastStartedAt.getTime() < minutes * 60_000) continue;
    if (!(await deps.ephemeral.setIfAbsent(`directory:schedule:${source.id}`, String(process.pid), Math.max(1, minutes * 60 - 5)))) continue;
    const full = !source.lastFullSyncAt || now.getTime() - source.lastFullSyncAt.getTime() >= (source.fullSyncHours ?? 24) * 3_600_000;
    try {
      const summary = await deps.directory.sync(source.slug, source.key, { full, trigger: 'schedule', actor: { type: 'system', id: 'directory-schedule' } });
      ran.push(summary);
      deps.onRun(summary);
    } catch (error) {
      if (!(error instanceof DirectoryError && error.reason === 'busy')) deps.onError(error as Error, `${source.slug}/${source.key}`);
    }
  }
  return ran;
}

/** Ticks every `tickMs` on this node; returns a function that stops it. */
export function scheduleDirectorySync(deps: SchedulerDeps, tickMs = 60_000): () => void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    void syncDueSources(deps).catch((error: Error) => deps.onError(error, 'schedule')).finally(() => { running = false; });
  };
  const timer = setInterval(tick, tickMs);
  timer.unref();
  return () => clearInterval(timer);
}
