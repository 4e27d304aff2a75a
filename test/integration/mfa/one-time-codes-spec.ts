// What one-time codes must do on every ephemeral store (CONVENTIONS 9): the integration test runs
// this specification against the memory store and against Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { EphemeralStore } from '../../../src/ephemeral/index.ts';
import { createOneTimeCodes } from '../../../src/mfa/index.ts';

export interface StoreHarness {
  store: EphemeralStore;
  /** Removes keys containing `marker`, then closes the store. */
  cleanup(marker: string): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const wrongFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

export function describeOneTimeCodes(name: string, open: () => Promise<StoreHarness>): void {
  describe(`one-time codes on ${name}`, () => {
    let harness: StoreHarness;
    const marker = `otc-test-${process.pid}-${randomBytes(4).toString('hex')}`;
    let n = 0;
    const key = (label: string) => `${marker}:${label}:${(n += 1)}`;
    const codes = (options?: Parameters<typeof createOneTimeCodes>[1]) => createOneTimeCodes(harness.store, options);

    async function issue(codes: ReturnType<typeof createOneTimeCodes>, k: string): Promise<string> {
      const result = await codes.issue(k);
      if (!result.ok) throw new Error('unexpectedly rate limited');
      return result.code;
    }

    beforeAll(async () => {
      harness = await open();
    });
    afterAll(async () => {
      await harness?.cleanup(marker);
    });

    it('issues a six-digit code that verifies once', async () => {
      const otc = codes();
      const k = key('once');
      const code = await issue(otc, k);
      expect(code).toMatch(/^[0-9]{6}$/);
      expect(await otc.verify(k, code)).toBe('ok');
      expect(await otc.verify(k, code)).toBe('expired');
    });

    it('refuses a wrong code and still accepts the right one before the limit', async () => {
      const otc = codes();
      const k = key('wrong');
      const code = await issue(otc, k);
      for (let i = 0; i < 4; i += 1) expect(await otc.verify(k, wrongFor(code))).toBe('invalid');
      expect(await otc.verify(k, code)).toBe('ok');
    });

    it('kills the code after maxTries wrong answers, even when the right code comes next', async () => {
      const otc = codes({ maxTries: 3 });
      const k = key('dead');
      const code = await issue(otc, k);
      for (let i = 0; i < 3; i += 1) expect(await otc.verify(k, wrongFor(code))).toBe('invalid');
      expect(await otc.verify(k, code)).toBe('too_many_tries');
    });

    it('gives no more than maxTries chances to 20 concurrent wrong answers', async () => {
      const otc = codes({ maxTries: 5 });
      const k = key('burst');
      const code = await issue(otc, k);
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => otc.verify(k, wrongFor(code))));
      expect(outcomes.filter((o) => o === 'invalid')).toHaveLength(5);
      expect(outcomes.filter((o) => o === 'too_many_tries')).toHaveLength(15);
      expect(await otc.verify(k, code)).toBe('too_many_tries');
    });

    it('lets only one of several concurrent right answers succeed', async () => {
      const otc = codes({ maxTries: 10 });
      const k = key('race');
      const code = await issue(otc, k);
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => otc.verify(k, code)));
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
      expect(outcomes.filter((o) => o !== 'ok').every((o) => o === 'expired')).toBe(true);
    });

    it('replaces the previous code on a new issue, with fresh tries', async () => {
      const otc = codes({ maxTries: 2 });
      const k = key('replace');
      const first = await issue(otc, k);
      await otc.verify(k, wrongFor(first));
      await otc.verify(k, wrongFor(first));
      const second = await issue(otc, k);
      if (second !== first) expect(await otc.verify(k, first)).toBe('invalid');
      expect(await otc.verify(k, second)).toBe('ok');
    });

    it('answers expired for a code never issued and for one past its TTL', async () => {
      const otc = codes({ ttlSeconds: 1 });
      expect(await otc.verify(key('never'), '123456')).toBe('expired');
      const k = key('ttl');
      const code = await issue(otc, k);
      await sleep(1300);
      expect(await otc.verify(k, code)).toBe('expired');
    });

    it('limits sends per key and window, and says when to retry', async () => {
      const otc = codes({ maxSends: 3, sendWindowSeconds: 120 });
      const k = key('sends');
      for (let i = 0; i < 3; i += 1) expect((await otc.issue(k)).ok).toBe(true);
      const limited = await otc.issue(k);
      expect(limited).toEqual({ ok: false, reason: 'rate_limited', retryAfterSeconds: expect.any(Number) });
      if (!limited.ok) expect(limited.retryAfterSeconds).toBeGreaterThan(0);
      if (!limited.ok) expect(limited.retryAfterSeconds).toBeLessThanOrEqual(120);
      expect((await otc.issue(key('other'))).ok).toBe(true);
    });

    it('sends again once the window has passed', async () => {
      const otc = codes({ maxSends: 1, sendWindowSeconds: 1 });
      const k = key('window');
      expect((await otc.issue(k)).ok).toBe(true);
      expect((await otc.issue(k)).ok).toBe(false);
      await sleep(1300);
      expect((await otc.issue(k)).ok).toBe(true);
    });
  });
}
