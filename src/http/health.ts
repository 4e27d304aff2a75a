// Store health: GET /health answers which stores respond (200, or 503 naming the one that does
// not), and a monitor keeps the same answer fresh so requests can fail closed without a probe each.
import type { Context } from 'koa';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { Storage } from '../storage/index.ts';

type Status = 'up' | 'down';
export interface StoreStatus {
  database: Status;
  ephemeral: Status;
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

export async function probeStores(storage: Storage, ephemeral: EphemeralStore, timeoutMs = 2000): Promise<StoreStatus> {
  const [database, store] = await Promise.all([
    within(storage.ping(), timeoutMs).then(() => 'up' as const, () => 'down' as const),
    within(ephemeral.ping(), timeoutMs).then(() => 'up' as const, () => 'down' as const),
  ]);
  return { database, ephemeral: store };
}

export function healthHandler(storage: Storage, ephemeral: EphemeralStore, monitor?: Pick<StoreMonitor, 'record'>) {
  return async (ctx: Context) => {
    const startedAt = Date.now();
    const status = await probeStores(storage, ephemeral);
    monitor?.record(status, startedAt);
    const ok = status.database === 'up' && status.ephemeral === 'up';
    ctx.status = ok ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      status: ok ? 'ok' : 'unavailable',
      database: { kind: storage.embedded ? 'pglite' : 'postgresql', status: status.database },
      ephemeral: { kind: ephemeral.kind, status: status.ephemeral },
    };
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
    down: (): keyof StoreStatus | undefined => (last.database === 'down' ? 'database' : last.ephemeral === 'down' ? 'ephemeral' : undefined),
    record,
    stop: () => clearInterval(timer),
  };
}
export type StoreMonitor = ReturnType<typeof createStoreMonitor>;
