// Setting a password, wherever it happens (change page, reset link, invitation, admin): the
// tenant's password policy, no reuse of the last N, history kept, audited. The hash never leaves.
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { checkPassword, isReused } from '../security/index.ts';
import { queries, type Repos, type User } from '../storage/index.ts';
import type { AccountsContext, Actor } from './context.ts';
import type { TenantPolicy } from './tenant-policy.ts';

export class PasswordPolicyError extends ValidationError {}

export function createPasswordService({ storage, audit, hasher }: AccountsContext) {
  return {
    /** Problems with `password` under the policy (empty when it is acceptable), reuse included. */
    async problems(user: User, policy: TenantPolicy, password: string): Promise<string[]> {
      const found = checkPassword(policy.password, password, { username: user.username, email: user.email }).map((p) => p.message);
      if (found.length || policy.password.historyCount === 0) return found;
      const previous = await queries.passwordHistory.recentHashes(storage, user.id, policy.password.historyCount);
      const hashes = [...(user.passwordHash ? [user.passwordHash] : []), ...previous];
      if (await isReused(hasher, hashes.slice(0, policy.password.historyCount), password)) {
        found.push(`Choose a password you have not used for your last ${policy.password.historyCount} passwords.`);
      }
      return found;
    },

    /**
     * Sets the password after checking it. `mustChange` marks it temporary (an admin's random
     * password). Throws PasswordPolicyError naming the rules that failed.
     */
    async set(user: User, policy: TenantPolicy, password: string, opts: { actor: Actor; action: string; mustChange?: boolean; skipPolicy?: boolean; activate?: boolean }, tx?: Repos) {
      if (!opts.skipPolicy) {
        const problems = await this.problems(user, policy, password);
        if (problems.length) throw new PasswordPolicyError(problems.join(' '), { issues: problems });
      }
      const hash = await hasher.hash(password);
      const work = async (r: Repos) => {
        if (user.passwordHash) await r.passwordHistory.insert({ id: randomUUID(), tenantId: user.tenantId, userId: user.id, passwordHash: user.passwordHash, createdAt: new Date() });
        await queries.passwordHistory.trim(r, user.id);
        await queries.users.setPassword(r, user.id, hash, { mustChange: opts.mustChange ?? false, activate: opts.activate ?? false });
        await audit.record({ tenantId: user.tenantId, actor: opts.actor, action: opts.action, target: { type: 'user', id: user.id }, details: { mustChange: opts.mustChange ?? false } }, r);
      };
      if (tx) await work(tx);
      else await storage.transaction(work);
    },

    /** True when the policy's expiry has passed for this user's password (or it was marked temporary). */
    mustChange(user: User, policy: TenantPolicy, now = new Date()): boolean {
      if (user.mustChangePassword) return true;
      const days = policy.password.expiryDays;
      if (!days || !user.passwordHash) return false;
      const since = user.passwordChangedAt ?? user.createdAt;
      return now.getTime() - since.getTime() > days * 86_400_000;
    },
  };
}
export type PasswordService = ReturnType<typeof createPasswordService>;
