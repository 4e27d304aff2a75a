// GET /health: which stores answer. 200 when all do, 503 naming the one that does not.
import type { Context } from 'koa';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { Storage } from '../storage/index.ts';

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

export function healthHandler(storage: Storage, ephemeral: EphemeralStore) {
  return async (ctx: Context) => {
    const [database, store] = await Promise.all([
      within(storage.ping(), 2000).then(() => 'up', () => 'down'),
      within(ephemeral.ping(), 2000).then(() => 'up', () => 'down'),
    ]);
    const ok = database === 'up' && store === 'up';
    ctx.status = ok ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      status: ok ? 'ok' : 'unavailable',
      database: { kind: storage.embedded ? 'pglite' : 'postgresql', status: database },
      ephemeral: { kind: ephemeral.kind, status: store },
    };
  };
}
