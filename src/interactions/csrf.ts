// CSRF tokens for interaction forms: an HMAC of the interaction id under a per-tenant key, so a
// form can only be posted by someone who was shown it. Cookies are SameSite=Lax as well.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function csrfToken(key: Buffer, uid: string): string {
  return createHmac('sha256', key).update(`interaction:${uid}`).digest('base64url');
}

export function csrfValid(key: Buffer, uid: string, token: unknown): boolean {
  if (typeof token !== 'string') return false;
  const expected = Buffer.from(csrfToken(key, uid));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
