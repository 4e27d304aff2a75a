// Verifies a username-or-email + password for a tenant. The answer a person sees is the same for
// an unknown user, a wrong password, a locked account and an account that may not sign in (each
// costs one hash, or a locked account the time of one); the audit log records the real reason.
// Throttling and lockout are decided before any hash is computed, with atomic counters, so a flood
// costs little and cannot race.
import type { AuditActor, AuditWriter } from '../audit/index.ts';
import { revokeGrants, signInRefusal, type SessionIndex, type TenantPolicy } from '../accounts/index.ts';
import type { Attempt, Lockout, PasswordHasher } from '../security/index.ts';
import { queries, type Storage, type Tenant, type User } from '../storage/index.ts';
import type { DirectoryLogin } from '../directory/index.ts';

export type LoginFailure = 'unknown_user' | 'bad_password' | 'no_password' | 'not_active' | 'account_expired' | 'account_locked' | 'address_throttled' | 'federated_only'
  | 'directory_unavailable' | 'directory_refused';
export type LoginResult =
  | { ok: true; user: User }
  | { ok: false; reason: LoginFailure; user?: User; retryAfterSeconds?: number; detail?: string };

export interface PasswordLoginDeps {
  storage: Storage;
  hasher: PasswordHasher;
  audit: AuditWriter;
  lockout: Lockout;
  sessions: SessionIndex;
  /** False for a user whose organisation's connection makes local passwords unavailable. */
  passwordAllowed?: (tenantId: string, userId: string) => Promise<boolean>;
  /** A directory user's password is checked by their directory (null: not a directory user). */
  directoryLogin?: (tenant: Tenant, login: string, password: string, user: User | undefined) => Promise<DirectoryLogin | null>;
}

export async function passwordLogin(
  deps: PasswordLoginDeps, tenant: Tenant, policy: TenantPolicy, login: string, password: string, actor: AuditActor,
): Promise<LoginResult> {
  const { storage, hasher, audit, lockout } = deps;
  const result = await decide();
  await audit.record({
    tenantId: tenant.id,
    actor: { ...actor, type: result.user ? 'user' : 'anonymous', id: result.user?.id ?? null },
    action: result.ok ? 'login.success' : 'login.failure',
    target: result.user ? { type: 'user', id: result.user.id } : undefined,
    outcome: result.ok ? 'success' : 'failure',
    details: { method: 'pwd', login: login.slice(0, 256).replaceAll('\0', '\\0'), ...(result.ok ? {} : { reason: result.reason, ...(result.detail ? { detail: result.detail } : {}) }) },
  });
  return result;

  async function decide(): Promise<LoginResult> {
    // 1. Find the account (an unknown one still costs a hash below, so timing does not tell).
    const user = login ? await queries.users.findByLogin(storage, tenant.id, login) : undefined;
    // 2. Throttle the address and reserve an attempt on the account, before hashing anything.
    const decision = await lockout.begin(tenant.id, user?.id ?? null, actor.ip ?? 'unknown', policy.lockout, policy.addressThrottle);
    if (!decision.allowed) {
      if (decision.reason === 'address_throttled') return { ok: false, reason: 'address_throttled', user, retryAfterSeconds: decision.retryAfterSeconds };
      // As long as a wrong password takes, but without hashing: a flood at a locked account is cheap.
      await hasher.pause();
      return { ok: false, reason: 'account_locked', user };
    }
    const { attempt } = decision;
    // A directory user: their directory checks the password (and the same rules follow).
    const viaDirectory = deps.directoryLogin ? await deps.directoryLogin(tenant, login, password, user) : null;
    if (viaDirectory) return directoryOutcome(viaDirectory, attempt);
    if (!user || !user.passwordHash) {
      await hasher.burn(password);
      await attempt.failed();
      return { ok: false, reason: user ? 'no_password' : 'unknown_user', user };
    }
    // 3. Check the password before revealing anything about the account's state.
    if (!(await hasher.verify(user.passwordHash, password))) {
      const { lockedNow } = await attempt.failed();
      if (lockedNow && policy.lockout.mode === 'admin') await lockAccount(user);
      return { ok: false, reason: 'bad_password', user };
    }
    // 4. Only active, unexpired accounts may sign in (the right password ends the failure run).
    await attempt.succeeded();
    if (user.status === 'locked') return { ok: false, reason: 'account_locked', user };
    const refusal = signInRefusal(user);
    if (refusal) return { ok: false, reason: refusal, user };
    if (deps.passwordAllowed && !(await deps.passwordAllowed(tenant.id, user.id))) return { ok: false, reason: 'federated_only', user };
    // 5. Upgrade a hash made with older parameters, and note the sign-in.
    const rehashed = hasher.needsRehash(user.passwordHash) ? await hasher.hash(password) : null;
    await queries.users.recordSignIn(storage, user.id, rehashed);
    return { ok: true, user };
  }

  async function directoryOutcome(outcome: DirectoryLogin, attempt: Attempt): Promise<LoginResult> {
    // An unreachable directory is not the person's mistake: the attempt counts for nothing.
    if (!outcome.ok && outcome.reason === 'directory_unavailable') {
      await attempt.abandoned();
      return { ok: false, reason: outcome.reason, user: outcome.user, detail: outcome.detail };
    }
    if (!outcome.ok && (outcome.reason === 'unknown_user' || outcome.reason === 'bad_password')) {
      const { lockedNow } = await attempt.failed();
      if (lockedNow && outcome.user && policy.lockout.mode === 'admin') await lockAccount(outcome.user);
      return { ok: false, reason: outcome.reason, user: outcome.user };
    }
    // The directory accepted the password: the failure run ends; the account's state decides.
    await attempt.succeeded();
    const user = outcome.user;
    if (!outcome.ok && outcome.reason === 'directory_refused') return { ok: false, reason: outcome.reason, user, detail: outcome.detail };
    if (user?.status === 'locked') return { ok: false, reason: 'account_locked', user };
    if (!outcome.ok || !user) return { ok: false, reason: 'not_active', user, detail: outcome.ok ? undefined : outcome.detail };
    const refusal = signInRefusal(user);
    if (refusal) return { ok: false, reason: refusal, user };
    await queries.users.recordSignIn(storage, user.id);
    return { ok: true, user };
  }

  /** Policy "admin": the lock is kept in the database until an admin unlocks the account. */
  async function lockAccount(user: User) {
    await queries.users.lock(storage, user.id);
    await revokeGrants(storage, tenant.id, user.id);
    await deps.sessions.endAll(tenant.id, user.id);
    await audit.record({ tenantId: tenant.id, actor: { type: 'system', id: 'lockout' }, action: 'user.lock', target: { type: 'user', id: user.id }, details: { threshold: policy.lockout.threshold } });
  }
}
