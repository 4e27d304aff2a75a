// Loads the master key from CAREGATE_MASTER_KEY, or for the embedded default creates one in the
// data directory (mode 0600) the first time and says so.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '../errors.ts';

export function loadMasterKey(
  configured: string | undefined,
  dataDir: string,
  log: (message: string) => void,
): Buffer {
  if (configured) return Buffer.from(configured, 'base64');
  const file = path.resolve(dataDir, 'master.key');
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length === 32) return key;
    throw new ConfigError(
      `The master key file ${file} does not hold a 32-byte base64 key (CAREGATE_DATA_DIR): restore it from your backup — without it the signing keys and client secrets in this data directory cannot be read`,
      { setting: 'CAREGATE_DATA_DIR', reason: 'bad_master_key_file' },
    );
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  log(`Generated a master key at ${file}. Back it up: it encrypts signing keys and client secrets.`);
  return key;
}
