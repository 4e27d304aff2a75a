export { createPasswordHasher, type PasswordHasher, type HashParams } from './password-hasher.ts';
export { createSealedBox, type SealedBox } from './sealed-box.ts';
export { loadMasterKey } from './master-key.ts';
