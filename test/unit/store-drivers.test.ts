// Each store's driver is loaded when that store is opened, not with the code: the embedded default
// never loads ioredis, and a PostgreSQL deployment never loads PGlite (its WebAssembly alone is
// ~100 MB of memory and most of a start). Checked in a fresh Node process, which imports the whole
// server (app.ts and the runtime) and then lists the packages in its module cache.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The store packages a process has loaded after importing `modules` and running `then`. */
function loadedDrivers(modules: string[], then = ''): string[] {
  const script = `
    import { createRequire } from 'node:module';
    ${modules.map((m, i) => `const m${i} = await import(${JSON.stringify(`${ROOT}/${m}`)});`).join('\n')}
    ${then}
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(['ioredis', '@electric-sql/pglite', 'pg'].filter((p) => cache.some((f) => f.includes('/node_modules/' + p + '/')))));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as string[];
}

describe('store drivers', () => {
  it('are not loaded by importing the server', () => {
    const drivers = loadedDrivers(['src/app.ts', 'src/runtime.ts', 'src/server.ts']);
    expect(drivers).not.toContain('ioredis');
    expect(drivers).not.toContain('@electric-sql/pglite');
  }, 60_000);

  it('ioredis is loaded when a Redis store is opened', () => {
    const drivers = loadedDrivers(['src/ephemeral/index.ts'], `m0.createRedisStore('redis://127.0.0.1:1', () => {}).close?.();`);
    expect(drivers).toContain('ioredis');
  }, 60_000);
});
