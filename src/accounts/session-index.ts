// Which sign-on sessions a user has, so they can be listed and ended at once — on every node, since
// sessions live in the shared ephemeral store. The OIDC adapter adds each saved session here.
import type { EphemeralStore } from '../ephemeral/index.ts';

export const sessionKey = (tenantId: string, sessionId: string) => `oidc:${tenantId}:Session:${sessionId}`;
export const accountSessionsKey = (tenantId: string, accountId: string) => `oidc:${tenantId}:account-sessions:${accountId}`;

export interface SessionSummary {
  id: string;
  signedInAt: Date | null;
  expiresAt: Date | null;
  amr: string[];
}

export function createSessionIndex(ephemeral: EphemeralStore) {
  return {
    /** Live sessions of a user (entries whose session has expired are skipped). */
    async list(tenantId: string, accountId: string): Promise<SessionSummary[]> {
      const keys = await ephemeral.members(accountSessionsKey(tenantId, accountId));
      const out: SessionSummary[] = [];
      for (const key of keys) {
        const raw = await ephemeral.get(key);
        if (!raw) continue;
        const s = JSON.parse(raw) as { jti?: string; accountId?: string; loginTs?: number; exp?: number; amr?: string[] };
        if (s.accountId !== accountId) continue;
        out.push({ id: key.slice(key.lastIndexOf(':') + 1), signedInAt: s.loginTs ? new Date(s.loginTs * 1000) : null, expiresAt: s.exp ? new Date(s.exp * 1000) : null, amr: s.amr ?? [] });
      }
      return out.sort((a, b) => (a.signedInAt?.getTime() ?? 0) - (b.signedInAt?.getTime() ?? 0));
    },
    /** Ends one session of the user (ignored if it is not theirs). */
    async end(tenantId: string, accountId: string, sessionId: string): Promise<boolean> {
      const keys = await ephemeral.members(accountSessionsKey(tenantId, accountId));
      const key = sessionKey(tenantId, sessionId);
      if (!keys.includes(key)) return false;
      await ephemeral.del(key);
      return true;
    },
    /** Ends every session of the user: the next request from any of their browsers signs in anew. */
    async endAll(tenantId: string, accountId: string): Promise<number> {
      const setKey = accountSessionsKey(tenantId, accountId);
      const keys = await ephemeral.members(setKey);
      await ephemeral.del(...keys, setKey);
      return keys.length;
    },
  };
}
export type SessionIndex = ReturnType<typeof createSessionIndex>;
