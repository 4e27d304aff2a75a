// Child processes, CPU pinning and temp directories for the benchmark, with cleanup that runs however
// the run ends (normal finish, an error, Ctrl-C): no server or temp dir outlives `npm run bench`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------
// CPU plan. Servers get one core of their own and the load generator (this process) the others,
// so a figure is "what one core of this machine serves" and the client never steals server time.

export interface CpuPlan {
  /** The core every measured server (and the hash-rate child) is pinned to, if pinning is possible. */
  serverCpu?: number;
  /** Cores this process (the load generator) was pinned to. */
  loadCpus: number[];
  /** One line for the report saying what was done. */
  note: string;
}

/** Cpus_allowed_list of this process, e.g. "0-3,6" → [0,1,2,3,6]. */
function allowedCpus(): number[] {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
    const list = line?.split(':')[1]?.trim();
    if (!list) return [];
    return list.split(',').flatMap((part) => {
      const [from, to] = part.split('-').map(Number);
      return to === undefined ? [from!] : Array.from({ length: to - from! + 1 }, (_, i) => from! + i);
    });
  } catch {
    return [];
  }
}

const hasTaskset = () => spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

export function planCpus(): CpuPlan {
  const cpus = allowedCpus();
  if (!hasTaskset()) return { loadCpus: cpus, note: 'taskset not found: nothing pinned (server and load generator share all cores)' };
  if (cpus.length === 0) return { loadCpus: [], note: 'could not read the allowed CPU list: nothing pinned' };
  const [serverCpu, ...rest] = cpus;
  if (rest.length === 0) {
    return { serverCpu, loadCpus: [serverCpu!], note: `only CPU ${serverCpu} available: servers pinned to it, load generator shares it` };
  }
  // -a: every thread of this process (libuv pool, V8 helpers), including ones started later.
  const pinned = spawnSync('taskset', ['-a', '-p', '-c', rest.join(','), String(process.pid)], { stdio: 'ignore' }).status === 0;
  return {
    serverCpu,
    loadCpus: pinned ? rest : cpus,
    note: pinned
      ? `servers and hash-rate child pinned to CPU ${serverCpu} (taskset -c ${serverCpu}); load generator pinned to CPU ${rest.join(',')}`
      : `servers pinned to CPU ${serverCpu}; could not pin the load generator (it may share that core)`,
  };
}

// ---------------------------------------------------------------------------------------------
// Children and temp dirs, all torn down by cleanup() or, as a last resort, on process exit.

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Last lines the child wrote (stdout and stderr), for error messages. */
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<Child>();
/** Short-lived commands (CLI setup, the hash-rate child) still running. */
const commands = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const cleanups: Array<() => Promise<void>> = [];

/** Runs `node …args` as a child, pinned to `cpu` when given. */
export function spawnNode(name: string, args: string[], { env, cpu, cwd }: { env: NodeJS.ProcessEnv; cpu?: number; cwd?: string }): Child {
  const [cmd, argv] = cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', String(cpu), process.execPath, ...args]];
  // taskset execs node, so the pid we hold is node's own and signals reach it directly.
  const proc = spawn(cmd, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const child: Child = {
    name,
    proc,
    output: () => tail.trim(),
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      children.delete(child);
    },
  };
  children.add(child);
  exited.then(() => children.delete(child));
  return child;
}

/**
 * Runs `node …args` to completion and returns its stdout; throws with its stderr on failure.
 * `onStderrLine` also gets each line the child writes to stderr as it comes (its progress).
 */
export async function runNode(args: string[], { env, cpu, stdin, onStderrLine }: { env: NodeJS.ProcessEnv; cpu?: number; stdin?: string; onStderrLine?: (line: string) => void }): Promise<string> {
  const [cmd, argv] = cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', String(cpu), process.execPath, ...args]];
  const proc = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  commands.add(proc);
  proc.once('exit', () => commands.delete(proc));
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  let pending = '';
  proc.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    if (!onStderrLine) return;
    const lines = (pending + c.toString()).split('\n');
    pending = lines.pop()!;
    for (const line of lines) onStderrLine(line);
  });
  proc.stdin.end(stdin ?? '');
  const code = await new Promise<number | null>((resolve, reject) => proc.once('error', reject).once('exit', resolve));
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}: ${err.trim() || out.trim()}`);
  return out;
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Registers async cleanup (e.g. dropping a database) to run in cleanup(). */
export function onCleanup(fn: () => Promise<void>) {
  cleanups.push(fn);
}

export async function cleanup() {
  for (const proc of commands) proc.kill('SIGKILL');
  await Promise.all([...children].map((c) => c.stop(5000)));
  for (const fn of cleanups.splice(0).reverse()) await fn().catch((error: Error) => process.stderr.write(`bench: cleanup: ${error.message}\n`));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Last resort when the run dies: kill children, remove temp dirs (synchronously, on 'exit'). */
export function installExitHooks() {
  process.once('exit', () => {
    for (const c of children) c.proc.kill('SIGKILL');
    for (const proc of commands) proc.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping servers…\n`);
      cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Server CPU use, so the report can show that a figure is bounded by the server (≈100% of its core)
