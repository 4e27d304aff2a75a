// Which sign-on sessions a user has, and the rules each one lives by. Sessions themselves are
// oidc-provider's; beside each we keep a record of the limits that applied when it began (idle and
// absolute, from the tenant's policy and the user's roles), the device it was opened on and when it
// was last used. Everything lives in the shared ephemeral store, so every node sees, enforces and
// ends the same sessions.
import Bowser from 'bowser';
import type { EphemeralStore } from '../ephemeral/index.ts';
import { queries, type Repos } from '../storage/index.ts';

export const sessionKey = (tenantId: string, sessionId: string) => `oidc:${tenantId}:Session:${sessionId}`;
export const accountSessionsKey = (tenantId: string, accountId: string) => `oidc:${tenantId}:account-sessions:${accountId}`;
const recordKey = (tenantId: string, sessionId: string) => `oidc:${tenantId}:session-record:${sessionId}`;

export interface SessionLimits {
  idleSeconds: number;
  absoluteSeconds: number;
}

/** The limits for one user's new session: the tenant's, shortened by any of their roles. */
export type SessionLimitsFor = (tenantId: string, accountId: string) => Promise<SessionLimits>;

export interface SessionDevice {
  ip: string | null;
  userAgent: string | null;
}

/** What we keep beside an oidc-provider session (epoch seconds). */
interface SessionRecord extends SessionLimits, SessionDevice {
  accountId: string;
  loginTs: number;
  lastSeenAt: number;
  /** Milliseconds, to order sessions begun within the same second (oldest first). */
  startedAtMs: number;
}

export interface SessionSummary {
  id: string;
  signedInAt: Date | null;
  lastSeenAt: Date | null;
  /** When the session ends if unused: the earlier of the idle and the absolute limit. */
  expiresAt: Date | null;
  amr: string[];
  ip: string | null;
  /** "Firefox 128 on Windows", from the user agent. */
  device: string | null;
}

const epoch = () => Math.floor(Date.now() / 1000);

/** A person-readable device name from a User-Agent header (null when there is nothing to tell). */
export function describeDevice(userAgent: string | null): string | null {
  if (!userAgent) return null;
  const { browser, os } = Bowser.parse(userAgent);
  const name = [browser.name, browser.version?.split('.')[0]].filter(Boolean).join(' ');
  if (!name) return userAgent.slice(0, 60);
  return os.name ? `${name} on ${os.name}` : name;
}

/** Seconds the session may still live: until idle from now, and never past its absolute end. */
function remaining(record: SessionRecord, now: number): number {
  return Math.min(record.idleSeconds, record.loginTs + record.absoluteSeconds - now);
}

