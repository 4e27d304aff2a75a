// Verifies a username-or-email + password for a tenant. The answer a person sees is the same for
// an unknown user, a wrong password and an account that may not sign in (and costs one hash in
// every case); the audit log records the real reason.
import type { AuditActor, AuditWriter } from '../audit/index.ts';
import type { PasswordHasher } from '../security/index.ts';
import { userFromRow, type Storage, type Tenant, type User } from '../storage/index.ts';

export type LoginFailure = 'unknown_user' | 'bad_password' | 'no_password' | 'not_active' | 'account_expired';
export type LoginResult = { ok: true; user: User } | { ok: false; reason: LoginFailure; user?: User };

interface Deps {
  storage: Storage;
  hasher: PasswordHasher;
  audit: AuditWriter;
}

/** One query (on the case-insensitive unique indexes): the user whose username, else email, matches. */
async function findByLogin(storage: Storage, tenantId: string, login: string): Promise<User | undefined> {
  const [row] = await storage.query(
    `SELECT * FROM users WHERE tenant_id = $1 AND kind = 'human' AND (lower(username) = lower($2) OR lower(email) = lower($2))
      ORDER BY (lower(username) = lower($2)) DESC LIMIT 1`,
    [tenantId, login],
  );
  return row ? userFromRow(row) : undefined;
}

export async function passwordLogin(deps: Deps, tenant: Tenant, login: string, password: string, actor: AuditActor): Promise<LoginResult> {
  const { storage, hasher, audit } = deps;
  const result = await decide();
  await audit.record({
    tenantId: tenant.id,
    actor: { ...actor, type: result.user ? 'user' : 'anonymous', id: result.user?.id ?? null },
    action: result.ok ? 'login.success' : 'login.failure',
    target: result.user ? { type: 'user', id: result.user.id } : undefined,
    outcome: result.ok ? 'success' : 'failure',
    details: { method: 'pwd', login: login.slice(0, 256), ...(result.ok ? {} : { reason: result.reason }) },
  });
  return result;

  async function decide(): Promise<LoginResult> {
    // 1. Find the account; an unknown one still costs a hash so timing does not tell.
    const user = login ? await findByLogin(storage, tenant.id, login) : undefined;
    if (!user) {
      await hasher.burn(password);
      return { ok: false, reason: 'unknown_user' };
    }
    if (!user.passwordHash) {
      await hasher.burn(password);
      return { ok: false, reason: 'no_password', user };
    }
    // 2. Check the password before revealing anything about the account's state.
    if (!(await hasher.verify(user.passwordHash, password))) return { ok: false, reason: 'bad_password', user };
    // 3. Only active, unexpired accounts may sign in.
    if (user.status !== 'active') return { ok: false, reason: 'not_active', user };
    if (user.expiresAt && user.expiresAt <= new Date()) return { ok: false, reason: 'account_expired', user };
    // 4. Upgrade a hash made with older parameters, and note the sign-in.
    // (Raw SQL: a sign-in is not a profile change, so updated_at stays as it was.)
    const rehashed = hasher.needsRehash(user.passwordHash) ? await hasher.hash(password) : null;
    await storage.query('UPDATE users SET last_login_at = now(), password_hash = coalesce($2, password_hash) WHERE id = $1', [user.id, rehashed]);
    return { ok: true, user };
  }
}
