// The API key's value: `cgk_<tenant>_<key id>_<secret>`. The prefix lets secret scanners (GitHub
// push protection, gitleaks) spot a leaked key, the tenant and id make the lookup one read by
// primary key, and the secret is 256 random bits. Only HMAC-SHA256(secret) under a key derived from
// the master key is stored: a slow password hash (argon2) exists to make guessing a low-entropy
// password expensive, but nobody can guess 256 random bits, so it would only add ~50 ms of CPU and
// memory to every request; the HMAC key also means a copy of the database alone cannot check a guess.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'cgk_';
const VALUE = /^cgk_([a-z0-9][a-z0-9-]{0,62})_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyValue {
  tenant: string;
  id: string;
  secret: string;
}

const hexOf = (uuid: string) => uuid.replaceAll('-', '');
const uuidOf = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** A new key of `tenant`: its id, the value shown once, and its secret (to hash). */
export function newApiKeyValue(tenant: string): ApiKeyValue & { value: string } {
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  return { tenant, id, secret, value: `${API_KEY_PREFIX}${tenant}_${hexOf(id)}_${secret}` };
}

/** The parts of a key value, or undefined when it does not have the key's shape. */
export function parseApiKeyValue(value: string): ApiKeyValue | undefined {
  const m = VALUE.exec(value);
  return m ? { tenant: m[1]!, id: uuidOf(m[2]!), secret: m[3]! } : undefined;
}

/** What is stored: the HMAC of the secret bound to the key's id (a hash copied to another row matches nothing). */
export function hashApiKeySecret(hmacKey: Buffer, id: string, secret: string): string {
  return createHmac('sha256', hmacKey).update(`${id}.${secret}`).digest('base64url');
}

/** True when `secret` is the one whose hash was stored (compared in constant time). */
export function apiKeySecretMatches(hmacKey: Buffer, id: string, secret: string, stored: string): boolean {
  const [a, b] = [Buffer.from(hashApiKeySecret(hmacKey, id, secret)), Buffer.from(stored)];
  return a.length === b.length && timingSafeEqual(a, b);
}
