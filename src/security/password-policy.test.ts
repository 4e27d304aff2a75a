// Password policy: length in code points, character classes, the common-password list, the person's
// own name, reuse of earlier passwords, and the bounds an administrator may configure.
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { createPasswordHasher } from './password-hasher.ts';
import {
  checkPassword,
  DEFAULT_PASSWORD_POLICY,
  isCommonPassword,
  isReused,
  reusedPasswordProblem,
  validatePasswordPolicy,
  type PasswordPolicy,
} from './password-policy.ts';

const policy = DEFAULT_PASSWORD_POLICY;
const PASSPHRASE = 'velvet-otter-juggles-47-lanterns';
const rules = (problems: { rule: string }[]) => problems.map((p) => p.rule);

describe('DEFAULT_PASSWORD_POLICY', () => {
  it('asks for 12 to 128 characters, no composition rules, no common passwords, 5 remembered, no expiry', () => {
    expect(DEFAULT_PASSWORD_POLICY).toEqual({
      minLength: 12,
      maxLength: 128,
      requireClasses: [],
      rejectCommon: true,
      historyCount: 5,
      expiryDays: null,
    });
    expect(validatePasswordPolicy(DEFAULT_PASSWORD_POLICY)).toEqual([]);
  });
});

describe('checkPassword', () => {
  it('accepts a long random passphrase', () => {
    expect(checkPassword(policy, PASSPHRASE, { username: 'dana', email: 'dana@clinic.example' })).toEqual([]);
  });

  it('refuses a password shorter than minLength, saying how long it must be', () => {
    expect(checkPassword(policy, 'short-pw')).toEqual([{ rule: 'min_length', message: 'Use at least 12 characters.' }]);
  });

  it('refuses a password longer than maxLength', () => {
    expect(checkPassword(policy, 'a'.repeat(129))).toEqual([{ rule: 'max_length', message: 'Use at most 128 characters.' }]);
    expect(checkPassword(policy, 'ab'.repeat(64))).toEqual([]);
  });

  it('counts Unicode code points, not UTF-16 units: 12 emoji are 12 characters, 11 are too few', () => {
    expect(rules(checkPassword(policy, '🔒'.repeat(12)))).toEqual([]);
    expect(rules(checkPassword(policy, '🔒'.repeat(11)))).toEqual(['min_length']);
  });

  it('counts after NFKC normalisation: a decomposed é is one character', () => {
    const decomposed = 'e\u0301'.repeat(11); // 22 code points before normalisation, 11 after
    expect(rules(checkPassword(policy, decomposed))).toEqual(['min_length']);
  });

  it('names each required character class that is missing', () => {
    const strict: PasswordPolicy = { ...policy, requireClasses: ['lower', 'upper', 'digit', 'symbol'] };
    expect(checkPassword(strict, 'alllowercaseletters')).toEqual([
      { rule: 'character_class', message: 'Include an upper-case letter.' },
      { rule: 'character_class', message: 'Include a digit.' },
      { rule: 'character_class', message: 'Include a symbol, such as ! or #.' },
    ]);
    expect(checkPassword(strict, 'Mixed-Case-and-7')).toEqual([]);
  });

  it('does not count a space as a symbol', () => {
    const symbols: PasswordPolicy = { ...policy, requireClasses: ['symbol'] };
    expect(rules(checkPassword(symbols, 'words with spaces only'))).toEqual(['character_class']);
  });

  it('refuses a common password whatever its case, and says why', () => {
    const strict = { ...policy, minLength: 8 };
    expect(checkPassword(strict, 'Password123')).toEqual([{ rule: 'common', message: 'This password is too common: choose another.' }]);
  });

  it('accepts a common password when the policy does not reject them', () => {
    expect(checkPassword({ ...policy, minLength: 8, rejectCommon: false }, 'password123')).toEqual([]);
  });

  it('refuses a password containing the username or the email local part, ignoring case', () => {
    const identity = { username: 'margaret', email: 'm.hughes@clinic.example' };
    expect(checkPassword(policy, 'i-am-MARGARET-2024', identity)).toEqual([
      { rule: 'contains_identity', message: 'Do not use your username or email address in your password.' },
    ]);
    expect(rules(checkPassword(policy, 'xx-m.hughes-xx-yy', identity))).toEqual(['contains_identity']);
    expect(rules(checkPassword(policy, 'xx-margret-xx-yy', identity))).toEqual([]);
  });

  it('takes the local part of a username that is an email address', () => {
    expect(rules(checkPassword(policy, 'quentin-rules-ok', { username: 'quentin@clinic.example' }))).toEqual(['contains_identity']);
  });

  it('ignores identity parts shorter than 4 characters, and a missing email', () => {
    expect(checkPassword(policy, 'bob-the-builder-yes', { username: 'bob', email: null })).toEqual([]);
    expect(checkPassword(policy, 'ann-went-to-market', { email: 'ann@clinic.example' })).toEqual([]);
  });

  it('reports every rule that fails, not only the first', () => {
    expect(rules(checkPassword(policy, 'qwerty', { username: 'qwerty' }))).toEqual(['min_length', 'common', 'contains_identity']);
  });
});