// and not by the load generator or by waiting on another process.

let clockTicks: number | undefined;

/** utime + stime of a /proc …/stat file, in clock ticks (fields 14 and 15, after the command name). */
function statTicks(file: string): number {
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function ticksPerSecond(): number {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
  return clockTicks;
}

/** A function returning the CPU seconds (user + system, all threads) `pid` has used so far. */
export function cpuMeter(pid: number): () => number | undefined {
  const ticks = ticksPerSecond();
  return () => {
    try {
      return statTicks(`/proc/${pid}/stat`) / ticks;
    } catch {
      return undefined;
    }
  };
}

/**
 * The part of it spent on libuv's thread pool (threads named "libuv-worker"): where argon2 hashes
 * (@node-rs/argon2's async tasks) run, next to little else (async fs, DNS). It tells a request that
 * computed a hash from one that did not. The pool's threads live as long as the process, so their
 * sum only grows.
 */
export function poolCpuMeter(pid: number): () => number | undefined {
  const ticks = ticksPerSecond();
  return () => {
    try {
      let sum = 0;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
          if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'libuv-worker') sum += statTicks(`/proc/${pid}/task/${tid}/stat`);
        } catch {
          // A thread that ended between the listing and the read.
        }
      }
      return sum / ticks;
    } catch {
      return undefined;
    }
  };
}

// ---------------------------------------------------------------------------------------------

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Polls `url` until it answers 200; fails early (with the child's output) if the child exits. The
 * start-up figures poll every 20 ms so that the time to ready is not rounded up by the polling.
 */
export async function waitForHttp(url: string, child: Child, { timeoutMs = 60_000, intervalMs = 100 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  child.exited.then(() => (died = true));
  let last = '';
  while (Date.now() < deadline) {
    if (died) throw new Error(`${child.name} exited before it was ready:\n${child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms (${last}):\n${child.output()}`);
}

// ---------------------------------------------------------------------------------------------
// Resident memory of a server, from /proc/<pid>/status.

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory now, MB. */
export const rssMb = (pid: number) => (statusKb(pid, 'VmRSS') ?? NaN) / 1024;
/** The highest resident memory the process has had (the kernel's VmHWM), MB. */
export const peakRssMb = (pid: number) => (statusKb(pid, 'VmHWM') ?? NaN) / 1024;

export interface SettledRss {
  /** RSS once it held within 2 % for `windowMs`, MB. */
  mb: number;
  /** Milliseconds waited for that. */
  waitedMs: number;
  /** False when it was still moving after `timeoutMs` (mb is then the last sample). */
  settled: boolean;
}

/**
 * Resident memory once the process is idle: sampled every 250 ms until the samples of the last
 * `windowMs` lie within 2 % of each other, and not before `notBeforeMs`. Right after start a process
 * is not idle yet — PGlite's WebAssembly is recompiled by V8's optimising tier in the background for
 * several seconds, which briefly takes hundreds of MB — so a single early sample would say little.
 */
export async function settledRss(pid: number, { windowMs = 3000, notBeforeMs = 0, timeoutMs = 30_000 } = {}): Promise<SettledRss> {
  const started = performance.now();
  const samples: Array<{ at: number; mb: number }> = [];
  for (;;) {
    const at = performance.now();
    samples.push({ at, mb: rssMb(pid) });
    while (samples.length && samples[0]!.at < at - windowMs) samples.shift();
    const values = samples.map((s) => s.mb);
    const full = at - started >= Math.max(windowMs, notBeforeMs) && samples.length >= windowMs / 250 - 1;
    if (full && Math.max(...values) <= Math.min(...values) * 1.02) return { mb: values.at(-1)!, waitedMs: at - started, settled: true };
    if (at - started > timeoutMs) return { mb: values.at(-1)!, waitedMs: at - started, settled: false };
    await sleep(250);
  }
}
