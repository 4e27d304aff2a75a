import { createMemoryStore } from '../ephemeral/index.ts';
import { createClaimsCache } from './claims-cache.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('directory cache', () => {
  const shared = createMemoryStore();
  afterAll(() => shared.close());

  it('loads once per tenant and key, then answers from memory', async () => {
    const cache = createClaimsCache(shared);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('t1', 'k', load)).toBe(1);
    expect(await cache.get('t1', 'k', load)).toBe(1);
    expect(await cache.get('t2', 'k', load)).toBe(2);
  });

  it('empties only the changed tenant on invalidate', async () => {
    const cache = createClaimsCache(shared);
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('a', 'k', load);
    await cache.get('b', 'k', load);
    await cache.invalidate('a');
    expect(await cache.get('a', 'k', load)).toBe(3);
    expect(await cache.get('b', 'k', load)).toBe(2);
  });

  it('follows a change made on another node within its sync period', async () => {
    const nodeA = createClaimsCache(shared, { syncMs: 100 });
    const nodeB = createClaimsCache(shared, { syncMs: 100 });
    let value = 'before';
    const load = async () => value;
    expect(await nodeB.get('x', 'role', load)).toBe('before');
    value = 'after';
    await nodeA.invalidate('x');
    expect(await nodeB.get('x', 'role', load)).toBe('before');
    await sleep(150);
    expect(await nodeB.get('x', 'role', load)).toBe('after');
  });

  it('reloads after its maximum age even when a version bump was lost', async () => {
    const cache = createClaimsCache(shared, { syncMs: 10, maxAgeMs: 100 });
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('y', 'k', load);
    await sleep(150);
    expect(await cache.get('y', 'k', load)).toBe(2);
  });

  it('does not keep misses, so unknown ids sent by anyone cannot fill memory', async () => {
    const cache = createClaimsCache(shared);
    let loads = 0;
    const miss = async () => (++loads, undefined);
    await cache.get('m', 'client:junk', miss);
    await cache.get('m', 'client:junk', miss);
    expect(loads).toBe(2);
  });

  it('does not keep a failed load', async () => {
    const cache = createClaimsCache(shared);
    await expect(cache.get('z', 'k', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.get('z', 'k', async () => 'ok')).toBe('ok');
  });
});
