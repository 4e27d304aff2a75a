// The CLI side of the socket a running embedded server listens on (src/cli/cli-socket-server.ts):
// hand it the command line with the secret, print what it sends, answer its requests for files and
// standard input from here (and write here the files it writes), and end with its exit code.
import { connect } from 'node:net';
import { CaregateError, CliRefusedError } from '../errors.ts';
import { cliEndpoint, readCliSecret } from './cli-endpoint.ts';
import { CLI_PROTOCOL, onFrames, sendFrame } from './cli-frames.ts';
import type { Terminal } from './terminal.ts';

/** Nobody listens: no socket, or one a dead server left. */
const NOBODY = new Set(['ENOENT', 'ECONNREFUSED']);

/** The command's exit code, or undefined when no server listens in `dataDir` (the caller then runs the command itself). */
export async function forwardToServer(dataDir: string, argv: string[], terminal: Terminal, operator: string): Promise<number | undefined> {
  const endpoint = cliEndpoint(dataDir);
  const socket = connect(endpoint.socket);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (NOBODY.has(code)) return undefined;
    if (code === 'EACCES') throw new CliRefusedError(`cannot reach the running server at ${endpoint.socket} (EACCES): run the command as the user the Caregate server runs as`);
    throw error;
  }
  let secret: string;
  try {
    secret = readCliSecret(endpoint);
  } catch (error) {
    socket.destroy();
    throw error;
  }

  return new Promise<number>((resolve, reject) => {
    let exit: number | undefined;
    let refused: string | undefined;
    const answer = (id: unknown, read: Promise<string>) =>
      read.then(
        (text) => sendFrame(socket, { id, text }),
        (error: NodeJS.ErrnoException) => sendFrame(socket, { id, error: { code: error.code, message: error.message } }),
      );
    onFrames(socket, (frame) => {
      if (typeof frame.out === 'string') terminal.out(frame.out);
      else if (typeof frame.err === 'string') terminal.err(frame.err);
      else if (frame.read === 'file' && typeof frame.file === 'string') void answer(frame.id, terminal.readFile(frame.file));
      else if (frame.read === 'stdin') void answer(frame.id, terminal.readStdin());
      else if (frame.write === 'file' && typeof frame.file === 'string' && typeof frame.text === 'string') void answer(frame.id, terminal.writeFile(frame.file, frame.text).then(() => ''));
      else if (typeof frame.exit === 'number') exit = frame.exit;
      else if (typeof frame.refused === 'string') refused = frame.refused;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (exit !== undefined) resolve(exit);
      else if (refused !== undefined) reject(new CliRefusedError(`the running server refused this command line: ${refused}`));
      else reject(new CaregateError(`the running server at ${endpoint.socket} closed the connection before the command finished`));
    });
    sendFrame(socket, { v: CLI_PROTOCOL, secret, argv, operator, tty: Boolean(terminal.errIsTTY) });
  });
}
