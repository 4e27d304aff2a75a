// What a tenant records about its people beyond the standard fields: the user types it uses
// (physician, nurse, clerical staff… — the clinic product's list by default) and custom profile
// attributes it declares (licence number, NPI, specialties), each typed, validated on every write,
// and optionally carried in tokens under the `profile` scope.
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { keySchema } from './schemas.ts';

export const DEFAULT_USER_TYPES = ['physician', 'non_physician_provider', 'nurse', 'clinical_staff', 'clerical_billing_staff', 'other'];

const attributeDeclaration = z.strictObject({
  key: keySchema,
  label: z.string().min(1).max(200),
  type: z.enum(['string', 'number', 'boolean', 'date', 'list']).describe('list: several strings (specialties)'),
  /** Allowed values (string and list attributes). */
  values: z.array(z.string().min(1).max(200)).max(500).optional(),
  pattern: z.string().max(200).optional().describe('A regular expression a string value must match'),
  required: z.boolean().default(false),
  /** Carried in tokens (scope `profile`, claim `attributes`). */
  claim: z.boolean().default(false),
});

export const userProfileSchema = z.strictObject({
  userTypes: z.array(keySchema).min(1).max(50).default(DEFAULT_USER_TYPES),
  attributes: z.array(attributeDeclaration).max(100).default([]),
}).refine((p) => new Set(p.attributes.map((a) => a.key)).size === p.attributes.length, 'attributes: each key once');

export type UserProfileSchema = z.output<typeof userProfileSchema>;
export type AttributeDeclaration = UserProfileSchema['attributes'][number];

/** The tenant's declarations with defaults filled in (a tenant that declared nothing has the default user types). */
export const resolveUserProfile = (stored: unknown): UserProfileSchema => userProfileSchema.parse(stored ?? {});

function checkValue(declaration: AttributeDeclaration, value: unknown): string | undefined {
  const { type, values, pattern } = declaration;
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
  if (type === 'boolean') return typeof value === 'boolean' ? undefined : 'must be true or false';
  if (type === 'date') return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'must be a date (YYYY-MM-DD)';
  const items = type === 'list' ? value : [value];
  if (!Array.isArray(items) || !items.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 500)) return type === 'list' ? 'must be a list of text values' : 'must be text';
  if (values && !items.every((v) => values.includes(v))) return `must be one of: ${values.join(', ')}`;
  if (pattern && !items.every((v) => new RegExp(`^(?:${pattern})$`).test(v))) return 'has the wrong format';
  return undefined;
}

/**
 * A user's attributes after `patch` (null removes one), checked against the declarations: unknown
 * keys, wrong types and missing required values are refused, naming each field.
 */
export function applyAttributes(profile: UserProfileSchema, current: Record<string, unknown>, patch: Record<string, unknown> | undefined): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  const problems: string[] = [];
  for (const key of Object.keys(next)) if (!profile.attributes.some((a) => a.key === key)) problems.push(`attributes.${key}: not an attribute this tenant declares`);
  for (const declaration of profile.attributes) {
    const value = next[declaration.key];
    if (value === undefined) {
      if (declaration.required) problems.push(`attributes.${declaration.key}: required`);
      continue;
    }
    const problem = checkValue(declaration, value);
    if (problem) problems.push(`attributes.${declaration.key}: ${problem}`);
  }
  if (problems.length) throw new ValidationError(problems.join('; '), { issues: problems });
  return next;
}

/** Refuses a user type the tenant does not list. */
export function checkUserType(profile: UserProfileSchema, userType: string | null | undefined): void {
  if (userType && !profile.userTypes.includes(userType)) throw new ValidationError(`userType: must be one of ${profile.userTypes.join(', ')}`);
}

/** The attributes a token carries: those declared as claims. */
export function claimedAttributes(profile: UserProfileSchema, attributes: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attributes ?? {}).filter(([key]) => profile.attributes.some((a) => a.key === key && a.claim)));
}
