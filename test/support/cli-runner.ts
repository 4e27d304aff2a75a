// The `caregate` command line as an operator runs it, for the CLI suites: real child processes
// (`node bin/caregate.js [--json] …`) with only the settings of a fresh store (a temp data dir, or a
// new PostgreSQL database with Redis in production mode), so the developer's shell cannot leak in.
// With --json, success is one JSON document on stdout and nothing on stderr; failure is one JSON
// error on stderr, nothing on stdout, and a non-zero exit code.
import { expect } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './caregate.ts';
import { spawnCaregate, type CaregateProcess } from './caregate-process.ts';
import { redisUrlForTest, testMode, type FreshDatabase } from './stores.ts';

const BIN = fileURLToPath(new URL('../../bin/caregate.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Standard input (a password given with --…-stdin). */
  input?: string;
  /** --json (the default) or the human output. */
  json?: boolean;
  /** Settings added for this command only. */
  env?: Record<string, string>;
}

export interface CliRunner {
  /** The settings every command gets. */
  readonly env: Record<string, string>;
  /** Everything every command printed, stdout and stderr (a secret must be in none of it). */
  readonly printed: string[];
  run(args: string[], options?: RunOptions): Promise<CliOutcome>;
  /** A command that must succeed: exit 0, nothing on stderr, exactly one JSON document on stdout. */
  ok(args: string[], options?: Omit<RunOptions, 'json'>): Promise<any>;
  /** A command that must fail: non-zero exit, nothing on stdout, one JSON error on stderr. */
  refused(args: string[], options?: Omit<RunOptions, 'json'>): Promise<{ code: number; error: { error: string; error_description: string } }>;
}

export function cliRunner({ dataDir, db, user }: { dataDir: string; db?: FreshDatabase; user: string }): CliRunner {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dataDir,
    USER: user,
    CAREGATE_DATA_DIR: dataDir,
    ...(db ? { DATABASE_URL: db.url, CAREGATE_MASTER_KEY: process.env.CAREGATE_MASTER_KEY! } : {}),
    ...(redisUrlForTest() ? { REDIS_URL: redisUrlForTest()! } : {}),
  };
  if (db && !env.CAREGATE_MASTER_KEY) throw new Error('production mode needs CAREGATE_MASTER_KEY in the environment');
  const printed: string[] = [];

  const run = (args: string[], { input = '', json = true, env: extra = {} }: RunOptions = {}): Promise<CliOutcome> =>
    new Promise((resolve) => {
      const child = execFile(process.execPath, [BIN, ...(json ? ['--json'] : []), ...args], { cwd: ROOT, env: { ...env, ...extra }, timeout: 120_000 }, (error, stdout, stderr) => {
        printed.push(stdout, stderr);
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
      child.stdin!.on('error', () => undefined); // EPIPE when a command exits without reading it
      child.stdin!.end(input);
    });

  return {
    env,
    printed,
    run,
    async ok(args, options) {
      const out = await run(args, options);
      if (out.code !== 0) throw new Error(`caregate ${args.join(' ')} exited ${out.code}: ${out.stderr}${out.stdout}`);
      expect(out.stderr).toBe('');
      const lines = out.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      return JSON.parse(lines[0]!);
    },
    async refused(args, options) {
      const out = await run(args, options);
      expect(out.code).not.toBe(0);
      expect(out.stdout).toBe('');
      const lines = out.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      return { code: out.code, error: JSON.parse(lines[0]!) };
    },
  };
}

/**
 * Embedded mode: starts `caregate serve` on the runner's data directory, so each command runs
 * inside the server over its socket — as on a running clinic, and about ten times faster than a
 * process opening PGlite for every command. Production mode: undefined; each command writes
 * PostgreSQL itself, which covers the path a command takes when no embedded server listens.
 */
export async function serveForCli(runner: CliRunner, { baseUrl }: { baseUrl?: string } = {}): Promise<CaregateProcess | undefined> {
  if (testMode() !== 'embedded') return undefined;
  const port = await freePort();
  // `baseUrl`: the public URL the server names in what it prints (default: where it listens).
  return spawnCaregate(port, { ...runner.env, CAREGATE_BASE_URL: baseUrl ?? `http://127.0.0.1:${port}`, CAREGATE_BOOTSTRAP_PASSWORD: 'bootstrap-password-of-a-cli-suite' }, 180_000);
}
