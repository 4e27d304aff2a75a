import type { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** Validates input against a schema, turning zod issues into one readable ValidationError. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  // A key given as undefined was not given (CLI options left out); strict schemas refuse only
  // keys that carry a value.
  const given = input && typeof input === 'object' && !Array.isArray(input)
    ? Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined))
    : input;
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw new ValidationError(issues.join('; '), { issues });
}
