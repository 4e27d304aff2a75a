// Where a running embedded server takes CLI command lines: `<dataDir>/cli/`, a directory only the
// server's user may enter (0700), holding the Unix socket (0600) and a secret made afresh at each
// start (0600). Node cannot ask the kernel who is on the other end of a socket (no SO_PEERCRED), so
// these file permissions are the boundary: only the server's user (and root) can connect and read
// the secret, and the secret proves that the client could read it.
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliRefusedError, ConfigError } from '../errors.ts';

export interface CliEndpoint {
  dir: string;
  socket: string;
  secretFile: string;
}

/** sun_path holds 108 bytes on Linux, its terminating NUL included (104 on macOS). */
const MAX_SOCKET_PATH = 103;

export function cliEndpoint(dataDir: string): CliEndpoint {
  const dir = path.resolve(dataDir, 'cli');
  return { dir, socket: path.join(dir, 'caregate.sock'), secretFile: path.join(dir, 'secret') };
}

/**
 * Server side: makes the directory owner-only (refusing one that is a symlink or another user's),
 * removes a socket left by a dead server — this process holds the data directory's lock, so no
 * live one owns it — and writes a new secret.
 */
export function prepareCliEndpoint(endpoint: CliEndpoint): string {
  if (Buffer.byteLength(endpoint.socket) > MAX_SOCKET_PATH) {
    throw new ConfigError(`the CLI socket path ${endpoint.socket} is longer than a Unix socket allows; use a shorter CAREGATE_DATA_DIR`);
  }
  mkdirSync(endpoint.dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(endpoint.dir);
  if (!stat.isDirectory() || (process.getuid && stat.uid !== process.getuid())) {
    throw new ConfigError(`${endpoint.dir} must be a directory owned by the user Caregate runs as`);
  }
  chmodSync(endpoint.dir, 0o700);
  rmSync(endpoint.socket, { force: true });
  rmSync(endpoint.secretFile, { force: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(endpoint.secretFile, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** Client side: the running server's secret; a user who may not read it may not use the socket either. */
export function readCliSecret(endpoint: CliEndpoint): string {
  try {
    return readFileSync(endpoint.secretFile, 'utf8');
  } catch (error) {
    throw new CliRefusedError(
      `cannot read ${endpoint.secretFile} (${(error as NodeJS.ErrnoException).code}): run the command as the user the Caregate server runs as`,
    );
  }
}

export function removeCliEndpoint(endpoint: CliEndpoint): void {
  rmSync(endpoint.socket, { force: true });
  rmSync(endpoint.secretFile, { force: true });
}
