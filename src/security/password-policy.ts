// Password policy: what a new password must satisfy (length, character classes, not common, not
// the person's own name, not recently used), with a message per failed rule for the person choosing it.
import { createRequire } from 'node:module';
import type { PasswordHasher } from './password-hasher.ts';

export type CharacterClass = 'lower' | 'upper' | 'digit' | 'symbol';

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  requireClasses: CharacterClass[];
  rejectCommon: boolean;
  historyCount: number;
  expiryDays: number | null;
}

// NIST SP 800-63B: length and a blocklist rather than composition rules or periodic expiry.
export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {
  minLength: 12,
  maxLength: 128,
  requireClasses: [],
  rejectCommon: true,
  historyCount: 5,
  expiryDays: null,
};

export type PasswordRule = 'min_length' | 'max_length' | 'character_class' | 'common' | 'contains_identity' | 'reused';

export interface PasswordProblem {
  rule: PasswordRule;
  message: string;
}

const CLASSES: Record<CharacterClass, { pattern: RegExp; message: string }> = {
  lower: { pattern: /\p{Ll}/u, message: 'Include a lower-case letter.' },
  upper: { pattern: /\p{Lu}/u, message: 'Include an upper-case letter.' },
  digit: { pattern: /\p{Nd}/u, message: 'Include a digit.' },
  symbol: { pattern: /[^\p{L}\p{N}\s]/u, message: 'Include a symbol, such as ! or #.' },
};

// Parts of an identity shorter than this match too many passwords by accident ("ann", "bob").
const MIN_IDENTITY_PART = 4;

export function checkPassword(
  policy: PasswordPolicy,
  password: string,
  identity?: { username?: string; email?: string | null },
): PasswordProblem[] {
  const normalised = password.normalize('NFKC');
  const length = [...normalised].length;
  const problems: PasswordProblem[] = [];
  if (length < policy.minLength) problems.push({ rule: 'min_length', message: `Use at least ${policy.minLength} characters.` });
  if (length > policy.maxLength) problems.push({ rule: 'max_length', message: `Use at most ${policy.maxLength} characters.` });
  for (const name of policy.requireClasses) {
    if (!CLASSES[name].pattern.test(normalised)) problems.push({ rule: 'character_class', message: CLASSES[name].message });
  }
  if (policy.rejectCommon && isCommonPassword(normalised)) {
    problems.push({ rule: 'common', message: 'This password is too common: choose another.' });
  }
  if (identity && containsIdentity(normalised, identity)) {
    problems.push({ rule: 'contains_identity', message: 'Do not use your username or email address in your password.' });
  }
  return problems;
}

/** The problem to show when `isReused` answers true (the check needs the stored hashes, so it is separate). */
export function reusedPasswordProblem(policy: PasswordPolicy): PasswordProblem {
  return { rule: 'reused', message: `Choose a password different from your last ${policy.historyCount}.` };
}

/** True when `password` matches one of the previous hashes; stops at the first match. */
export async function isReused(hasher: PasswordHasher, previousHashes: string[], password: string): Promise<boolean> {
  // One at a time: each verification holds argon2's memory cost, and a match usually comes early.
  for (const hashed of previousHashes) if (await hasher.verify(hashed, password)) return true;
  return false;
}

let common: Set<string> | undefined;

/** True for one of the ~49,000 most common passwords (zxcvbn-ts list), ignoring case. */
export function isCommonPassword(password: string): boolean {
  common ??= loadCommonPasswords();
  return common.has(password.normalize('NFKC').toLowerCase());
}

// Loaded on first use, not at import: decompressing the list costs tens of milliseconds and megabytes
// that a process which never sets a password should not pay.
function loadCommonPasswords(): Set<string> {
  const require = createRequire(import.meta.url);
  const { dictionary } = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
  return new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
}

function containsIdentity(password: string, identity: { username?: string; email?: string | null }): boolean {
  const lower = password.toLowerCase();
  const parts = [identity.username, localPart(identity.username), localPart(identity.email)];
  return parts.some((part) => {
    const candidate = part?.normalize('NFKC').toLowerCase();
    return candidate !== undefined && [...candidate].length >= MIN_IDENTITY_PART && lower.includes(candidate);
  });
}

function localPart(address: string | null | undefined): string | undefined {
  const at = address?.lastIndexOf('@') ?? -1;
  return at > 0 ? address!.slice(0, at) : undefined;
}

/** Errors in a policy an administrator configured; empty when it is acceptable. */
export function validatePasswordPolicy(p: PasswordPolicy): string[] {
  const errors: string[] = [];
  const whole = (n: unknown): n is number => Number.isInteger(n);
  if (!whole(p.minLength) || p.minLength < 8) errors.push('minLength must be an integer of at least 8.');
  if (!whole(p.maxLength) || p.maxLength < 64) errors.push('maxLength must be an integer of at least 64.');
  if (p.minLength > p.maxLength) errors.push('minLength must not exceed maxLength.');
  if (!whole(p.historyCount) || p.historyCount < 0 || p.historyCount > 24) errors.push('historyCount must be an integer from 0 to 24.');
  if (p.expiryDays !== null && (!whole(p.expiryDays) || p.expiryDays < 1 || p.expiryDays > 3650)) {
    errors.push('expiryDays must be null (never) or an integer from 1 to 3650.');
  }
  const unknown = p.requireClasses.filter((c) => !Object.hasOwn(CLASSES, c));
  if (unknown.length) errors.push(`requireClasses has unknown classes: ${unknown.join(', ')}.`);
  return errors;
}
