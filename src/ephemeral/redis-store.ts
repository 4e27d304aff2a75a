// Redis-backed ephemeral store shared by every node. Commands fail fast while Redis is down
// (no offline queue), so callers fail closed instead of hanging; ioredis reconnects by itself.
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { EphemeralStore } from './ephemeral-store.ts';

// Required when a Redis store is opened, not imported: the embedded default never loads ioredis.
const require = createRequire(import.meta.url);

// Extend a set's TTL only upward, atomically with the add.
const ADD_TO_SET = `
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`;

const INCR_WITH_TTL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

// DECR creates a missing key at -1 with no TTL: only a counter that exists is given back to.
const DECR_IF_PRESENT = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end
return 0`;

// The marker lives as long as the key has left (PTTL; a key without expiry is not one this store
// writes, but would give its marker none either). A key with under a millisecond left (PTTL 0) counts
// as gone: SET … PX 0 is an error, and a marker without expiry would outlive it.
// 0: the key is gone; 1: marked now; 2: marked before.
const MARK_ONCE = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 or ttl == 0 then return 0 end
local set
if ttl > 0 then set = redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl, 'NX') else set = redis.call('SET', KEYS[2], ARGV[1], 'NX') end
if set then return 1 end
return 2`;

// The key is built in the script from a prefix, as Redis Cluster would not allow; Caregate uses one
// Redis (or a primary with replicas), where this is fine.
const GET_REFERENCED = `
local ref = redis.call('GET', KEYS[1])
if not ref then return false end
return redis.call('GET', ARGV[1] .. ref)`;

export function createRedisStore(url: string, onError: (error: Error) => void = () => {}): EphemeralStore {
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    // A Redis that stops answering without closing the connection (partition, hung server) must not
    // hold requests: each command gives up after 2 s, and a connection silent for 5 s while commands
    // wait is dropped and re-established instead of waiting for TCP to notice (minutes).
    commandTimeout: 2000,
    socketTimeout: 5000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: false,
    // Commands issued in the same tick (a Promise.all of reads, say) go out in one write and come
    // back in one read, in the order they were issued.
    enableAutoPipelining: true,
    // The scripts below are sent once and then called by their SHA1 (EVALSHA), not resent each time.
    scripts: {
      addToSet: { numberOfKeys: 1, lua: ADD_TO_SET },
      incrWithTtl: { numberOfKeys: 1, lua: INCR_WITH_TTL },
      decrIfPresent: { numberOfKeys: 1, lua: DECR_IF_PRESENT },
      getReferenced: { numberOfKeys: 1, lua: GET_REFERENCED },
      markOnce: { numberOfKeys: 2, lua: MARK_ONCE },
    },
  }) as Redis & Record<'addToSet' | 'incrWithTtl' | 'decrIfPresent' | 'getReferenced' | 'markOnce', (key: string, ...args: Array<string | number>) => Promise<unknown>>;
  redis.on('error', onError);

  function waitReady(timeoutMs: number): Promise<void> {
    if (redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        reject(new Error(`Redis not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', onReady);
    });
  }

  // While (re)connecting, a command waits briefly for the connection instead of failing at once;
  // when Redis stays away it fails within a second — closed, never hanging.
  async function client(): Promise<typeof redis> {
    if (redis.status !== 'ready') await waitReady(1000);
    return redis;
  }

  return {
    kind: 'redis',
    async get(key) {
      return (await (await client()).get(key)) ?? undefined;
    },
    async getReferenced(refKey, prefix) {
      return ((await (await client()).getReferenced(refKey, prefix)) as string | null) ?? undefined;
    },
    async getMany(keys) {
      if (!keys.length) return [];
      return (await (await client()).mget(...keys)).map((value) => value ?? undefined);
    },
    async set(key, value, ttl) {
      await (await client()).set(key, value, 'EX', Math.max(1, Math.ceil(ttl)));
    },
    async setIfAbsent(key, value, ttl) {
      return (await (await client()).set(key, value, 'EX', Math.max(1, Math.ceil(ttl)), 'NX')) === 'OK';
    },
    async markOnce(key, marker, value) {
      const outcome = (await (await client()).markOnce(key, marker, value)) as number;
      return outcome === 1 ? 'marked' : outcome === 0 ? 'missing' : 'already';
    },
    async take(key) {
      return (await (await client()).getdel(key)) ?? undefined;
    },
    async del(...keys) {
      if (keys.length) await (await client()).del(...keys);
    },
    async incr(key, ttl) {
      return Number(await (await client()).incrWithTtl(key, Math.max(1, Math.ceil(ttl))));
    },
    async decr(key) {
      await (await client()).decrIfPresent(key);
    },
    async addToSet(key, member, ttl) {
      await (await client()).addToSet(key, member, Math.max(1, Math.ceil(ttl)));
    },
    async members(key) {
      return (await client()).smembers(key);
    },
    async ping() {
      await (await client()).ping();
    },
    ready: waitReady,
    async close() {
      redis.disconnect();
    },
  };
}
