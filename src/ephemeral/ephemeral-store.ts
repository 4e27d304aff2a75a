// One small key-value interface for short-lived state (sessions, codes, counters, replay caches).
// Values are strings; every key has a TTL so nothing accumulates.
export interface EphemeralStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | undefined>;
  /**
   * Follows a reference in one round trip: the value at `prefix + (value at refKey)`, or undefined
   * when either is missing (an index from a secondary id to a primary key, read as one lookup).
   */
  getReferenced(refKey: string, prefix: string): Promise<string | undefined>;
  /** Several values in one round trip, in the order of `keys` (undefined for each one missing). */
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets only when absent; true when this call set it (replay detection, locks). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Marks `key` once, in one atomic step: sets `marker` to `value`, living as long as `key` has left,
   * only while `key` exists and `marker` does not. 'missing': `key` is gone; 'marked': this call
   * marked it; 'already': an earlier call had (single use: of concurrent callers exactly one marks).
   */
  markOnce(key: string, marker: string, value: string): Promise<'marked' | 'missing' | 'already'>;
  /** Reads and deletes in one step (single-use codes). */
  take(key: string): Promise<string | undefined>;
  del(...keys: string[]): Promise<void>;
  /** Atomically increments; the TTL is set when the counter is created. */
  incr(key: string, ttlSeconds: number): Promise<number>;
  /** Atomically decrements a counter that exists, keeping its TTL (a reserved slot given back); a missing one stays missing. */
  decr(key: string): Promise<void>;
  /** Adds to a set whose TTL is extended to at least `ttlSeconds`. */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>;
  members(key: string): Promise<string[]>;
  ping(): Promise<void>;
  /** Resolves once connected, or rejects after `timeoutMs` (the store keeps trying). */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
