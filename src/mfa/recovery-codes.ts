// Recovery codes: the one-time codes a person prints at enrolment to sign in without their phone.
// Only keyed hashes are stored; a database dump reveals no usable code.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Crockford's base32 in lower case: no i, l, o or u, so nothing is mistaken when read back; a typed
 * o, i or l is read as 0, 1 or 1. 32 symbols, so 12 characters carry exactly 60 random bits.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUPS = 3;
const GROUP_LENGTH = 4;

/** `count` codes like `k7m2-x9qd-4tpw`, 60 random bits each. */
export function generateRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    // One random byte per character, keeping 5 bits: uniform because 256 is a multiple of 32.
    const chars = [...randomBytes(GROUPS * GROUP_LENGTH)].map((byte) => ALPHABET[byte & 31]);
    return Array.from({ length: GROUPS }, (_, g) => chars.slice(g * GROUP_LENGTH, (g + 1) * GROUP_LENGTH).join('')).join('-');
  });
}

/** Case, spaces and dashes do not matter, nor o/0 and i/l/1, so a code typed from paper still matches. */
function normalise(code: string): string {
  return code.toLowerCase().replace(/[\s-]+/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

/** HMAC-SHA256 (hex) of the normalised code, under the key from SealedBox.derive('recovery-codes'). */
export function hashRecoveryCode(key: Buffer, code: string): string {
  return createHmac('sha256', key).update(normalise(code)).digest('hex');
}

/** Index of the stored hash that `code` matches, or -1. Compares against every hash in constant time. */
export function findRecoveryCode(key: Buffer, hashes: string[], code: string): number {
  const candidate = Buffer.from(hashRecoveryCode(key, code), 'hex');
  let found = -1;
  hashes.forEach((hash, index) => {
    const stored = Buffer.from(hash, 'hex');
    // No early exit: the time taken does not tell which code, if any, matched.
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate) && found === -1) found = index;
  });
  return found;
}
