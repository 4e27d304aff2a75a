// Second factors: authenticator-app codes (TOTP), printed recovery codes, codes sent by email or
// SMS, and passkeys. Delivery of the sent codes is src/notify's job.
export { createTotp, type Totp } from './totp.ts';
export { generateRecoveryCodes, hashRecoveryCode, findRecoveryCode } from './recovery-codes.ts';
export {
  createOneTimeCodes,
  type OneTimeCodes,
  type OneTimeCodeOptions,
  type IssueResult,
  type VerifyOutcome,
} from './one-time-codes.ts';
export {
  createWebAuthn,
  type WebAuthn,
  type PasskeyRecord,
  type PasskeyUser,
  type PasskeyAuthentication,
  type PasskeyLookup,
  type RelyingParty,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from './webauthn.ts';
