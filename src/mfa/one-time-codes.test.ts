import { createMemoryStore } from '../ephemeral/index.ts';
import { createOneTimeCodes } from './one-time-codes.ts';

// The full behaviour, on memory and Redis alike, is in test/integration/mfa/one-time-codes.test.ts.
const store = createMemoryStore();
afterAll(() => store.close());

describe('one-time codes', () => {
  it('returns the code with its expiry time', async () => {
    const before = Date.now();
    const result = await createOneTimeCodes(store, { ttlSeconds: 300 }).issue('unit:expiry');
    if (!result.ok) throw new Error('rate limited');
    expect(result.code).toMatch(/^[0-9]{6}$/);
    expect(result.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 300_000);
    expect(result.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('keeps only a SHA-256 hash of the code in the store', async () => {
    const result = await createOneTimeCodes(store).issue('unit:hashed');
    if (!result.ok) throw new Error('rate limited');
    const stored = await store.get('otc:code:unit:hashed');
    expect(stored).toMatch(/\.[0-9a-f]{64}$/);
    expect(stored).not.toContain(result.code);
  });

  it('draws codes across the whole six-digit range, leading zeros kept', async () => {
    const otc = createOneTimeCodes(store, { maxSends: 1000 });
    const seen = new Set<string>();
    for (let i = 0; i < 300; i += 1) {
      const result = await otc.issue('unit:range');
      if (result.ok) seen.add(result.code[0]);
    }
    expect(seen.size).toBe(10);
  });

  it('counts a malformed answer as a wrong one', async () => {
    const otc = createOneTimeCodes(store, { maxTries: 2 });
    const result = await otc.issue('unit:malformed');
    if (!result.ok) throw new Error('rate limited');
    expect(await otc.verify('unit:malformed', ` ${result.code}`)).toBe('invalid');
    expect(await otc.verify('unit:malformed', '')).toBe('invalid');
    expect(await otc.verify('unit:malformed', result.code)).toBe('too_many_tries');
  });
});
