// Two V8 settings Caregate runs with, which V8 takes only when it starts: its flags are frozen once
// it runs, and NODE_OPTIONS refuses one of them. So a process about to open the store (`caregate
// serve`, or a command on the embedded store with no running server to hand it to) executes itself
// again with the flags it lacks (process.execve: the same process, pid and open descriptors, a new program image)
// before it opens anything.
//
// --liftoff-only, on the embedded store. It is PostgreSQL compiled to WebAssembly (PGlite); V8
// compiles its functions twice: at once with its baseline compiler (Liftoff), then the hot ones
// again with its optimising compiler (TurboFan), in background threads, for seconds after start
// and again whenever the workload shifts (a first directory sync). Those compile jobs are most of
// a serving process's memory: measured on the 2-core machine of docs/performance.md, a start
// peaked at 786 MB and settled at 273 MB; with Liftoff alone it peaked and settled at 236 MB.
// Refresh grants, which spend half their time in PGlite, ran as fast either way within the noise
// of three paired runs. A command that opens the store itself gains the same: `caregate user list`
// took 0.84–0.99 s and 200 MB with Liftoff alone (the second start included), 1.07–1.32 s and
// 650 MB without. CAREGATE_WASM_TIER_UP=true keeps V8's default (both compilers).
//
// --max-semi-space-size=16, on either store: V8 sizes its young generation from the heap limit,
// which it derives from the machine's memory, and on a 24 GB machine let it grow past 16 MB a
// semi-space. A server under load then kept that much more garbage between collections, and the
// young generation's pages stay resident: measured with `npm run bench -- --startup` and
// `--directory`, 16 MB took the memory after 20,000 token requests from 510 to 377 MB (embedded)
// and from 386 to 290 MB (PostgreSQL), and a first sync of 10,004 directory users from a 426 MB to
// a 351 MB peak (docs/performance.md); 8 and 4 MB saved no more. It costs more frequent young
// collections: in two paired endpoint runs per setting, embedded introspection went from 54 and 53 %
// to 52 % of bare oidc-provider (itself run with the flag), userinfo and discovery within the noise,
// PostgreSQL no slower. An operator who sets --max-semi-space-size (NODE_OPTIONS, or node's command
// line) keeps theirs. What memory still grows under load is the old generation, which V8 keeps (bare
// oidc-provider alike): --heap-growing-percent=30 held it to 1.25-1.27 x idle, but cost a fifth to a
// third of the relying-party endpoint rates and doubled their p99 in a paired run, so it is not set.
//
// --expose-gc-as=__caregateIdleCollect, for a server on either store: V8 then offers a full,
// memory-reducing collection under that name (not as `gc`), which the server asks for once a burst of
// traffic is over and memory grew (src/observability/idle-collection.ts): after 20,000 token requests
// it gives back what the burst took.
import { existsSync } from 'node:fs';
import path from 'node:path';

export const BASELINE_WASM_FLAG = '--liftoff-only';
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=16';
export const IDLE_COLLECTOR_NAME = '__caregateIdleCollect';
export const IDLE_COLLECTOR_FLAG = `--expose-gc-as=${IDLE_COLLECTOR_NAME}`;

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

const setsSemiSpace = (args: string) => /--max[-_]semi[-_]space[-_]size\b/.test(args);

interface ProcessFacts {
  databaseUrl?: string;
  wasmTierUp: boolean;
  /** `caregate serve`, not a command. */
  serving: boolean;
  /** node's own command-line flags (process.execArgv). */
  execArgv: readonly string[];
  nodeOptions?: string;
}

/**
 * The flags a process with this configuration should run with and does not: empty once it has
 * relaunched (or was started with them), so it relaunches at most once. A command on PostgreSQL
 * wants none: it is short-lived, so its young generation does not matter, and a relaunch would add
 * 0.13 s to its 0.32 s (`caregate tenant list`, measured).
 */
