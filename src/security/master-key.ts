// Loads the master key from CAREGATE_MASTER_KEY, or for the embedded default creates one in the
// data directory (mode 0600) the first time and says so.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export function loadMasterKey(
  configured: string | undefined,
  dataDir: string,
  log: (message: string) => void,
): Buffer {
  if (configured) return Buffer.from(configured, 'base64');
  const file = path.resolve(dataDir, 'master.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  log(`Generated a master key at ${file}. Back it up: it encrypts signing keys and client secrets.`);
  return key;
}
