// argon2id password hashing with OWASP parameters (19 MiB, t=2, p=1 minimum). A hash made with
// weaker or different parameters verifies, then `needsRehash` tells the caller to upgrade it.
import { hash, verify } from '@node-rs/argon2';

// @node-rs/argon2 exports Algorithm as a const enum, which erasable TypeScript cannot import.
const ARGON2ID = 2;

export interface HashParams {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hashed: string, password: string): Promise<boolean>;
  needsRehash(hashed: string): boolean;
  /** Spends the same time as a real verification; used when the account does not exist. */
  burn(password: string): Promise<void>;
}

export function createPasswordHasher(params: HashParams): PasswordHasher {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKib,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  };
  const expected = `$argon2id$v=19$m=${params.memoryKib},t=${params.timeCost},p=${params.parallelism}$`;
  let dummy: Promise<string> | undefined;

  return {
    hash: (password) => hash(password, options),
    async verify(hashed, password) {
      try {
        return await verify(hashed, password);
      } catch {
        return false;
      }
    },
    needsRehash: (hashed) => !hashed.startsWith(expected),
    async burn(password) {
      dummy ??= hash('caregate-timing-equaliser', options);
      await verify(await dummy, password).catch(() => false);
    },
  };
}
