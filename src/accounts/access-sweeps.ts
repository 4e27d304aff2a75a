// The periodic side of emergency access and elevation: break-glass uses nobody has reviewed are
// re-alerted to their reviewers once a day, and elevation requests nobody decided in time lapse.
// A job on every node runs the round; a lock in the shared ephemeral store lets one node do it.
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { Elevations } from './elevation-service.ts';
import type { EmergencyAccess } from './emergency-access-service.ts';

export const REMIND_EVERY_MS = 24 * 3600_000;

interface SweepDeps {
  emergency: EmergencyAccess;
  elevations: Elevations;
  ephemeral: EphemeralStore;
  onError(error: Error): void;
}

/** Runs a round every `intervalMs` on this node (skipped when another node holds the lock); returns a stop function. */
export function scheduleAccessSweeps(deps: SweepDeps, intervalMs: number): () => void {
  const lockSeconds = Math.max(1, Math.floor(intervalMs / 1000) - 1);
  const round = async () => {
    if (!(await deps.ephemeral.setIfAbsent('jobs:access-sweeps:lock', String(process.pid), lockSeconds))) return;
    await deps.elevations.expirePending();
    await deps.emergency.remindUnreviewed(new Date(Date.now() - REMIND_EVERY_MS));
  };
  const timer = setInterval(() => void round().catch(deps.onError), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
