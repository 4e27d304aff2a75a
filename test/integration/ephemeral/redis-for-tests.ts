// Which Redis the integration tests use, and how they clean up after themselves there.
import { Redis } from 'ioredis';

/** REDIS_URL when the suite runs in production mode, else the local Redis on database 9. */
export const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379/9';

/** Deletes every key matching `pattern` (SCAN, never KEYS, so a shared Redis is not blocked). */
export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Resolves once the store answers PING, retrying briefly while its connection is established. */
export async function untilReady(ping: () => Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await ping();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
