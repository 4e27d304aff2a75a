// Health: GET /health answers which stores respond (200, or 503 naming the one that does not);
// /health/live only that the process answers (a restart would not bring a store back), and
// /health/ready that this node can serve: both stores reachable and the schema migrated. A monitor
// keeps the store answer fresh so requests can fail closed without a probe each.
import type { Context } from 'koa';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { Storage } from '../storage/index.ts';

type Status = 'up' | 'down';
export interface StoreStatus {
  database: Status;
  ephemeral: Status;
}

/**
 * `p`, or a rejection once `ms` have passed without its answer. The verdict waits for the event
 * loop's next I/O poll (setImmediate): after a stall of this process (a busy core, a long
 * collection) the timer is served before the answer that arrived meanwhile, and a store that did
 * answer in time would be called down.
 */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => setImmediate(() => reject(new Error('timeout'))), ms).unref())]);

/** Exported for its test: which stores answer a ping within `timeoutMs`. */
export async function probeStores(storage: Storage, ephemeral: EphemeralStore, timeoutMs = 2000): Promise<StoreStatus> {
  const [database, store] = await Promise.all([
    within(storage.ping(), timeoutMs).then(() => 'up' as const, () => 'down' as const),
    within(ephemeral.ping(), timeoutMs).then(() => 'up' as const, () => 'down' as const),
  ]);
  return { database, ephemeral: store };
}

/** Probes both stores (telling the monitor what it found); the answer names each with its status. */
async function checkStores(storage: Storage, ephemeral: EphemeralStore, monitor?: Pick<StoreMonitor, 'record'>) {
  const startedAt = Date.now();
  const status = await probeStores(storage, ephemeral);
  monitor?.record(status, startedAt);
  return {
    up: status.database === 'up' && status.ephemeral === 'up',
    stores: {
      database: { kind: storage.embedded ? 'pglite' : 'postgresql', status: status.database },
      ephemeral: { kind: ephemeral.kind, status: status.ephemeral },
    },
  };
}

export function healthHandler(storage: Storage, ephemeral: EphemeralStore, monitor?: Pick<StoreMonitor, 'record'>) {
  return async (ctx: Context) => {
    const { up, stores } = await checkStores(storage, ephemeral, monitor);
    ctx.status = up ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: up ? 'ok' : 'unavailable', ...stores };
  };
}

/** Liveness: the process answers requests. No store is asked: an outage is not cured by a restart. */
export function livenessHandler() {
  return (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  };
}

/**
 * Readiness: this node should receive traffic — both stores answer and no migration is pending
 * (once none is, none will be: the check stops asking).
 */
export function readinessHandler(storage: Storage, ephemeral: EphemeralStore, monitor?: Pick<StoreMonitor, 'record'>) {
  let migrated = false;
  return async (ctx: Context) => {
    const [{ up, stores }, pending] = await Promise.all([
      checkStores(storage, ephemeral, monitor),
      migrated ? false : within(storage.pendingMigrations(), 2000).catch(() => undefined),
    ]);
    if (pending === false) migrated = true;
    const ready = up && migrated;
    ctx.status = ready ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: ready ? 'ready' : 'not_ready', ...stores, migrations: migrated ? 'done' : pending ? 'pending' : 'unknown' };
  };
}

/**
 * Probes both stores every `periodMs`. `down()` names a store that failed its last probe, so the
 * token and authorization endpoints refuse while either is away — even a grant that would need
 * only the other store (DESIGN: fail closed).
 */
export function createStoreMonitor(storage: Storage, ephemeral: EphemeralStore, periodMs = 1000) {
  let last: StoreStatus = { database: 'up', ephemeral: 'up' };
  let lastStartedAt = 0;
  let running = false;
  // The newest probe wins, by when it started: a slow probe begun during an outage that ends
  // after the stores are back (or after /health saw them back) does not mark them down again.
  const record = (status: StoreStatus, startedAt: number) => {
    if (startedAt < lastStartedAt) return;
    last = status;
    lastStartedAt = startedAt;
  };
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    const startedAt = Date.now();
    record(await probeStores(storage, ephemeral, periodMs).finally(() => (running = false)), startedAt);
  }, periodMs);
  timer.unref();
  return {
    /** What the last probe found (for the store-health metric). */
    status: (): StoreStatus => last,
    down: (): keyof StoreStatus | undefined => (last.database === 'down' ? 'database' : last.ephemeral === 'down' ? 'ephemeral' : undefined),
    record,
    stop: () => clearInterval(timer),
  };
}
export type StoreMonitor = ReturnType<typeof createStoreMonitor>;
