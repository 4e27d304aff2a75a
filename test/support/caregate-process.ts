// Runs Caregate as real child processes (`bin/caregate.js serve` and CLI commands), the way an
// operator does, for tests that need more than one process on the same stores.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/caregate.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The environment of a child: this one without Jest's NODE_OPTIONS, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  delete inherited.NODE_OPTIONS;
  return { ...inherited, ...env };
}

/** Runs `caregate --json <args>`; resolves with the parsed JSON, rejects with stderr on failure. */
export async function runCaregateCli(args: string[], env: Record<string, string>): Promise<any> {
  const child = spawn(process.execPath, [BIN, '--json', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`caregate ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
  return JSON.parse(stdout);
}

export interface CaregateProcess {
  /** Where this process listens (not the public base URL, which every node shares). */
  readonly url: string;
  readonly pid: number;
  /** What the process wrote so far, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s (idempotent). */
  stop(): Promise<void>;
}

/** Starts `caregate serve` on `port` and resolves once its /health answers 200. */
export async function spawnCaregate(port: number, env: Record<string, string>, readyWithinMs = 30_000): Promise<CaregateProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve'], {
    cwd: ROOT,
    // No metrics listener unless a test asks (its default port would be shared by every child).
    env: childEnv({ CAREGATE_METRICS_PORT: 'off', ...env, PORT: String(port), CAREGATE_HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;

  const stop = async () => {
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const proc: CaregateProcess = { url: `http://127.0.0.1:${port}`, pid: child.pid!, output: () => output, stop };

  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (!running()) throw new Error(`caregate serve (port ${port}) exited early:\n${output}`);
    const res = await fetch(`${proc.url}/health`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    if (res?.status === 200) return proc;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`caregate serve (port ${port}) was not healthy within ${readyWithinMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Runs `caregate serve` (for a start that should fail) with exactly `env` — nothing inherited, so
 * the suite's own DATABASE_URL or REDIS_URL never leaks into it — and resolves once it has exited.
 */
export async function serveUntilExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  return { code, stdout, stderr };
}
