// The store probe decides "down" only on a store that did not answer, not on this process having
// been too busy to read the answer: after a stall, an answer that arrived in time still counts.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { Storage } from '../storage/index.ts';
import { probeStores } from './health.ts';

// A store stand-in in another process: `cat` answers a ping line while this process is stalled.
const echo = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
const ping = () => new Promise<void>((resolve) => {
  echo.stdout.once('data', () => resolve());
  echo.stdin.write('ping\n');
});
const silent = () => new Promise<void>(() => {});

beforeAll(() => ping());
afterAll(() => {
  echo.kill();
});

/** Probes with `timeoutMs`, then keeps this process busy for `stallMs` before the event loop runs again. */
function probeThroughStall(database: () => Promise<void>, ephemeral: () => Promise<void>, timeoutMs: number, stallMs: number) {
  return new Promise<Awaited<ReturnType<typeof probeStores>>>((resolve, reject) => {
    // From the check phase, so the loop's next turn starts with the expired timer, before the poll for I/O.
    setImmediate(() => {
      probeStores({ ping: database } as unknown as Storage, { ping: ephemeral } as unknown as EphemeralStore, timeoutMs).then(resolve, reject);
      const until = Date.now() + stallMs;
      while (Date.now() < until) { /* a stalled event loop */ }
    });
  });
}

describe('probeStores', () => {
  it('calls a store up when it answered within the timeout while this process was stalled past it', async () => {
    expect(await probeThroughStall(ping, ping, 100, 1000)).toEqual({ database: 'up', ephemeral: 'up' });
  });

  it('calls a store down when it did not answer', async () => {
    expect(await probeThroughStall(ping, silent, 100, 0)).toEqual({ database: 'up', ephemeral: 'down' });
    expect(await probeThroughStall(silent, ping, 100, 1000)).toEqual({ database: 'down', ephemeral: 'up' });
  });
});
