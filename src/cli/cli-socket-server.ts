// A running embedded server takes CLI command lines on a Unix socket in its data directory: PGlite
// may be opened by one process only, and the in-memory store (lockouts, sessions) lives only in the
// server, so a command runs best inside it. The CLI proves it may by the secret beside the socket
// (src/cli/cli-endpoint.ts); the server then parses the command line with the same definitions the
// CLI uses and runs it against its own runtime, sending output back and asking the CLI for any
// file or standard input the command reads, and to write any file it writes (a report's --output). Only CLI commands exist here: never serve or migrate.
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Runtime } from '../runtime.ts';
import { buildProgram } from './build-program.ts';
import { cliEndpoint, prepareCliEndpoint, removeCliEndpoint } from './cli-endpoint.ts';
import { CLI_PROTOCOL, MAX_FRAME_CHARS, onFrames, sendFrame, type Frame } from './cli-frames.ts';
import { reportError, wantsJson } from './report-error.ts';
import { runCommand } from './run-command.ts';
import type { Terminal } from './terminal.ts';

const HELLO_MAX_CHARS = 256 * 1024;
const HELLO_WITHIN_MS = 5000;

export interface CliListener {
  socket: string;
  /** Stops taking command lines, removes the socket and secret, and waits for commands still running. */
  close(): Promise<void>;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

interface Hello {
  argv: string[];
  operator: string;
  /** The CLI's standard error is a terminal (progress bars are drawn there). */
  tty: boolean;
}

/** The hello frame, if it carries the right secret and a well-formed command line. */
function acceptHello(frame: Frame, secret: string): Hello | string {
  if (frame.v !== CLI_PROTOCOL) return `this server speaks CLI protocol ${CLI_PROTOCOL}: run the caregate command of the same installation`;
  if (typeof frame.secret !== 'string' || !timingSafeEqual(digest(frame.secret), digest(secret))) {
    return 'wrong CLI secret (did the server restart meanwhile? run the command again)';
  }
  if (!Array.isArray(frame.argv) || !frame.argv.every((a) => typeof a === 'string')) return 'malformed command line';
  const operator = typeof frame.operator === 'string' && frame.operator ? frame.operator.slice(0, 128) : 'cli';
  return { argv: frame.argv as string[], operator, tty: frame.tty === true };
}

/** One connection: the hello, then the command line run here with the CLI as its terminal. */
function serveConnection(rt: Runtime, socket: Socket, secret: string): Promise<void> {
  return new Promise<void>((resolve) => {
    let hello: Hello | undefined;
    let asked = 0;
    const answers = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
    const ask = (request: Frame) =>
      new Promise<string>((resolveAnswer, rejectAnswer) => {
        const id = ++asked;
        answers.set(id, { resolve: resolveAnswer, reject: rejectAnswer });
        sendFrame(socket, { ...request, id });
      });
    const terminal: Terminal = {
      out: (text) => sendFrame(socket, { out: text }),
      err: (text) => sendFrame(socket, { err: text }),
      readFile: (file) => ask({ read: 'file', file }),
      readStdin: () => ask({ read: 'stdin' }),
      writeFile: (file, text) => ask({ write: 'file', file, text }).then(() => undefined),
      get errIsTTY() {
        return hello?.tty ?? false;
      },
    };

    const timer = setTimeout(() => socket.destroy(), HELLO_WITHIN_MS);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      for (const answer of answers.values()) answer.reject(new Error('the command line went away'));
      answers.clear();
      if (!hello) resolve();
    });

    onFrames(socket, (frame) => {
      if (hello) {
        const answer = answers.get(Number(frame.id));
        answers.delete(Number(frame.id));
        if (typeof frame.text === 'string') answer?.resolve(frame.text);
        else answer?.reject(Object.assign(new Error(String((frame.error as Frame | undefined)?.message ?? 'cannot read')), { code: (frame.error as Frame | undefined)?.code }));
        return;
      }
      clearTimeout(timer);
      const accepted = acceptHello(frame, secret);
      if (typeof accepted === 'string') {
        rt.log.warn('CLI command line refused', { reason: accepted });
        sendFrame(socket, { refused: accepted });
        socket.end();
        return;
      }
      hello = accepted;
      run(rt, accepted, terminal).then((exit) => {
        sendFrame(socket, { exit });
        socket.end();
        resolve();
      });
    }, () => (hello ? MAX_FRAME_CHARS : HELLO_MAX_CHARS));
  });
}

async function run(rt: Runtime, { argv, operator }: Hello, terminal: Terminal): Promise<number> {
  const json = wantsJson(argv);
  let exitCode = 0;
  const program = buildProgram({ terminal, json, execute: async (job) => void (exitCode = await runCommand(rt, job, { terminal, operator, json })) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(terminal, error, json);
  }
}

export async function listenForCli(rt: Runtime, dataDir: string): Promise<CliListener> {
  const endpoint = cliEndpoint(dataDir);
  const secret = prepareCliEndpoint(endpoint);
  const running = new Set<Promise<void>>();
  const server: Server = createServer((socket) => {
    const served = serveConnection(rt, socket, secret).finally(() => running.delete(served));
    running.add(served);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(endpoint.socket, () => resolve()));
  // The directory already keeps everyone else out; the socket's own mode says the same.
  chmodSync(endpoint.socket, 0o600);
  const remove = () => removeCliEndpoint(endpoint);
  process.once('exit', remove);
  return {
    socket: endpoint.socket,
    async close() {
      process.off('exit', remove);
      server.close();
      remove();
      await Promise.allSettled(running);
    },
  };
}
