// Account lockout and address throttling, as one specification run against the memory store and
// Redis: the guarantees hold under concurrency, where a check-then-write design would let guesses through.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createMemoryStore, createRedisStore, type EphemeralStore } from '../../../src/ephemeral/index.ts';
import {
  createLockout,
  DEFAULT_ADDRESS_THROTTLE,
  DEFAULT_LOCKOUT_POLICY,
  type AddressThrottlePolicy,
  type AttemptDecision,
  type Lockout,
  type LockoutPolicy,
} from '../../../src/security/lockout.ts';
import { deleteRedisKeys } from '../ephemeral/redis-for-tests.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Past a 1-second TTL with room for Redis' expiry granularity and a busy machine.
const AFTER_ONE_SECOND = 1300;
// Fixed windows: a day-long one, so no case's attempts straddle a window's end.
const WINDOW = 86_400;
const ROOMY: AddressThrottlePolicy = { maxFailures: 10_000, windowSeconds: WINDOW };

// Production mode (REDIS_URL) always tests Redis; embedded mode tests the local one when it answers.
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379/11';
const redisAvailable = process.env.REDIS_URL ? true : await answers(redisUrl);

async function answers(url: string): Promise<boolean> {
  const probe = createRedisStore(url);
  try {
    await probe.ready(1500);
    return true;
  } catch {
    return false;
  } finally {
    await probe.close();
  }
}

