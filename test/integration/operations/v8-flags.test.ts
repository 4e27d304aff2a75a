// A server runs with a 16 MB semi-space (its young generation's garbage stays small under load),
// with V8's memory-reducing collection offered under a name of its own (to hand memory back once
// traffic is quiet, test/integration/operations/idle-collection.test.ts) and, on the embedded store,
// PGlite under V8's baseline WebAssembly compiler alone: it executes
// itself again with the flags before it opens anything (src/v8-flags.ts). The relaunch is the same
// process (the pid its supervisor started), and happens once.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliEndpoint } from '../../../src/cli/cli-endpoint.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { BASELINE_WASM_FLAG, cliSocketOf, IDLE_COLLECTOR_FLAG, missingV8Flags, opensEmbeddedStoreHere, YOUNG_GENERATION_FLAG } from '../../../src/v8-flags.ts';
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

async function serve(env: Record<string, string> = {}): Promise<CaregateProcess> {
  const dir = await tempDataDir();
  const entry: { server?: CaregateProcess; dir: TempDataDir } = { dir };
  started.push(entry);
  entry.server = await spawnCaregate(await freePort(), { CAREGATE_DATA_DIR: dir.path, ...env });
  return entry.server;
}
// DATABASE_URL empty: the embedded store, whichever mode the suite runs in.
const serveEmbedded = (env: Record<string, string> = {}) => serve({ DATABASE_URL: '', REDIS_URL: '', ...env });

