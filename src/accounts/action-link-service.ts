// Single-use links: password reset (default 30 minutes) and invitation (default 7 days). Only a
// SHA-256 of the token is stored; a link is used atomically, once; issuing a new link of the same
// kind voids the older ones. Using a reset link ends the user's sessions and refresh tokens.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hasExpired } from '../authz/index.ts';
import { queries, type ActionPurpose, type ActionToken, type Tenant, type User } from '../storage/index.ts';
import type { AccountsContext, Actor } from './context.ts';
import { revokeGrants } from './session-index.ts';

export type LinkCheck = { ok: true; token: ActionToken; user: User } | { ok: false; reason: 'unknown' | 'expired' | 'used' };

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export function createActionLinks({ storage, audit, sessions }: AccountsContext, baseUrl: string) {
  const path = (purpose: ActionPurpose) => (purpose === 'reset' ? 'reset' : 'invite');

  return {
    /** A new link for `user`; earlier unused links of the same kind stop working. Returns the URL. */
    async issue(tenant: Tenant, user: User, purpose: ActionPurpose, ttlMinutes: number, actor: Actor): Promise<{ url: string; expiresAt: Date }> {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + ttlMinutes * 60_000);
      await storage.transaction(async (tx) => {
        await queries.actionTokens.voidUnused(tx, user.id, purpose);
        await tx.actionTokens.insert({ id: randomUUID(), tenantId: tenant.id, userId: user.id, purpose, tokenHash: digest(token), expiresAt, usedAt: null, createdBy: actor.id ?? actor.type, createdAt: new Date() });
        await audit.record({ tenantId: tenant.id, actor, action: purpose === 'reset' ? 'user.password_reset.issue' : 'user.invite.issue', target: { type: 'user', id: user.id }, details: { expiresAt: expiresAt.toISOString() } }, tx);
      });
      return { url: `${baseUrl}/t/${tenant.slug}/${path(purpose)}/${token}`, expiresAt };
    },

    /** What a link is: usable (with its user), or unknown, expired or already used — so the page can say which. */
    async check(tenant: Tenant, purpose: ActionPurpose, token: string): Promise<LinkCheck> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { ok: false, reason: 'unknown' };
      const row = await storage.actionTokens.findOneBy({ tenantId: tenant.id, purpose, tokenHash: digest(token) });
      if (!row) return { ok: false, reason: 'unknown' };
      if (row.usedAt) return { ok: false, reason: 'used' };
      if (hasExpired(row.expiresAt, new Date())) return { ok: false, reason: 'expired' };
      const user = await storage.users.findOneBy({ id: row.userId, tenantId: tenant.id });
      return user ? { ok: true, token: row, user } : { ok: false, reason: 'unknown' };
    },

    /**
     * Uses the link: `work` runs in the same transaction, after the link is marked used, so of two
     * simultaneous submissions only one gets through. Returns false if the link was used meanwhile.
     */
    async use(tenant: Tenant, token: ActionToken, work: (tx: Parameters<Parameters<typeof storage.transaction>[0]>[0]) => Promise<void>): Promise<boolean> {
      const used = await storage.transaction(async (tx) => {
        if (!(await queries.actionTokens.use(tx, token.id))) return false;
        await work(tx);
        // A reset signs the user out everywhere: sessions below, refresh tokens here.
        if (token.purpose === 'reset') await revokeGrants(tx, tenant.id, token.userId);
        return true;
      });
      if (used && token.purpose === 'reset') await sessions.endAll(tenant.id, token.userId);
      return used;
    },
  };
}
export type ActionLinks = ReturnType<typeof createActionLinks>;
