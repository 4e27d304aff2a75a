// What an admin does about a user's sign-in security (CLI and admin API alike): see it (lock,
// failures, factors, sessions), unlock, reset the second factor, send a reset link or set a
// temporary password, (re)send an invitation, and end sessions. Each change is audited.
import { randomBytes } from 'node:crypto';
import { ConflictError, ValidationError } from '../errors.ts';
import type { Sender } from '../notify/index.ts';
import type { Tenant, User } from '../storage/index.ts';
import type { ActionLinks } from './action-link-service.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { publicFactor, type FactorService } from './factor-service.ts';
import type { PasswordService } from './password-service.ts';
import { expireInactiveAccounts } from './inactivity.ts';
import { revokeGrants, revokeSessionTokens } from './session-index.ts';
import { resolvePolicy } from './tenant-policy.ts';
import { assertMayManageUser } from './grant-guard.ts';
import { loadAuthority } from './admin-authority.ts';
import type { UserService } from './user-service.ts';

interface Deps extends AccountsContext {
  users: UserService;
  factors: FactorService;
  links: ActionLinks;
  passwords: PasswordService;
  sender: Sender;
}

export function createAccountSecurity(deps: Deps) {
  const { storage, users, factors, links, passwords, sender, sessions, audit } = deps;

  async function load(slug: string, ref: string): Promise<{ tenant: Tenant; user: User }> {
    const tenant = await requireTenant(storage, slug);
    return { tenant, user: await users.findUser(slug, ref) };
  }

  /** The user an actor reads: they must hold caregate.users:read where the user is. */
  async function loadVisible(slug: string, ref: string, actor?: Actor): Promise<{ tenant: Tenant; user: User }> {
    const loaded = await load(slug, ref);
    if (actor) await (await loadAuthority(storage, loaded.tenant, actor)).require('caregate.users:read', { kind: 'user', user: loaded.user });
    return loaded;
  }

  /** The user an actor is about to change: refused for themselves, or for someone holding more admin rights. */
  async function loadManaged(slug: string, ref: string, actor: Actor): Promise<{ tenant: Tenant; user: User }> {
    const loaded = await load(slug, ref);
    await assertMayManageUser(storage, loaded.tenant, actor, loaded.user);
    return loaded;
  }

  async function signOutEverywhere(tenant: Tenant, user: User): Promise<number> {
    await revokeGrants(storage, tenant.id, user.id);
    return sessions.endAll(tenant.id, user.id);
  }

  async function endOne(tenant: Tenant, user: User, sessionId: string): Promise<number> {
    const ended = await sessions.end(tenant.id, user.id, sessionId);
    if (ended?.uid) await revokeSessionTokens(storage, tenant.id, ended.uid);
    return Number(Boolean(ended));
  }

  return {
    /** Expires accounts past their tenant's inactivity limit (the scheduled job, or on demand). */
    expireInactive: (slug?: string) => expireInactiveAccounts(deps, slug),
    endOne,
    signOutEverywhere,
    /** `actor`, when given, must hold caregate.users:read where the user is. */
    async state(slug: string, ref: string, actor?: Actor) {
      const { tenant, user } = await loadVisible(slug, ref, actor);
      const policy = resolvePolicy(tenant.policy);
      return {
        status: user.status,
        lock: await users.lockState(slug, ref, policy.lockout),
        factors: (await factors.list(user.id)).filter((f) => f.confirmedAt).map(publicFactor),
        recoveryCodesLeft: await factors.recoveryCodesLeft(user.id),
        mustChangePassword: passwords.mustChange(user, policy),
        passwordChangedAt: user.passwordChangedAt,
        lastLoginAt: user.lastLoginAt,
        sessions: await sessions.list(tenant.id, user.id),
      };
    },

    unlock: (slug: string, ref: string, actor: Actor) => users.unlock(slug, ref, actor),

    /** Removes every second factor and recovery code; the user enrols again at the next sign-in. */
    async resetMfa(slug: string, ref: string, actor: Actor) {
      const { tenant, user } = await loadManaged(slug, ref, actor);
      await factors.reset(tenant.id, user.id, actor);
      await sessions.endAll(tenant.id, user.id);
      return { reset: true };
    },

    /** Emails a single-use reset link (the user's email is required). */
    async sendPasswordReset(slug: string, ref: string, actor: Actor) {
      const { tenant, user } = await loadManaged(slug, ref, actor);
      if (!user.email) throw new ValidationError('this user has no email address to send a reset link to');
      if (user.status !== 'active') throw new ConflictError(`this user is ${user.status}; enable the account first`);
      const policy = resolvePolicy(tenant.policy);
      const link = await links.issue(tenant, user, 'reset', policy.accounts.resetLinkMinutes, actor);
      await sender.send({
        channel: 'email', to: user.email, tenant: tenant.slug, subject: `Reset your ${tenant.name} password`,
        text: `Your administrator sent you a link to choose a new password for ${user.username} at ${tenant.name}:\n\n${link.url}\n\nThe link works once and expires in ${policy.accounts.resetLinkMinutes} minutes.`,
      });
      return { sent: true, expiresAt: link.expiresAt };
    },

    /** Sets a random password, shown once, that must be changed at the next sign-in. */
    async temporaryPassword(slug: string, ref: string, actor: Actor) {
      const { tenant, user } = await loadManaged(slug, ref, actor);
      const password = randomBytes(15).toString('base64url');
      await passwords.set(user, resolvePolicy(tenant.policy), password, { actor, action: 'user.password.temporary', mustChange: true, skipPolicy: true });
      await signOutEverywhere(tenant, user);
      return { password, mustChange: true };
    },

    /** Sets a password the administrator chose (the tenant's policy applies); by default it must be changed at the next sign-in. */
    async setPassword(slug: string, ref: string, password: string, actor: Actor, { mustChange = true } = {}) {
      const { tenant, user } = await loadManaged(slug, ref, actor);
      await passwords.set(user, resolvePolicy(tenant.policy), password, { actor, action: 'user.password.set', mustChange });
      await signOutEverywhere(tenant, user);
      return { set: true, mustChange };
    },

    /** (Re)sends the invitation of an invited user; earlier invitation links stop working. */
    async sendInvitation(slug: string, ref: string, actor: Actor) {
      const { tenant, user } = await loadManaged(slug, ref, actor);
      if (user.status !== 'invited') throw new ConflictError(`this user is ${user.status}, not invited`);
      const policy = resolvePolicy(tenant.policy);
      const link = await links.issue(tenant, user, 'invite', policy.accounts.inviteDays * 24 * 60, actor);
      if (user.email) {
        await sender.send({
          channel: 'email', to: user.email, tenant: tenant.slug, subject: `You are invited to ${tenant.name}`,
          text: `You have an account at ${tenant.name} (username ${user.username}). Choose your password to activate it:\n\n${link.url}\n\nThe link works once and expires in ${policy.accounts.inviteDays} days.`,
        });
      }
      return { sent: Boolean(user.email), url: link.url, expiresAt: link.expiresAt };
    },

    sessions: async (slug: string, ref: string, actor?: Actor) => {
      const { tenant, user } = await loadVisible(slug, ref, actor);
      return sessions.list(tenant.id, user.id);
    },

    /** Ends one session (and the refresh tokens issued in it), or all of them and every refresh token. */
    async endSessions(slug: string, ref: string, actor: Actor, sessionId?: string) {
      const { tenant, user } = await loadManaged(slug, ref, actor);
      const ended = sessionId ? await endOne(tenant, user, sessionId) : await signOutEverywhere(tenant, user);
      await audit.record({ tenantId: tenant.id, actor, action: 'user.sessions.end', target: { type: 'user', id: user.id }, details: { ended, ...(sessionId ? { sessionId } : {}) } });
      return { ended };
    },
  };
}
export type AccountSecurity = ReturnType<typeof createAccountSecurity>;
