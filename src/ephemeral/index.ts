import type { EphemeralStore } from './ephemeral-store.ts';
import { createMemoryStore } from './memory-store.ts';
import { createRedisStore } from './redis-store.ts';

export type { EphemeralStore };
export { createMemoryStore, createRedisStore };
export { connectRedis } from './connect-redis.ts';

export function openEphemeralStore(redisUrl: string | undefined, onError?: (e: Error) => void): EphemeralStore {
  return redisUrl ? createRedisStore(redisUrl, onError) : createMemoryStore();
}
