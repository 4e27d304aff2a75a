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
  /**
   * Waits as long as verifications have been taking here (a moving average, so it follows load),
   * without computing anything: a locked account answers in the time of a wrong password while a
   * flood against it costs no hashing.
   */
  pause(): Promise<void>;
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
  let averageMs: number | undefined;
  const timed = async <T>(work: Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work;
    } finally {
      const ms = performance.now() - started;
      averageMs = averageMs === undefined ? ms : averageMs * 0.9 + ms * 0.1;
    }
  };

  return {
    hash: (password) => hash(password, options),
    async verify(hashed, password) {
      try {
        return await timed(verify(hashed, password));
      } catch {
        return false;
      }
    },
    needsRehash: (hashed) => !hashed.startsWith(expected),
    async burn(password) {
      dummy ??= hash('caregate-timing-equaliser', options);
      await timed(verify(await dummy, password)).catch(() => false);
    },
    async pause() {
      // Until a verification has been timed, compute one: the first answer must not be the fast one.
      if (averageMs === undefined) return this.burn('');
      await new Promise((resolve) => setTimeout(resolve, averageMs));
    },
  };
}
