// Secrets at rest: AES-256-GCM bound to a context, under keys derived from the master key.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createSealedBox } from './sealed-box.ts';

const masterKey = randomBytes(32);
const box = createSealedBox(masterKey);

/** Flips one bit of the base64url part at `index` of a sealed value. */
function flipBit(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('createSealedBox', () => {
  it('opens what it sealed in the same context', () => {
    const sealed = box.seal('{"kty":"EC","d":"secret"}', 'signing-key:acme:key-1');
    expect(box.open(sealed, 'signing-key:acme:key-1')).toBe('{"kty":"EC","d":"secret"}');
  });

  it('round-trips an empty string and non-ASCII text', () => {
    expect(box.open(box.seal('', 'ctx'), 'ctx')).toBe('');
    expect(box.open(box.seal('pässwörd ✓ 秘密', 'ctx'), 'ctx')).toBe('pässwörd ✓ 秘密');
  });

  it('does not contain the plaintext and serialises as "v1.<iv>.<tag>.<ciphertext>"', () => {
    const sealed = box.seal('client-secret-value', 'client:ehr');
    expect(sealed).not.toContain('client-secret-value');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
  });

  it('seals the same plaintext differently each time (fresh IV)', () => {
    expect(box.seal('same', 'ctx')).not.toBe(box.seal('same', 'ctx'));
  });

  it('refuses to open a value in another context (a secret copied to another row)', () => {
    const sealed = box.seal('secret', 'client:ehr');
    expect(() => box.open(sealed, 'client:analytics')).toThrow();
  });

  it('refuses to open a value whose ciphertext was tampered with', () => {
    const sealed = box.seal('secret', 'ctx');
    expect(() => box.open(flipBit(sealed, 3), 'ctx')).toThrow();
  });

  it('refuses to open a value whose tag or IV was tampered with', () => {
    const sealed = box.seal('secret', 'ctx');
    expect(() => box.open(flipBit(sealed, 2), 'ctx')).toThrow();
    expect(() => box.open(flipBit(sealed, 1), 'ctx')).toThrow();
  });

  it('refuses to open a value sealed under another master key', () => {
    const sealed = createSealedBox(randomBytes(32)).seal('secret', 'ctx');
    expect(() => box.open(sealed, 'ctx')).toThrow();
  });

  it('refuses a value of an unknown version or shape', () => {
    const sealed = box.seal('secret', 'ctx');
    expect(() => box.open(sealed.replace(/^v1/, 'v2'), 'ctx')).toThrow(/unrecognised/);
    expect(() => box.open('not-sealed', 'ctx')).toThrow(/unrecognised/);
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => createSealedBox(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('derives a 32-byte secret that is the same on every node sharing the master key', () => {
    const other = createSealedBox(Buffer.from(masterKey));
    const a = box.derive('cookie-keys');
    expect(a).toHaveLength(32);
    expect(other.derive('cookie-keys').equals(a)).toBe(true);
    expect(box.derive('cookie-keys').equals(a)).toBe(true);
  });

  it('derives distinct secrets for distinct purposes and distinct master keys', () => {
    expect(box.derive('cookie-keys').equals(box.derive('csrf'))).toBe(false);
    expect(createSealedBox(randomBytes(32)).derive('cookie-keys').equals(box.derive('cookie-keys'))).toBe(false);
  });

  it('never hands out the master key itself as a derived secret', () => {
    expect(box.derive('seal:v1').equals(masterKey)).toBe(false);
  });
});
