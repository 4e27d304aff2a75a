export { createPasswordHasher, type PasswordHasher, type HashParams } from './password-hasher.ts';
export { createSealedBox, type SealedBox } from './sealed-box.ts';
export { loadMasterKey } from './master-key.ts';
export { createLockout, DEFAULT_LOCKOUT_POLICY, DEFAULT_ADDRESS_THROTTLE, type Lockout, type LockoutPolicy, type AddressThrottlePolicy, type AttemptDecision, type Attempt, type LockState } from './lockout.ts';
export { checkPassword, isReused, isCommonPassword, validatePasswordPolicy, DEFAULT_PASSWORD_POLICY, type PasswordPolicy, type PasswordProblem, type PasswordRule } from './password-policy.ts';
