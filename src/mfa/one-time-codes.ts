// Six-digit codes sent by email or SMS (second factor, address confirmation). One live code per
// key: a new one replaces the old; a few wrong answers kill it; a few sends per window per key.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { EphemeralStore } from '../ephemeral/index.ts';

export type IssueResult =
  | { ok: true; code: string; expiresAt: Date }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

/** 'expired' also covers a code never issued: the store cannot tell the two apart, and neither should a caller. */
export type VerifyOutcome = 'ok' | 'invalid' | 'expired' | 'too_many_tries';

export interface OneTimeCodeOptions {
  ttlSeconds?: number;
  maxTries?: number;
  maxSends?: number;
  sendWindowSeconds?: number;
}

export interface OneTimeCodes {
  issue(key: string): Promise<IssueResult>;
  verify(key: string, code: string): Promise<VerifyOutcome>;
}

/** SHA-256 bound to the key, so the same code for two people is stored differently. */
const digest = (key: string, code: string) => createHash('sha256').update(`${key}\n${code}`).digest('hex');

/** Stored value: "<issue id>.<expiry ms>.<hash>"; the id gives each issued code its own try counter. */
const encode = (id: string, expiresAt: number, hash: string) => `${id}.${expiresAt}.${hash}`;
function decode(value: string) {
  const [id, expiresAt, hash] = value.split('.');
  return { id, expiresAt: Number(expiresAt), hash };
}

export function createOneTimeCodes(
  ephemeral: EphemeralStore,
  { ttlSeconds = 600, maxTries = 5, maxSends = 3, sendWindowSeconds = 600 }: OneTimeCodeOptions = {},
): OneTimeCodes {
  const codeKey = (key: string) => `otc:code:${key}`;
  const triesKey = (key: string, id: string) => `otc:tries:${key}:${id}`;
  const sendsKey = (key: string) => `otc:sends:${key}`;
  const windowKey = (key: string) => `otc:window:${key}`;

  /** Counts this send in the key's window; the window opens with its first send. */
  async function sendAllowed(key: string): Promise<number | undefined> {
    const now = Date.now();
    await ephemeral.setIfAbsent(windowKey(key), String(now), sendWindowSeconds);
    const sends = await ephemeral.incr(sendsKey(key), sendWindowSeconds);
    if (sends <= maxSends) return undefined;
    const opened = Number((await ephemeral.get(windowKey(key))) ?? now);
    return Math.max(1, Math.ceil((opened + sendWindowSeconds * 1000 - now) / 1000));
  }

  return {
    async issue(key) {
      const retryAfterSeconds = await sendAllowed(key);
      if (retryAfterSeconds !== undefined) return { ok: false, reason: 'rate_limited', retryAfterSeconds };
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const expiresAt = Date.now() + ttlSeconds * 1000;
      await ephemeral.set(codeKey(key), encode(randomBytes(9).toString('base64url'), expiresAt, digest(key, code)), ttlSeconds);
      return { ok: true, code, expiresAt: new Date(expiresAt) };
    },

    async verify(key, code) {
      const stored = await ephemeral.get(codeKey(key));
      if (stored === undefined) return 'expired';
      const { id, hash } = decode(stored);
      // Count the try before comparing, atomically: concurrent guesses each take a distinct number,
      // so no more than maxTries of them are ever compared, and a dead code stays dead.
      const tries = await ephemeral.incr(triesKey(key, id), ttlSeconds);
      if (tries > maxTries) return 'too_many_tries';
      if (!/^[0-9]{6}$/.test(code)) return 'invalid';
      if (!timingSafeEqual(Buffer.from(digest(key, code), 'hex'), Buffer.from(hash, 'hex'))) return 'invalid';

      // Single use: only the request that removes this very code succeeds.
      const taken = await ephemeral.take(codeKey(key));
      if (taken === stored) return 'ok';
      if (taken !== undefined) {
        // A newer code replaced this one meanwhile: put it back, with what is left of its lifetime.
        const left = Math.ceil((decode(taken).expiresAt - Date.now()) / 1000);
        if (left > 0) await ephemeral.setIfAbsent(codeKey(key), taken, left);
      }
      return 'expired';
    },
  };
}
