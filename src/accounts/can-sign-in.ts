// Whether an account may sign in (or keep acting): active and not past its end. The one home of
// the rule, called from every door — password, passkey, directory, federation, the session
// behind a token, the admin guard, ownership.
import { hasExpired } from '../authz/index.ts';
import type { User } from '../storage/index.ts';

/** Why the account may not sign in now, or undefined when it may. */
export function signInRefusal(user: Pick<User, 'status' | 'expiresAt'>, now = new Date()): 'not_active' | 'account_expired' | undefined {
  if (user.status !== 'active') return 'not_active';
  if (hasExpired(user.expiresAt, now)) return 'account_expired';
  return undefined;
}

/** True when the account is active and not past its end. */
export function canSignIn(user: Pick<User, 'status' | 'expiresAt'>, now = new Date()): boolean {
  return signInRefusal(user, now) === undefined;
}
