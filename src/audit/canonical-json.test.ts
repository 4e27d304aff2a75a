// Canonical JSON is what the audit hash chain hashes: it must not depend on key order.
import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts object keys so that insertion order does not change the output', () => {
    expect(canonicalJson({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
    expect(canonicalJson({ c: 3, a: 2, b: 1 })).toBe(canonicalJson({ a: 2, b: 1, c: 3 }));
  });

  it('sorts keys at every depth, including inside arrays', () => {
    expect(canonicalJson({ z: { y: 1, x: [{ q: 1, p: 2 }] }, a: null })).toBe('{"a":null,"z":{"x":[{"p":2,"q":1}],"y":1}}');
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
  });

  it('writes dates as ISO-8601 strings', () => {
    expect(canonicalJson({ at: new Date('2026-01-02T03:04:05.678Z') })).toBe('{"at":"2026-01-02T03:04:05.678Z"}');
  });

  it('hashes a date and its ISO string identically (what jsonb returns after a round trip)', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(canonicalJson({ at })).toBe(canonicalJson({ at: at.toISOString() }));
  });

  it('omits undefined properties and keeps null ones', () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it('writes top-level null and undefined as null', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('escapes strings and keys as JSON does', () => {
    expect(canonicalJson({ 'we"ird': 'line\nbreak "quoted"' })).toBe('{"we\\"ird":"line\\nbreak \\"quoted\\""}');
  });

  it('orders keys by code unit, not by locale', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4 })).toBe('{"B":2,"a":3,"b":1,"é":4}');
  });

  it('writes numbers, booleans and empty containers unchanged', () => {
    expect(canonicalJson({ n: 1.5, t: true, f: false, o: {}, l: [] })).toBe('{"f":false,"l":[],"n":1.5,"o":{},"t":true}');
  });
});
