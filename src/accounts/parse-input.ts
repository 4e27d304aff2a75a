import type { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** Validates input against a schema, turning zod issues into one readable ValidationError. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw new ValidationError(issues.join('; '), { issues });
}
