// The data directory (embedded database, generated master key, CLI socket) must exist and take
// writes: checked once before anything opens it, so the failure names CAREGATE_DATA_DIR instead of
// surfacing as a bare EACCES from PGlite or the key file.
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '../errors.ts';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'it is a file, not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
};

export function ensureDataDir(dataDir: string): void {
  const dir = path.resolve(dataDir);
  const probe = path.join(dir, `.write-check-${randomBytes(6).toString('hex')}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    closeSync(openSync(probe, 'wx', 0o600));
    rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const who = process.getuid ? `user ${process.getuid()}` : 'the user running Caregate';
    throw new ConfigError(
      `CAREGATE_DATA_DIR ${dir} is not a writable directory: ${REASONS[code] ?? (error as Error).message} — create it and let ${who} write to it, or set CAREGATE_DATA_DIR to a directory that can be written (in a container, mount a volume there)`,
      { setting: 'CAREGATE_DATA_DIR', reason: code || 'not_writable' },
    );
  }
}