describe('isCommonPassword', () => {
  it('uses a list of at least 10,000 passwords that holds well-known ones', () => {
    const require = createRequire(import.meta.url);
    const list: string[] = require('@zxcvbn-ts/language-common').dictionary['passwords-common'];
    expect(list.length).toBeGreaterThanOrEqual(10_000);
    for (const known of ['password123', 'qwertyuiop', 'iloveyou']) {
      expect(list).toContain(known);
      expect(isCommonPassword(known)).toBe(true);
    }
  });

  it('ignores case', () => {
    expect(isCommonPassword('QwertyUIOP')).toBe(true);
    expect(isCommonPassword('ILOVEYOU')).toBe(true);
  });

  it('does not flag a long random passphrase', () => {
    expect(isCommonPassword(PASSPHRASE)).toBe(false);
  });
});

describe('isReused', () => {
  // Low cost: these tests are about the comparison, not argon2's parameters.
  const hasher = createPasswordHasher({ memoryKib: 1024, timeCost: 1, parallelism: 1 });

  it('finds the password among earlier hashes, and not a different one', async () => {
    const previous = [await hasher.hash('first-old-password'), await hasher.hash('second-old-password')];
    await expect(isReused(hasher, previous, 'second-old-password')).resolves.toBe(true);
    await expect(isReused(hasher, previous, 'a-brand-new-password')).resolves.toBe(false);
  });

  it('answers false when there is no history', async () => {
    await expect(isReused(hasher, [], 'anything-at-all')).resolves.toBe(false);
  });

  it('has a message naming how many earlier passwords are remembered', () => {
    expect(reusedPasswordProblem(policy)).toEqual({ rule: 'reused', message: 'Choose a password different from your last 5.' });
  });
});

describe('validatePasswordPolicy', () => {
  const invalid = (change: Partial<PasswordPolicy>) => validatePasswordPolicy({ ...policy, ...change });

  it('refuses a minimum below 8 and a maximum below 64', () => {
    expect(invalid({ minLength: 7 })).toEqual(['minLength must be an integer of at least 8.']);
    expect(invalid({ maxLength: 63 })).toEqual(['maxLength must be an integer of at least 64.']);
  });

  it('refuses a minimum above the maximum', () => {
    expect(invalid({ minLength: 100, maxLength: 64 })).toEqual(['minLength must not exceed maxLength.']);
  });

  it('keeps the history between 0 and 24', () => {
    expect(invalid({ historyCount: 0 })).toEqual([]);
    expect(invalid({ historyCount: 24 })).toEqual([]);
    expect(invalid({ historyCount: 25 })).toEqual(['historyCount must be an integer from 0 to 24.']);
    expect(invalid({ historyCount: -1 })).toEqual(['historyCount must be an integer from 0 to 24.']);
  });

  it('allows no expiry, or 1 to 3650 days', () => {
    expect(invalid({ expiryDays: null })).toEqual([]);
    expect(invalid({ expiryDays: 1 })).toEqual([]);
    expect(invalid({ expiryDays: 3650 })).toEqual([]);
    expect(invalid({ expiryDays: 0 })).toEqual(['expiryDays must be null (never) or an integer from 1 to 3650.']);
    expect(invalid({ expiryDays: 3651 })).toEqual(['expiryDays must be null (never) or an integer from 1 to 3650.']);
  });

  it('refuses fractions and unknown character classes', () => {
    expect(invalid({ minLength: 12.5 })).toEqual(['minLength must be an integer of at least 8.']);
    expect(invalid({ requireClasses: ['lower', 'emoji' as 'lower'] })).toEqual(['requireClasses has unknown classes: emoji.']);
  });
});
