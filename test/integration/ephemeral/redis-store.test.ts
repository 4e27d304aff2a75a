// The Redis store against the shared EphemeralStore specification. Runs in every mode: against
// REDIS_URL when set, else the local Redis on database 9. Keys live under a per-run prefix and are
// removed afterwards.
import { describe, expect, it } from '@jest/globals';
import { createRedisStore } from '../../../src/ephemeral/index.ts';
import { describeEphemeralStore } from './ephemeral-conformance.ts';
import { deleteRedisKeys, redisUrl, untilReady } from './redis-for-tests.ts';

describeEphemeralStore('redis', async () => {
  const store = createRedisStore(redisUrl);
  await untilReady(() => store.ping());
  return {
    store,
    async cleanup(prefix) {
      await deleteRedisKeys(redisUrl, `${prefix}*`);
      await store.close();
    },
  };
});

describe('createRedisStore', () => {
  it('answers the first command issued right after it is created, while it is still connecting', async () => {
    // A node that has just started must not fail its first logins or its readiness probe only
    // because the connection to a healthy Redis is still being set up.
    const store = createRedisStore(redisUrl);
    try {
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('fails fast instead of hanging when Redis cannot be reached', async () => {
    const errors: Error[] = [];
    const store = createRedisStore('redis://127.0.0.1:1/0', (e) => errors.push(e));
    try {
      const started = Date.now();
      await expect(untilReady(() => store.set('anything', 'x', 1), 500)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await store.close();
    }
  });
});
