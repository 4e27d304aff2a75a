// Opens the Redis store for a starting process and waits until it answers with the URL's
// credentials and database, or fails with an error that names REDIS_URL (explain-redis-error.ts).
// A refused password fails at once; an unreachable server after `timeoutMs` of retrying.
import type { EphemeralStore } from './ephemeral-store.ts';
import { explainRedisError, isRedisRefusal, isRedisSelectError } from './explain-redis-error.ts';
import { createRedisStore } from './redis-store.ts';

export async function connectRedis(redisUrl: string, onError: (error: Error) => void, timeoutMs = 5000): Promise<EphemeralStore> {
  let last: Error | undefined;
  let refuse!: (error: Error) => void;
  const refused = new Promise<never>((_, reject) => (refuse = reject));
  const store = createRedisStore(redisUrl, (error) => {
    last = error;
    onError(error);
    if (isRedisRefusal(error)) refuse(error);
  });
  try {
    await Promise.race([store.ready(timeoutMs), refused]);
    // ioredis reports a failed SELECT and then carries on, on database 0.
    if (isRedisSelectError(last)) throw last;
    return store;
  } catch {
    await store.close();
    throw explainRedisError(last, redisUrl);
  }
}