export function createSessionIndex(ephemeral: EphemeralStore, limitsFor: SessionLimitsFor) {
  async function readRecord(tenantId: string, sessionId: string): Promise<SessionRecord | undefined> {
    const raw = await ephemeral.get(recordKey(tenantId, sessionId));
    return raw ? (JSON.parse(raw) as SessionRecord) : undefined;
  }

  async function live(tenantId: string, accountId: string) {
    const keys = await ephemeral.members(accountSessionsKey(tenantId, accountId));
    const now = epoch();
    const out: Array<SessionSummary & { order: number }> = [];
    for (const key of keys) {
      const raw = await ephemeral.get(key);
      if (!raw) continue;
      const s = JSON.parse(raw) as { accountId?: string; loginTs?: number; amr?: string[] };
      if (s.accountId !== accountId) continue;
      const id = key.slice(key.lastIndexOf(':') + 1);
      const record = await readRecord(tenantId, id);
      if (record && remaining(record, now) <= 0) continue;
      out.push({
        id,
        signedInAt: s.loginTs ? new Date(s.loginTs * 1000) : null,
        lastSeenAt: record ? new Date(record.lastSeenAt * 1000) : null,
        expiresAt: record ? new Date((now + remaining(record, now)) * 1000) : null,
        amr: s.amr ?? [],
        ip: record?.ip ?? null,
        device: describeDevice(record?.userAgent ?? null),
        order: record?.startedAtMs ?? (s.loginTs ?? 0) * 1000,
      });
    }
    return out.sort((a, b) => a.order - b.order).map(({ order: _, ...summary }) => summary);
  }

  async function endKeys(tenantId: string, ids: string[]) {
    if (ids.length) await ephemeral.del(...ids.flatMap((id) => [sessionKey(tenantId, id), recordKey(tenantId, id)]));
  }

  return {
    /**
     * Called each time a signed-in session is saved (it is saved on every use): starts the record
     * on the first save after a sign-in, notes the device and the time, and returns how many seconds
     * the session may live from now — 0 when it has reached its absolute end.
     */
    async touch(tenantId: string, sessionId: string, session: { accountId: string; loginTs?: number }, device?: SessionDevice): Promise<number> {
      const now = epoch();
      const loginTs = session.loginTs ?? now;
      let record = await readRecord(tenantId, sessionId);
      if (!record || record.accountId !== session.accountId || record.loginTs !== loginTs) {
        record = { accountId: session.accountId, loginTs, ...(await limitsFor(tenantId, session.accountId)), lastSeenAt: now, startedAtMs: Date.now(), ip: null, userAgent: null };
      }
      const ttl = remaining(record, now);
      if (ttl <= 0) return 0;
      record = { ...record, lastSeenAt: now, ...(device ? { ip: device.ip, userAgent: device.userAgent?.slice(0, 512) ?? null } : {}) };
      await ephemeral.set(recordKey(tenantId, sessionId), JSON.stringify(record), ttl);
      return ttl;
    },

    /** The device a session was last used from (its address: what network rules judge a code exchange by). */
    async device(tenantId: string, sessionId: string): Promise<SessionDevice | undefined> {
      const record = await readRecord(tenantId, sessionId);
      return record && { ip: record.ip, userAgent: record.userAgent };
    },

    /** False when a stored session has outlived its limits (the store's TTL usually got there first). */
    async valid(tenantId: string, sessionId: string): Promise<boolean> {
      const record = await readRecord(tenantId, sessionId);
      return !record || remaining(record, epoch()) > 0;
    },

    /** Live sessions of a user, oldest first. */
    list: live,

    /**
     * Makes room for one more session of the user under a limit of `max`: with "end_oldest" the
     * oldest sessions are ended; with "deny" nothing changes and `allowed` is false. The browser's
     * own session (`current`, re-authenticating) does not count.
     */
    async makeRoom(tenantId: string, accountId: string, limit: { max: number; onLimit: 'deny' | 'end_oldest'; current?: string }) {
      const others = (await live(tenantId, accountId)).filter((s) => s.id !== limit.current);
      const excess = others.length - (limit.max - 1);
      if (excess <= 0) return { allowed: true, ended: [] as string[], active: others.length };
      if (limit.onLimit === 'deny') return { allowed: false, ended: [] as string[], active: others.length };
      const ended = others.slice(0, excess).map((s) => s.id);
      await endKeys(tenantId, ended);
      return { allowed: true, ended, active: others.length };
    },

    /**
     * Ends one session of the user. Returns the session's uid (refresh tokens issued in it carry
     * it, see `revokeSessionTokens`), or null if it is not theirs or already over.
     */
    async end(tenantId: string, accountId: string, sessionId: string): Promise<{ uid: string | null } | null> {
      const keys = await ephemeral.members(accountSessionsKey(tenantId, accountId));
      const raw = keys.includes(sessionKey(tenantId, sessionId)) ? await ephemeral.get(sessionKey(tenantId, sessionId)) : undefined;
      if (!raw) return null;
      await endKeys(tenantId, [sessionId]);
      return { uid: (JSON.parse(raw) as { uid?: string }).uid ?? null };
    },

    /** Ends every session of the user: the next request from any of their browsers signs in anew. */
    async endAll(tenantId: string, accountId: string): Promise<number> {
      const setKey = accountSessionsKey(tenantId, accountId);
      const keys = await ephemeral.members(setKey);
      const ids = keys.map((k) => k.slice(k.lastIndexOf(':') + 1));
      const live = (await Promise.all(keys.map((k) => ephemeral.get(k)))).filter(Boolean).length;
      await endKeys(tenantId, ids);
      await ephemeral.del(setKey);
      return live;
    },
  };
}
export type SessionIndex = ReturnType<typeof createSessionIndex>;

/**
 * Revokes every grant and refresh token of a user, in the caller's transaction. With `endAll` on
 * the session index this signs a user out everywhere: applications holding a refresh token get
 * `invalid_grant` at their next refresh, on every node.
 */
export async function revokeGrants(repos: Repos, tenantId: string, userId: string): Promise<void> {
  await queries.oidcPayloads.revokeForAccount(repos, tenantId, userId);
}

/** Revokes the refresh tokens issued within one sign-on session (ended on one device). */
export async function revokeSessionTokens(repos: Repos, tenantId: string, sessionUid: string): Promise<void> {
  await queries.oidcPayloads.revokeForSession(repos, tenantId, sessionUid);
}