function describeLockout(name: string, open: () => Promise<{ store: EphemeralStore; cleanup(tenantPrefix: string): Promise<void> }>) {
  describe(`lockout: ${name}`, () => {
    const tenantPrefix = `t-${process.pid}-${randomBytes(4).toString('hex')}`;
    let n = 0;
    const tenant = () => `${tenantPrefix}-${(n += 1)}`;
    let harness: Awaited<ReturnType<typeof open>>;
    let lockout: Lockout;
    /** Every lock the lockout reported (the lockouts metric counts these). */
    const reported: LockoutPolicy['mode'][] = [];

    beforeAll(async () => {
      harness = await open();
      lockout = createLockout(harness.store, (mode) => reported.push(mode));
    });
    afterAll(async () => harness.cleanup(tenantPrefix));

    /** Begins an attempt and, when allowed, settles it as a failure. */
    const failOnce = async (t: string, user: string | null, policy: LockoutPolicy, throttle = ROOMY, address = '198.51.100.7') => {
      const decision = await lockout.begin(t, user, address, policy, throttle);
      const outcome = decision.allowed ? await decision.attempt.failed() : undefined;
      return { decision, outcome };
    };
    const allowed = (d: AttemptDecision) => d.allowed;

    it('locks the account after 5 failures, even under 50 concurrent attempts: exactly 5 are let through, one lock reported', async () => {
      const t = tenant();
      const before = reported.length;
      const results = await Promise.all(Array.from({ length: 50 }, () => failOnce(t, 'u1', DEFAULT_LOCKOUT_POLICY)));
      expect(results.filter((r) => allowed(r.decision))).toHaveLength(5);
      expect(results.filter((r) => r.outcome?.lockedNow)).toHaveLength(1);
      expect(reported.slice(before)).toEqual(['timed']);
      const state = await lockout.state(t, 'u1', DEFAULT_LOCKOUT_POLICY);
      expect(state).toMatchObject({ locked: true, locks: 1, failures: 5 });
      expect(state.lockedUntil!.getTime() - Date.now()).toBeGreaterThan(290_000);
      expect(state.lockedUntil!.getTime() - Date.now()).toBeLessThanOrEqual(300_000);
      const later = await lockout.begin(t, 'u1', '198.51.100.7', DEFAULT_LOCKOUT_POLICY, ROOMY);
      expect(later).toEqual({ allowed: false, reason: 'account_locked', lockedUntil: state.lockedUntil });
    });

    it('lets attempts through once a timed lock expires, locks twice as long the second time, and never counts refused attempts', async () => {
      const t = tenant();
      const policy: LockoutPolicy = { threshold: 2, lockSeconds: 1, maxLockSeconds: 3600, mode: 'timed' };
      await failOnce(t, 'u1', policy);
      const first = await failOnce(t, 'u1', policy);
      expect(first.outcome?.lockedNow).toBe(true);
      expect(first.outcome!.lockedUntil!.getTime() - Date.now()).toBeLessThanOrEqual(1000);
      // Refused attempts while locked must not eat into the next round.
      await Promise.all(Array.from({ length: 20 }, () => failOnce(t, 'u1', policy)));
      await sleep(AFTER_ONE_SECOND);

      const round = await Promise.all(Array.from({ length: 10 }, () => failOnce(t, 'u1', policy)));
      expect(round.filter((r) => allowed(r.decision))).toHaveLength(2);
      const second = round.find((r) => r.outcome?.lockedNow)!.outcome!;
      expect(second.lockedUntil!.getTime() - Date.now()).toBeGreaterThan(1500);
      expect(second.lockedUntil!.getTime() - Date.now()).toBeLessThanOrEqual(2000);
      expect((await lockout.state(t, 'u1', policy)).locks).toBe(2);
      await sleep(AFTER_ONE_SECOND);
      expect((await lockout.begin(t, 'u1', '198.51.100.7', policy, ROOMY)).allowed).toBe(false);
      await sleep(1000);
      expect((await lockout.begin(t, 'u1', '198.51.100.7', policy, ROOMY)).allowed).toBe(true);
    });

    it('caps a repeated lock at maxLockSeconds', async () => {
      const t = tenant();
      const policy: LockoutPolicy = { threshold: 1, lockSeconds: 1, maxLockSeconds: 1, mode: 'timed' };
      expect((await failOnce(t, 'u1', policy)).outcome?.lockedNow).toBe(true);
      await sleep(AFTER_ONE_SECOND);
      const second = (await failOnce(t, 'u1', policy)).outcome!;
      expect(second.lockedNow).toBe(true);
      expect(second.lockedUntil!.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    });

    it('resets the failure count on a success', async () => {
      const t = tenant();
      const policy = { ...DEFAULT_LOCKOUT_POLICY, threshold: 3 };
      await failOnce(t, 'u1', policy);
      await failOnce(t, 'u1', policy);
      expect((await lockout.state(t, 'u1', policy)).failures).toBe(2);
      const ok = await lockout.begin(t, 'u1', '198.51.100.7', policy, ROOMY);
      if (!ok.allowed) throw new Error('expected the attempt to be allowed');
      await ok.attempt.succeeded();
      expect((await lockout.state(t, 'u1', policy)).failures).toBe(0);
      await failOnce(t, 'u1', policy);
      await failOnce(t, 'u1', policy);
      expect(await lockout.state(t, 'u1', policy)).toMatchObject({ failures: 2, locked: false, locks: 0 });
    });

    it('still counts a failure that was in flight while another attempt succeeded', async () => {
      const t = tenant();
      const policy = { ...DEFAULT_LOCKOUT_POLICY, threshold: 2 };
      const [a, b] = await Promise.all([1, 2].map(() => lockout.begin(t, 'u1', '198.51.100.7', policy, ROOMY)));
      if (!a.allowed || !b.allowed) throw new Error('expected both attempts to be allowed');
      await a.attempt.succeeded();
      await b.attempt.failed();
      expect((await lockout.state(t, 'u1', policy)).failures).toBe(1);
      expect((await failOnce(t, 'u1', policy)).outcome?.lockedNow).toBe(true);
    });

    it('keeps an admin-mode lock past lockSeconds until unlock(), which also forgets failures and locks', async () => {
      const t = tenant();
      const policy: LockoutPolicy = { threshold: 2, lockSeconds: 1, maxLockSeconds: 1, mode: 'admin' };
      await failOnce(t, 'u1', policy);
      expect((await failOnce(t, 'u1', policy)).outcome).toEqual({ lockedNow: true, lockedUntil: null });
      await sleep(AFTER_ONE_SECOND);
      expect(await lockout.begin(t, 'u1', '198.51.100.7', policy, ROOMY)).toEqual({ allowed: false, reason: 'account_locked', lockedUntil: null });
      expect(await lockout.state(t, 'u1', policy)).toEqual({ failures: 2, locked: true, lockedUntil: null, locks: 1 });

      await lockout.unlock(t, 'u1');
      expect(await lockout.state(t, 'u1', policy)).toEqual({ failures: 0, locked: false, lockedUntil: null, locks: 0 });
      const round = await Promise.all(Array.from({ length: 5 }, () => failOnce(t, 'u1', policy)));
      expect(round.filter((r) => allowed(r.decision))).toHaveLength(2);
    });

    it('reports the state of an account it has never seen as clean', async () => {
      expect(await lockout.state(tenant(), 'nobody', DEFAULT_LOCKOUT_POLICY)).toEqual({ failures: 0, locked: false, lockedUntil: null, locks: 0 });
    });

    it('throttles an address flooding unknown users after maxFailures, but not another address', async () => {
      const t = tenant();
      const throttle: AddressThrottlePolicy = { maxFailures: 10, windowSeconds: WINDOW };
      const flood = await Promise.all(Array.from({ length: 40 }, () => failOnce(t, null, DEFAULT_LOCKOUT_POLICY, throttle, '203.0.113.9')));
      expect(flood.filter((r) => allowed(r.decision))).toHaveLength(10);
      const refused = flood.find((r) => !allowed(r.decision))!.decision;
      expect(refused).toMatchObject({ allowed: false, reason: 'address_throttled' });
      const retry = (refused as { retryAfterSeconds: number }).retryAfterSeconds;
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(WINDOW);
      expect((await lockout.begin(t, null, '203.0.113.10', DEFAULT_LOCKOUT_POLICY, throttle)).allowed).toBe(true);
    });

    it('counts only failures against an address: successes and refusals give their slot back', async () => {
      const t = tenant();
      const throttle: AddressThrottlePolicy = { maxFailures: 5, windowSeconds: WINDOW };
      for (let i = 0; i < 20; i += 1) {
        const d = await lockout.begin(t, `nurse-${i}`, '192.0.2.50', DEFAULT_LOCKOUT_POLICY, throttle);
        if (!d.allowed) throw new Error(`sign-in ${i} was refused`);
        await d.attempt.succeeded();
      }
      // A locked account refused from the address costs the address nothing either.
      const policy = { ...DEFAULT_LOCKOUT_POLICY, threshold: 1 };
      await failOnce(t, 'locked-user', policy, throttle, '192.0.2.50');
      for (let i = 0; i < 10; i += 1) expect((await failOnce(t, 'locked-user', policy, throttle, '192.0.2.50')).decision.allowed).toBe(false);
      const rest = await Promise.all(Array.from({ length: 10 }, () => failOnce(t, null, policy, throttle, '192.0.2.50')));
      expect(rest.filter((r) => allowed(r.decision))).toHaveLength(4);
    });

    it('does not let a throttled address push an account towards its lock', async () => {
      const t = tenant();
      const throttle: AddressThrottlePolicy = { maxFailures: 5, windowSeconds: WINDOW };
      await Promise.all(Array.from({ length: 30 }, () => failOnce(t, 'victim', { ...DEFAULT_LOCKOUT_POLICY, threshold: 10 }, throttle, '203.0.113.66')));
      expect(await lockout.state(t, 'victim', DEFAULT_LOCKOUT_POLICY)).toMatchObject({ failures: 5, locked: false });
    });

    it('treats the addresses of one IPv6 /64 as one client, and an IPv4-mapped address as its IPv4 address', async () => {
      const t = tenant();
      const throttle: AddressThrottlePolicy = { maxFailures: 2, windowSeconds: WINDOW };
      await failOnce(t, null, DEFAULT_LOCKOUT_POLICY, throttle, '2001:db8:1:2::1');
      await failOnce(t, null, DEFAULT_LOCKOUT_POLICY, throttle, '2001:0db8:0001:0002:ffff:ffff:ffff:fffe');
      expect((await lockout.begin(t, null, '2001:db8:1:2:abcd::9', DEFAULT_LOCKOUT_POLICY, throttle)).allowed).toBe(false);
      expect((await lockout.begin(t, null, '2001:db8:1:3::1', DEFAULT_LOCKOUT_POLICY, throttle)).allowed).toBe(true);

      await failOnce(t, null, DEFAULT_LOCKOUT_POLICY, throttle, '192.0.2.1');
      await failOnce(t, null, DEFAULT_LOCKOUT_POLICY, throttle, '::ffff:192.0.2.1');
      expect((await lockout.begin(t, null, '192.0.2.1', DEFAULT_LOCKOUT_POLICY, throttle)).allowed).toBe(false);
    });

    it('keeps tenants apart, even when their identifiers share a prefix', async () => {
      const t = tenant();
      const policy = { ...DEFAULT_LOCKOUT_POLICY, threshold: 1 };
      await failOnce(`${t}:a`, 'b', policy);
      expect((await lockout.state(`${t}:a`, 'b', policy)).locked).toBe(true);
      expect((await lockout.state(t, 'a:b', policy)).locked).toBe(false);
      expect((await lockout.begin(`${t}-other`, 'b', '198.51.100.7', policy, ROOMY)).allowed).toBe(true);
    });

    it('refuses to settle one attempt twice', async () => {
      const d = await lockout.begin(tenant(), 'u1', '198.51.100.7', DEFAULT_LOCKOUT_POLICY, DEFAULT_ADDRESS_THROTTLE);
      if (!d.allowed) throw new Error('expected the attempt to be allowed');
      await d.attempt.failed();
      await expect(d.attempt.succeeded()).rejects.toThrow(/already been settled/);
    });
  });
}

describeLockout('memory', async () => {
  const store = createMemoryStore();
  return { store, cleanup: () => store.close() };
});

if (redisAvailable) {
  describeLockout('redis', async () => {
    const store = createRedisStore(redisUrl);
    await store.ready(3000);
    return {
      store,
      async cleanup(tenantPrefix) {
        await deleteRedisKeys(redisUrl, `lockout:${tenantPrefix}*`);
        await deleteRedisKeys(redisUrl, `throttle:${tenantPrefix}*`);
        await store.close();
      },
    };
  });
} else {
  describe.skip(`lockout: redis (nothing answers at ${redisUrl})`, () => {
    it('runs the same specification against Redis', () => {});
  });
}
