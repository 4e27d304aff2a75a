// The login ceiling: how many argon2id verifications one core of this machine does per second, with
// the parameters Caregate hashes passwords with (the same settings and defaults it reads). A login
// costs one verification, so Caregate's login rate on one core can at best approach this figure.
//
// Runs as a child process (`node bench/hash-rate.ts SECONDS`), pinned by bench/run.ts to the core
// the Caregate server runs on, and prints one JSON line. Verifications are sequential and go
// through the same async API Caregate uses (@node-rs/argon2 `verify`, on the libuv pool).
import { performance } from 'node:perf_hooks';
import { hash, verify } from '@node-rs/argon2';
import { settings } from '../src/config/settings.ts';
import { summarize, type Figure } from './stats.ts';

// @node-rs/argon2 exports Algorithm as a const enum, which erasable TypeScript cannot import.
const ARGON2ID = 2;

export interface HashRate extends Figure {
  params: { memoryKib: number; timeCost: number; parallelism: number };
}

export async function measureHashRate(seconds: number): Promise<HashRate> {
  const params = {
    memoryKib: settings.argon2MemoryKib.schema.parse(process.env.CAREGATE_ARGON2_MEMORY_KIB ?? settings.argon2MemoryKib.default),
    timeCost: settings.argon2TimeCost.schema.parse(process.env.CAREGATE_ARGON2_TIME_COST ?? settings.argon2TimeCost.default),
    parallelism: 1,
  };
  const password = 'correct horse battery staple';
  const hashed = await hash(password, { algorithm: ARGON2ID, memoryCost: params.memoryKib, timeCost: params.timeCost, parallelism: params.parallelism });
  // One unmeasured verification so the allocator and the thread pool are warm.
  await verify(hashed, password);
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    if (!(await verify(hashed, password))) throw new Error('argon2 verify returned false');
    latencies.push(performance.now() - t);
  }
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { ...summarize(latencies, elapsed, 0), serverCpu: (used.user + used.system) / 1e6 / elapsed, params };
}

if (import.meta.main) {
  const seconds = Number(process.argv[2] ?? 5);
  process.stdout.write(JSON.stringify(await measureHashRate(seconds)) + '\n');
}
