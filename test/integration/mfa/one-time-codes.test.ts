// One-time codes against the memory store and against Redis (database 12) when it is reachable;
// Redis is where concurrent requests from several nodes really interleave.
import { describe, it } from '@jest/globals';
import { createMemoryStore, createRedisStore } from '../../../src/ephemeral/index.ts';
import { deleteRedisKeys, untilReady } from '../ephemeral/redis-for-tests.ts';
import { describeOneTimeCodes } from './one-time-codes-spec.ts';

const redisUrl = 'redis://127.0.0.1:6379/12';

async function redisReachable(): Promise<boolean> {
  const probe = createRedisStore(redisUrl);
  try {
    await untilReady(() => probe.ping(), 1500);
    return true;
  } catch {
    return false;
  } finally {
    await probe.close();
  }
}

describeOneTimeCodes('memory', async () => {
  const store = createMemoryStore();
  return { store, cleanup: () => store.close() };
});

if (await redisReachable()) {
  describeOneTimeCodes('redis', async () => {
    const store = createRedisStore(redisUrl);
    await untilReady(() => store.ping());
    return {
      store,
      async cleanup(marker) {
        await deleteRedisKeys(redisUrl, `otc:*${marker}*`);
        await store.close();
      },
    };
  });
} else {
  describe('one-time codes on redis', () => {
    it.skip(`skipped: no Redis at ${redisUrl}`, () => {});
  });
}
