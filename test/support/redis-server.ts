// A private, throwaway `redis-server` child process (no persistence) for tests that need a Redis of
// their own when the suite runs in embedded mode.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './caregate.ts';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s (idempotent). */
  stop(): Promise<void>;
}

/** `password`: the server asks for it (requirepass); the URL returned does not carry it. */
export async function startPrivateRedis(readyWithinMs = 10_000, { password }: { password?: string } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const auth = password ? ['--requirepass', password] : [];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined); // reported through the race below while starting; ignored after
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (await Promise.race([answersPing(port), spawnError])) return { port, url: `redis://127.0.0.1:${port}/0`, stop };
    if (!running() || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** True when a PING on a fresh connection gets PONG, or a demand for the password. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}