export function missingV8Flags({ databaseUrl, wasmTierUp, serving, execArgv, nodeOptions }: ProcessFacts): string[] {
  if (databaseUrl && !serving) return [];
  const flags: string[] = [];
  if (!databaseUrl && !wasmTierUp && !execArgv.includes(BASELINE_WASM_FLAG)) flags.push(BASELINE_WASM_FLAG);
  if (!setsSemiSpace(execArgv.join(' ')) && !setsSemiSpace(nodeOptions ?? '')) flags.push(YOUNG_GENERATION_FLAG);
  if (serving && !execArgv.includes(IDLE_COLLECTOR_FLAG)) flags.push(IDLE_COLLECTOR_FLAG);
  return flags;
}

/** Before the store is opened (and anything else): returns only when no relaunch is wanted. */
export function relaunchWithV8Flags({ databaseUrl, wasmTierUp }: { databaseUrl?: string; wasmTierUp: boolean }, { serving }: { serving: boolean }): void {
  // Windows and Node before 22.15 cannot replace their own image: they run with V8's defaults.
  const execve = (process as { execve?: Execve }).execve;
  if (typeof execve !== 'function') return;
  const flags = missingV8Flags({ databaseUrl, wasmTierUp, serving, execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS });
  if (flags.length === 0) return;
  execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], process.env);
}

/** CAREGATE_WASM_TIER_UP as src/config reads it (a value it refuses stops the process once it loads). */
const wantsTierUp = (env: NodeJS.ProcessEnv) => env.CAREGATE_WASM_TIER_UP === 'true' || env.CAREGATE_WASM_TIER_UP === '1';

/** Arguments that answer without the store: help and the version. */
const ANSWERED_AT_ONCE = new Set(['-h', '--help', 'help', '-V', '--version']);

interface CommandFacts {
  /** The command line after `caregate` (process.argv.slice(2)). */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Whether a file exists (a running server's CLI socket). */
  exists(file: string): boolean;
}

/**
 * Where a running embedded server takes command lines: the socket of src/cli/cli-endpoint.ts, in
 * the data directory as src/config reads it (CAREGATE_DATA_DIR, else ./data).
 */
export const cliSocketOf = (env: NodeJS.ProcessEnv) => path.resolve(env.CAREGATE_DATA_DIR || './data', 'cli', 'caregate.sock');

/**
 * Whether a command will surely open the embedded store in this process, so that bin/caregate.js
 * relaunches it before the command line and the configuration load: not on PostgreSQL (a command
 * there wants no flags), not for help, the version or `serve`, and not when a running server's
 * socket is there (the command is most likely handed to it). Whatever this lets through still
 * relaunches in src/main.ts once the command is about to open the store, only later. Relaunching
 * first took `caregate tenant list` from 0.95 to 0.81 s and 1.20 to 0.99 s of CPU (medians of 15
 * paired runs on the 2-core machine, docs/performance.md).
 */
export function opensEmbeddedStoreHere({ argv, env, exists }: CommandFacts): boolean {
  if (env.DATABASE_URL) return false;
  if (argv.length === 0 || argv.some((arg) => ANSWERED_AT_ONCE.has(arg))) return false;
  // `caregate --json serve`: a server wants one flag more, and src/main.ts relaunches it with all.
  if (argv.includes('serve')) return false;
  return !exists(cliSocketOf(env));
}

/**
 * Called by bin/caregate.js before the command line and the configuration load, so that a relaunch
 * repeats Node's own start and nothing of Caregate's: `caregate serve` (0.25-0.3 s sooner ready
 * on PostgreSQL, measured), and a command that will open the embedded store here
 * (opensEmbeddedStoreHere).
 * The two settings the flags depend on are read as src/config reads them; a value it refuses stops
 * the process once it loads, with its message.
 */
export function relaunchBeforeLoading(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  const wasmTierUp = wantsTierUp(env);
  if (argv[0] === 'serve') relaunchWithV8Flags({ databaseUrl: env.DATABASE_URL || undefined, wasmTierUp }, { serving: true });
  else if (opensEmbeddedStoreHere({ argv, env, exists: existsSync })) relaunchWithV8Flags({ wasmTierUp }, { serving: false });
}
