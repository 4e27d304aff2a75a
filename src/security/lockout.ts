// Account lockout and per-address throttling of password attempts. `begin` runs before the password
// is hashed and reserves a slot atomically, so 50 concurrent guesses at a threshold of 5 cost 5 hashes.
import { randomUUID } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { EphemeralStore } from '../ephemeral/index.ts';

export interface LockoutPolicy {
  /** Consecutive failures that lock the account (1..100). */
  threshold: number;
  /** Length of the first lock; each further lock within 24 h doubles it. */
  lockSeconds: number;
  maxLockSeconds: number;
  /** 'admin': stays locked until an administrator unlocks (the caller also records it durably). */
  mode: 'timed' | 'admin';
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = { threshold: 5, lockSeconds: 300, maxLockSeconds: 86_400, mode: 'timed' };

export interface AddressThrottlePolicy {
  maxFailures: number;
  windowSeconds: number;
}

export const DEFAULT_ADDRESS_THROTTLE: AddressThrottlePolicy = { maxFailures: 50, windowSeconds: 300 };

/** `lockedUntil` null: no known end (an admin lock, or a lock that attempts in flight are deciding). */
export type AttemptDecision =
  | { allowed: true; attempt: Attempt }
  | { allowed: false; reason: 'account_locked'; lockedUntil: Date | null }
  | { allowed: false; reason: 'address_throttled'; retryAfterSeconds: number };

/** The outcome of an allowed attempt; call exactly one of the three, once. */
export interface Attempt {
  succeeded(): Promise<void>;
  failed(): Promise<{ lockedNow: boolean; lockedUntil: Date | null }>;
  /** The password could not be checked (a directory that did not answer): the attempt counts for nothing. */
  abandoned(): Promise<void>;
}

export interface LockState {
  failures: number;
  locked: boolean;
  lockedUntil: Date | null;
  locks: number;
}

const DAY = 86_400;
const TEN_YEARS = 10 * 365 * DAY;
const ADMIN_LOCK = 'admin';

// Keys of one account. The failure counter lives under a generation token: a lock or a success
// starts a new generation instead of deleting the counter, so a refused attempt racing the reset
// can only add to a dead counter and never eats into the budget of the next round.
function accountKeys(tenantId: string, userId: string) {
  const base = `lockout:${encodeURIComponent(tenantId)}:${encodeURIComponent(userId)}`;
  return { gen: `${base}:gen`, lock: `${base}:lock`, locks: `${base}:locks`, fails: (gen: string) => `${base}:fails:${gen}` };
}
type AccountKeys = ReturnType<typeof accountKeys>;

// Fixed windows: the attempts counted and the slots given back share a window, so credit from one
// window never carries into the next, and the time until the window ends is known.
function addressKeys(tenantId: string, address: string, throttle: AddressThrottlePolicy, now: number) {
  const windowMs = throttle.windowSeconds * 1000;
  const window = Math.floor(now / windowMs);
  const base = `throttle:${encodeURIComponent(tenantId)}:${encodeURIComponent(clientOf(address))}:${window}`;
  const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
  return { attempts: `${base}:n`, returned: `${base}:back`, ttl: throttle.windowSeconds, retryAfterSeconds };
}
type AddressKeys = ReturnType<typeof addressKeys>;

export interface Lockout {
  /** Call before hashing the password; `userId` null for an unknown user (counts against the address only). */
  begin(tenantId: string, userId: string | null, address: string, policy: LockoutPolicy, throttle: AddressThrottlePolicy): Promise<AttemptDecision>;
  state(tenantId: string, userId: string, policy: LockoutPolicy): Promise<LockState>;
  /** Lifts a lock and forgets the failures and earlier locks (an administrator's decision). */
  unlock(tenantId: string, userId: string): Promise<void>;
}

/** `onLock`: told of each lock as it is taken (the lockouts metric), whichever attempt took it. */
export function createLockout(ephemeral: EphemeralStore, onLock: (mode: LockoutPolicy['mode']) => void = () => {}): Lockout {
  const count = async (key: string) => Number((await ephemeral.get(key)) ?? 0);
  // A refused or successful attempt gives its address slot back: only failures count against an address.
  const giveBack = (address: AddressKeys) => ephemeral.incr(address.returned, address.ttl).then(() => undefined);

  async function generation(keys: AccountKeys): Promise<string> {
    const current = await ephemeral.get(keys.gen);
    if (current) return current;
    const fresh = randomUUID();
    if (await ephemeral.setIfAbsent(keys.gen, fresh, DAY)) return fresh;
    return (await ephemeral.get(keys.gen)) ?? fresh;
  }

  async function readLock(keys: AccountKeys): Promise<{ until: Date | null } | undefined> {
    const marker = await ephemeral.get(keys.lock);
    if (marker === undefined) return undefined;
    return { until: marker === ADMIN_LOCK ? null : new Date(Number(marker)) };
  }

  // The marker is written before the new generation: a `begin` that already sees the new generation
  // then also sees the marker, and one still on the old generation finds its counter full.
  async function lock(keys: AccountKeys, policy: LockoutPolicy): Promise<Date | null> {
    const locks = await ephemeral.incr(keys.locks, DAY);
    const seconds = policy.mode === 'admin' ? TEN_YEARS : Math.min(policy.lockSeconds * 2 ** (locks - 1), policy.maxLockSeconds);
    const until = policy.mode === 'admin' ? null : new Date(Date.now() + seconds * 1000);
    await ephemeral.set(keys.lock, until ? String(until.getTime()) : ADMIN_LOCK, seconds);
    await ephemeral.set(keys.gen, randomUUID(), DAY);
    return until;
  }

  function attempt(address: AddressKeys, account?: { keys: AccountKeys; gen: string; slot: number; policy: LockoutPolicy }): Attempt {
    let settled = false;
    const settle = () => {
      if (settled) throw new Error('This attempt has already been settled.');
      settled = true;
    };
    return {
      async succeeded() {
        settle();
        await giveBack(address);
        if (account) await ephemeral.set(account.keys.gen, randomUUID(), DAY);
      },
      async abandoned() {
        settle();
        await giveBack(address);
        // The reserved slot goes back to its own generation; a lock or success since then made that counter dead.
        if (account) await ephemeral.decr(account.keys.fails(account.gen));
      },
      async failed() {
        settle();
        if (!account) return { lockedNow: false, lockedUntil: null };
        const { keys, policy } = account;
        let slot = account.slot;
        if ((await ephemeral.get(keys.gen)) !== account.gen) {
          const locked = await readLock(keys);
          if (locked) return { lockedNow: false, lockedUntil: locked.until };
          // A success reset the count while this attempt was in flight: it is the first of a new run.
          slot = await ephemeral.incr(keys.fails(await generation(keys)), DAY);
        }
        // Slots are unique per generation, so exactly one failure (the threshold-th) locks.
        if (slot !== policy.threshold) return { lockedNow: false, lockedUntil: null };
        const lockedUntil = await lock(keys, policy);
        onLock(policy.mode);
        return { lockedNow: true, lockedUntil };
      },
    };
  }

  return {
    async begin(tenantId, userId, address, policy, throttle) {
      // 1. Reserve a slot for the address first, so a throttled address cannot push an account's count.
      const addr = addressKeys(tenantId, address, throttle, Date.now());
      // Slots given back are read before reserving: a later attempt's give-back must not make room.
      const returned = await count(addr.returned);
      if ((await ephemeral.incr(addr.attempts, addr.ttl)) - returned > throttle.maxFailures) {
        await giveBack(addr);
        return { allowed: false, reason: 'address_throttled', retryAfterSeconds: addr.retryAfterSeconds };
      }
      // 2. An unknown user counts only against the address.
      if (userId === null) return { allowed: true, attempt: attempt(addr) };
      // 3. A locked account is refused without touching its counter (generation read first: see lock()).
      const keys = accountKeys(tenantId, userId);
      const gen = await generation(keys);
      const locked = await readLock(keys);
      if (locked) {
        await giveBack(addr);
        return { allowed: false, reason: 'account_locked', lockedUntil: locked.until };
      }
      // 4. Reserve a slot for the account: beyond the threshold, attempts in flight already decide.
      const slot = await ephemeral.incr(keys.fails(gen), DAY);
      if (slot > policy.threshold) {
        await giveBack(addr);
        return { allowed: false, reason: 'account_locked', lockedUntil: (await readLock(keys))?.until ?? null };
      }
      return { allowed: true, attempt: attempt(addr, { keys, gen, slot, policy }) };
    },

    async state(tenantId, userId, policy) {
      const keys = accountKeys(tenantId, userId);
      const gen = await ephemeral.get(keys.gen);
      const locked = await readLock(keys);
      // A lock starts a new run of failures; the one that caused it is what an admin wants to see.
      const failures = locked ? policy.threshold : gen ? Math.min(await count(keys.fails(gen)), policy.threshold) : 0;
      return { failures, locked: locked !== undefined, lockedUntil: locked?.until ?? null, locks: await count(keys.locks) };
    },

    async unlock(tenantId, userId) {
      const keys = accountKeys(tenantId, userId);
      await ephemeral.set(keys.gen, randomUUID(), DAY);
      await ephemeral.del(keys.lock, keys.locks);
    },
  };
}

// IPv6 clients are routinely given a whole /64, so the /64 is the client: otherwise each of its
// 2^64 addresses would get a budget of its own. An IPv4-mapped address is its IPv4 address.
function clientOf(address: string): string {
  const bare = address.split('%')[0];
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1];
  if (!isIPv6(bare)) return bare;
  const [head, tail] = bare.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - width(left) - width(right)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
