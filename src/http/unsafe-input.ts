// What Caregate refuses in any request input before it reaches a service or a store: a NUL
// character (PostgreSQL text cannot hold one, and a lookup with it fails as a 500), and objects
// nested deeper than any legitimate body (a recursive merge or validator would exhaust the stack).
import { ValidationError } from '../errors.ts';

/** The deepest nesting a request body may have; Caregate's deepest input (the policy) has 4. */
export const MAX_INPUT_DEPTH = 32;

/** True when a string carries a NUL character. */
export const hasNul = (value: string): boolean => value.includes('\u0000');

/** What is wrong with a parsed input (a JSON or form body), or undefined when nothing is. */
export function findUnsafeInput(input: unknown): string | undefined {
  // Iterative, so a body nested thousands deep is measured without recursing into it.
  const pending: Array<{ value: unknown; depth: number }> = [{ value: input, depth: 0 }];
  while (pending.length) {
    const { value, depth } = pending.pop()!;
    if (typeof value === 'string') {
      if (hasNul(value)) return 'contains a NUL character (\\u0000), which Caregate does not accept';
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) return `is nested deeper than ${MAX_INPUT_DEPTH} levels, the most Caregate accepts`;
    for (const [key, child] of Object.entries(value)) {
      if (hasNul(key)) return 'has a field name with a NUL character (\\u0000), which Caregate does not accept';
      pending.push({ value: child, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Throws a 400 (invalid_request) naming the problem when the input is unsafe. */
export function refuseUnsafeInput(input: unknown, what: string): void {
  const problem = findUnsafeInput(input);
  if (problem) throw new ValidationError(`The ${what} ${problem}.`);
}
