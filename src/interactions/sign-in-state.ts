// What a sign-in in progress has proved so far, between its pages (password, second factor,
// enrolment, password change). Kept in the ephemeral store under the interaction's id, which only
// the holder of the interaction cookie can reach, and gone when the interaction ends.
import type { EphemeralStore } from '../ephemeral/index.ts';

export interface SignInState {
  userId: string;
  /** Authentication methods used so far (RFC 8176 values: pwd, otp, sms, hwk, mfa…). */
  amr: string[];
  /** A second factor was verified (or the first factor was itself multi-factor, a passkey). */
  mfa: boolean;
  /** Plain recovery codes to show once, after an enrolment. */
  recoveryCodes?: string[];
}

const TTL_SECONDS = 900;

export function createSignInStates(ephemeral: EphemeralStore) {
  const key = (tenantId: string, uid: string) => `signin:${tenantId}:${uid}`;
  return {
    async get(tenantId: string, uid: string): Promise<SignInState | undefined> {
      const raw = await ephemeral.get(key(tenantId, uid));
      return raw ? (JSON.parse(raw) as SignInState) : undefined;
    },
    save: (tenantId: string, uid: string, state: SignInState) => ephemeral.set(key(tenantId, uid), JSON.stringify(state), TTL_SECONDS),
    clear: (tenantId: string, uid: string) => ephemeral.del(key(tenantId, uid)),
  };
}
export type SignInStates = ReturnType<typeof createSignInStates>;
