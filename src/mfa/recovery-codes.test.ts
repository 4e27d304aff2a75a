import { randomBytes } from 'node:crypto';
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode } from './recovery-codes.ts';

const key = randomBytes(32);

describe('recovery codes', () => {
  it('generates ten codes by default, shaped like k7m2-x9qd-4tpw, all different', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    expect(new Set(codes).size).toBe(10);
    expect(generateRecoveryCodes(3)).toHaveLength(3);
  });

  it('never shows the ambiguous letters i, l, o or u', () => {
    expect(generateRecoveryCodes(200).join('')).not.toMatch(/[ilou]/);
  });

  it('carries at least 60 random bits per code (12 characters from 32 symbols, all used)', () => {
    const chars = generateRecoveryCodes(500).join('').replace(/-/g, '');
    expect(new Set(chars).size).toBe(32);
    expect(12 * Math.log2(32)).toBeGreaterThanOrEqual(60);
  });

  it('hashes with HMAC-SHA256 under the given key, ignoring case, spaces and dashes', () => {
    const hash = hashRecoveryCode(key, 'k7m2-x9qd-4tpw');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(key, 'K7M2 X9QD 4TPW')).toBe(hash);
    expect(hashRecoveryCode(key, ' k7m2x9qd4tpw ')).toBe(hash);
    expect(hashRecoveryCode(randomBytes(32), 'k7m2-x9qd-4tpw')).not.toBe(hash);
  });

  it('reads a typed o as 0 and i or l as 1', () => {
    expect(hashRecoveryCode(key, 'oil2-x9qd-4tpw')).toBe(hashRecoveryCode(key, '0112-x9qd-4tpw'));
  });

  it('finds the index of the matching hash, or -1', () => {
    const codes = generateRecoveryCodes();
    const hashes = codes.map((c) => hashRecoveryCode(key, c));
    expect(findRecoveryCode(key, hashes, codes[7])).toBe(7);
    expect(findRecoveryCode(key, hashes, codes[0].toUpperCase())).toBe(0);
    expect(findRecoveryCode(key, hashes, 'zzzz-zzzz-zzzz')).toBe(-1);
    expect(findRecoveryCode(key, [], codes[0])).toBe(-1);
  });

  it('does not match under another key, nor against malformed stored hashes', () => {
    const [code] = generateRecoveryCodes(1);
    expect(findRecoveryCode(randomBytes(32), [hashRecoveryCode(key, code)], code)).toBe(-1);
    expect(findRecoveryCode(key, ['', 'not-hex', hashRecoveryCode(key, code).slice(0, 10)], code)).toBe(-1);
  });
});
