// A server on the embedded store runs PGlite under V8's baseline WebAssembly compiler alone: it
// executes itself again with --liftoff-only before it opens anything (src/embedded-process.ts),
// which keeps its memory at a third of what the optimising compiler's jobs took. The relaunch is
// the same process (the pid its supervisor started), and happens once.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BASELINE_WASM_FLAG, wantsBaselineWasm } from '../../../src/embedded-process.ts';
import { runCaregateCli, spawnCaregate, type CaregateProcess } from '../../support/caregate-process.ts';
import { freePort } from '../../support/free-port.ts';
import { tempDataDir, type TempDataDir } from '../../support/stores.ts';

const started: Array<{ server?: CaregateProcess; dir: TempDataDir }> = [];
afterEach(async () => {
  for (const { server, dir } of started.splice(0)) {
    await server?.stop();
    await dir.cleanup();
  }
});

/** The command line the kernel holds for `pid` now (after any execve). */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

async function serveEmbedded(env: Record<string, string> = {}): Promise<CaregateProcess> {
  const dir = await tempDataDir();
  const entry: { server?: CaregateProcess; dir: TempDataDir } = { dir };
  started.push(entry);
  // DATABASE_URL empty: the embedded store, whichever mode the suite runs in.
  entry.server = await spawnCaregate(await freePort(), { DATABASE_URL: '', REDIS_URL: '', CAREGATE_DATA_DIR: dir.path, ...env });
  return entry.server;
}

describe('caregate serve on the embedded store', () => {
  it('runs as the process its parent started, once more with --liftoff-only, and serves', async () => {
    const server = await serveEmbedded();
    const argv = commandLine(server.pid);
    expect(argv.filter((a) => a === BASELINE_WASM_FLAG)).toHaveLength(1);
    expect(argv.slice(-2)).toEqual([expect.stringMatching(/bin\/caregate\.js$/), 'serve']);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("keeps V8's default compilers with CAREGATE_WASM_TIER_UP=true", async () => {
    const server = await serveEmbedded({ CAREGATE_WASM_TIER_UP: 'true' });
    expect(commandLine(server.pid)).not.toContain(BASELINE_WASM_FLAG);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

describe('a command on the embedded store with no server running', () => {
  it('runs once more with --liftoff-only before it opens the store, and reads its stdin after', async () => {
    const dir = await tempDataDir();
    started.push({ dir });
    const env = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: '', REDIS_URL: '', CAREGATE_DATA_DIR: dir.path };
    await runCaregateCli(['tenant', 'create', 'relaunch'], env as Record<string, string>);
    // The command waits for the password on stdin once its store is open: by then it has relaunched.
    const bin = fileURLToPath(new URL('../../../bin/caregate.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '--json', 'user', 'create', '--tenant', 'relaunch', '--username', 'ada', '--password-stdin'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    let argv: string[] = [];
    while (child.exitCode === null && !argv.includes(BASELINE_WASM_FLAG)) {
      argv = commandLine(child.pid!);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(argv.filter((a) => a === BASELINE_WASM_FLAG)).toHaveLength(1);
    child.stdin.end('a long enough passphrase for Ada\n');
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ username: 'ada' });
  });
});

describe('whether a server relaunches', () => {
  const base = { wasmTierUp: false, execArgv: [], canExecve: true };
  it('relaunches on the embedded store only, once, and only where Node can replace its image', () => {
    expect(wantsBaselineWasm(base)).toBe(true);
    expect(wantsBaselineWasm({ ...base, databaseUrl: 'postgres://db/caregate' })).toBe(false);
    expect(wantsBaselineWasm({ ...base, execArgv: ['--cpu-prof', BASELINE_WASM_FLAG] })).toBe(false);
    expect(wantsBaselineWasm({ ...base, canExecve: false })).toBe(false);
    expect(wantsBaselineWasm({ ...base, wasmTierUp: true })).toBe(false);
  });
});
