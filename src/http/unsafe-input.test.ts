// The input refusals every request body passes before a handler sees it: NUL characters and nesting depth.
import { describe, expect, it } from '@jest/globals';
import { findUnsafeInput, MAX_INPUT_DEPTH, refuseUnsafeInput } from './unsafe-input.ts';
import { ValidationError } from '../errors.ts';

/** `{ a: { a: … { a: 'leaf' } } }` with `levels` objects. */
function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('findUnsafeInput', () => {
  it('accepts ordinary bodies, arrays and nesting up to the limit', () => {
    expect(findUnsafeInput({ username: 'ada', roles: ['nurse', { location: 'north' }], n: 1, ok: true, none: null })).toBeUndefined();
    expect(findUnsafeInput(nested(MAX_INPUT_DEPTH))).toBeUndefined();
    expect(findUnsafeInput(undefined)).toBeUndefined();
  });

  it('refuses a NUL character in a value, in an array, and in a field name', () => {
    expect(findUnsafeInput({ username: 'a\u0000b' })).toMatch(/NUL/);
    expect(findUnsafeInput({ roles: ['ok', ['\u0000']] })).toMatch(/NUL/);
    expect(findUnsafeInput({ mfa: { 'mo\u0000de': 'off' } })).toMatch(/field name with a NUL/);
  });

  it('refuses one level past the limit, and 100,000 levels without exhausting the stack', () => {
    expect(findUnsafeInput(nested(MAX_INPUT_DEPTH + 1))).toBe(`is nested deeper than ${MAX_INPUT_DEPTH} levels, the most Caregate accepts`);
    expect(findUnsafeInput(nested(100_000))).toMatch(/deeper than 32/);
    let list: unknown = [];
    for (let i = 0; i < 100_000; i++) list = [list];
    expect(findUnsafeInput(list)).toMatch(/deeper than 32/);
  });
});

describe('refuseUnsafeInput', () => {
  it('throws a 400 invalid_request naming what was refused', () => {
    expect(() => refuseUnsafeInput({ x: '\u0000' }, 'request body')).toThrow(new ValidationError('The request body contains a NUL character (\\u0000), which Caregate does not accept.'));
    expect(() => refuseUnsafeInput({ x: 'fine' }, 'request body')).not.toThrow();
  });
});
