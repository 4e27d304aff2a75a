// The embedded database is PostgreSQL compiled to WebAssembly (PGlite). V8 compiles its functions
// twice: at once with its baseline compiler (Liftoff), then the hot ones again with its optimising
// compiler (TurboFan), in background threads, for seconds after start and again whenever the
// workload shifts (a first directory sync). Those compile jobs are most of a serving process's
// memory: measured on the 2-core machine of docs/performance.md, a start peaked at 786 MB and
// settled at 273 MB; with Liftoff alone it peaked and settled at 236 MB. Refresh grants, which
// spend half their time in PGlite, ran as fast either way within the noise of three paired runs.
//
// A command that opens the store itself gains the same: `caregate user list` took 0.84–0.99 s and
// 200 MB with Liftoff alone (the second start included), 1.07–1.32 s and 650 MB without.
//
// V8 takes `--liftoff-only` only when it starts: its flags are frozen once it runs and
// NODE_OPTIONS refuses them. So a process about to open the embedded store (`caregate serve`, a
// command with no running server to hand it to) executes itself again with the flag
// (process.execve: the same process, pid and open descriptors, a new program image) before it
// opens anything. CAREGATE_WASM_TIER_UP=true keeps V8's default (both compilers).
export const BASELINE_WASM_FLAG = '--liftoff-only';

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Whether a server with this configuration should run again under the baseline compiler alone. */
export function wantsBaselineWasm({ databaseUrl, wasmTierUp, execArgv, canExecve }: { databaseUrl?: string; wasmTierUp: boolean; execArgv: readonly string[]; canExecve: boolean }): boolean {
  // PostgreSQL: no WebAssembly runs. Already relaunched (or started so): nothing to do. Windows
  // and Node before 22.15 cannot replace their own image.
  return !databaseUrl && !wasmTierUp && !execArgv.includes(BASELINE_WASM_FLAG) && canExecve;
}

/** Before the store is opened (and anything else): returns only when no relaunch is wanted. */
export function relaunchForEmbeddedStore({ databaseUrl, wasmTierUp }: { databaseUrl?: string; wasmTierUp: boolean }): void {
  const execve = (process as { execve?: Execve }).execve;
  if (!wantsBaselineWasm({ databaseUrl, wasmTierUp, execArgv: process.execArgv, canExecve: typeof execve === 'function' })) return;
  execve!(process.execPath, [process.execPath, BASELINE_WASM_FLAG, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