describe('caregate serve on the embedded store', () => {
  it('runs as the process its parent started, once more with --liftoff-only and a 16 MB semi-space, and serves', async () => {
    const server = await serveEmbedded();
    const argv = commandLine(server.pid);
    expect(argv.filter((a) => a === BASELINE_WASM_FLAG)).toHaveLength(1);
    expect(argv.filter((a) => a === YOUNG_GENERATION_FLAG)).toHaveLength(1);
    expect(argv.filter((a) => a === IDLE_COLLECTOR_FLAG)).toHaveLength(1);
    expect(argv.slice(-2)).toEqual([expect.stringMatching(/bin\/caregate\.js$/), 'serve']);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("keeps V8's default compilers with CAREGATE_WASM_TIER_UP=true", async () => {
    const server = await serveEmbedded({ CAREGATE_WASM_TIER_UP: 'true' });
    expect(commandLine(server.pid)).not.toContain(BASELINE_WASM_FLAG);
    expect(commandLine(server.pid)).toContain(YOUNG_GENERATION_FLAG);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("keeps the operator's own semi-space size from NODE_OPTIONS", async () => {
    const server = await serveEmbedded({ NODE_OPTIONS: '--max-semi-space-size=32' });
    expect(commandLine(server.pid)).not.toContain(YOUNG_GENERATION_FLAG);
    expect(commandLine(server.pid)).toContain(BASELINE_WASM_FLAG);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

describe('caregate serve on the suite\'s store', () => {
  it('runs with a 16 MB semi-space on PostgreSQL too, and without --liftoff-only there', async () => {
    const server = await serve();
    const argv = commandLine(server.pid);
    expect(argv.filter((a) => a === YOUNG_GENERATION_FLAG)).toHaveLength(1);
    expect(argv.filter((a) => a === IDLE_COLLECTOR_FLAG)).toHaveLength(1);
    if (process.env.DATABASE_URL) expect(argv).not.toContain(BASELINE_WASM_FLAG);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

describe('a command on the embedded store with no server running', () => {
  it('runs once more with --liftoff-only and a 16 MB semi-space before it opens the store, and reads its stdin after', async () => {
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
    expect(argv.filter((a) => a === YOUNG_GENERATION_FLAG)).toHaveLength(1);
    // A command is short-lived: no collection to hand memory back.
    expect(argv).not.toContain(IDLE_COLLECTOR_FLAG);
    child.stdin.end('a long enough passphrase for Ada\n');
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ username: 'ada' });
  });
});

describe('a command on the embedded store relaunches before its command line loads', () => {
  // A hook every program image of the process loads (NODE_OPTIONS survives the execve): it writes
  // "start" when the image starts and the name of the CLI's command tree when that loads.
  const HOOK = `import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const log = process.env.LOAD_LOG;
appendFileSync(log, 'start\\n');
registerHooks({ load(url, context, next) {
  if (url.endsWith('/src/cli/build-program.ts')) appendFileSync(log, 'build-program\\n');
  return next(url, context);
} });
`;
  const loads = async (args: string[]) => {
    const dir = await tempDataDir();
    started.push({ dir });
    writeFileSync(path.join(dir.path, 'hook.mjs'), HOOK);
    const log = path.join(dir.path, 'loads.log');
    writeFileSync(log, '');
    const hook = pathToFileURL(path.join(dir.path, 'hook.mjs')).href;
    await runCaregateCli(args, { DATABASE_URL: '', REDIS_URL: '', CAREGATE_DATA_DIR: dir.path, LOAD_LOG: log, NODE_OPTIONS: `--import=${hook}` });
    return readFileSync(log, 'utf8').trim().split('\n');
  };

  it('starts twice and loads the command line once', async () => {
    expect(await loads(['tenant', 'list'])).toEqual(['start', 'start', 'build-program']);
  });
});

describe('which flags a process lacks', () => {
  const base = { wasmTierUp: false, execArgv: [], serving: true };
  it('adds --liftoff-only on the embedded store only, unless asked to tier up', () => {
    expect(missingV8Flags(base)).toEqual([BASELINE_WASM_FLAG, YOUNG_GENERATION_FLAG, IDLE_COLLECTOR_FLAG]);
    expect(missingV8Flags({ ...base, databaseUrl: 'postgres://db/caregate' })).toEqual([YOUNG_GENERATION_FLAG, IDLE_COLLECTOR_FLAG]);
    expect(missingV8Flags({ ...base, wasmTierUp: true })).toEqual([YOUNG_GENERATION_FLAG, IDLE_COLLECTOR_FLAG]);
  });

  it('offers the memory-reducing collection to a server only, under its own name: no global `gc`', () => {
    expect(IDLE_COLLECTOR_FLAG).toMatch(/^--expose-gc-as=\w+$/);
    expect(IDLE_COLLECTOR_FLAG).not.toBe('--expose-gc-as=gc');
    expect(missingV8Flags({ ...base, serving: false })).not.toContain(IDLE_COLLECTOR_FLAG);
  });

  it('lacks nothing as a command on PostgreSQL: it is short-lived, and a relaunch would cost more than it saves', () => {
    expect(missingV8Flags({ ...base, serving: false, databaseUrl: 'postgres://db/caregate' })).toEqual([]);
    expect(missingV8Flags({ ...base, serving: false })).toEqual([BASELINE_WASM_FLAG, YOUNG_GENERATION_FLAG]);
  });

  it('lacks nothing once relaunched, so it relaunches once', () => {
    expect(missingV8Flags({ ...base, execArgv: [BASELINE_WASM_FLAG, YOUNG_GENERATION_FLAG, IDLE_COLLECTOR_FLAG, '--cpu-prof'] })).toEqual([]);
    expect(missingV8Flags({ ...base, databaseUrl: 'postgres://db/caregate', execArgv: [YOUNG_GENERATION_FLAG, IDLE_COLLECTOR_FLAG] })).toEqual([]);
  });

  it("leaves an operator's semi-space size alone, from the command line or NODE_OPTIONS, in either spelling", () => {
    expect(missingV8Flags({ ...base, execArgv: ['--max-semi-space-size=64'] })).toEqual([BASELINE_WASM_FLAG, IDLE_COLLECTOR_FLAG]);
    expect(missingV8Flags({ ...base, nodeOptions: '--enable-source-maps --max_semi_space_size=8' })).toEqual([BASELINE_WASM_FLAG, IDLE_COLLECTOR_FLAG]);
    expect(missingV8Flags({ ...base, nodeOptions: '--max-old-space-size=512' })).toEqual([BASELINE_WASM_FLAG, YOUNG_GENERATION_FLAG, IDLE_COLLECTOR_FLAG]);
  });
});

describe('which commands relaunch before the command line loads (bin/caregate.js)', () => {
  const embedded = { CAREGATE_DATA_DIR: '/srv/caregate' };
  const noServer = () => false;

  it('a command on the embedded store with no running server', () => {
    expect(opensEmbeddedStoreHere({ argv: ['--json', 'tenant', 'list'], env: embedded, exists: noServer })).toBe(true);
    expect(opensEmbeddedStoreHere({ argv: ['user', 'create', '--tenant', 't', '--username', 'ada'], env: { ...embedded, DATABASE_URL: '' }, exists: noServer })).toBe(true);
  });

  it('not on PostgreSQL, where a command wants no flags', () => {
    expect(opensEmbeddedStoreHere({ argv: ['tenant', 'list'], env: { ...embedded, DATABASE_URL: 'postgres://db/caregate' }, exists: noServer })).toBe(false);
  });

  it('not for help or the version, which answer without the store', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help', 'user'], ['user', 'create', '--help'], ['-V'], ['--json', '--version']]) {
      expect(opensEmbeddedStoreHere({ argv, env: embedded, exists: noServer })).toBe(false);
    }
  });

  it('not for a server started with options first, which relaunches once with all of its flags later', () => {
    expect(opensEmbeddedStoreHere({ argv: ['--json', 'serve'], env: embedded, exists: noServer })).toBe(false);
  });

  it("not when a running server's socket is there: the command is handed to it", () => {
    const asked: string[] = [];
    const serverThere = (file: string) => (asked.push(file), true);
    expect(opensEmbeddedStoreHere({ argv: ['tenant', 'list'], env: embedded, exists: serverThere })).toBe(false);
    expect(asked).toEqual([cliEndpoint('/srv/caregate').socket]);
  });

  it('looks for the socket where the server makes it, in the data directory the configuration reads', () => {
    expect(cliSocketOf(embedded)).toBe(cliEndpoint(loadConfig(embedded).dataDir).socket);
    expect(cliSocketOf({})).toBe(cliEndpoint(loadConfig({}).dataDir).socket);
  });
});
