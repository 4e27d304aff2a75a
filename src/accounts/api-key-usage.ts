// Counting an API key's requests in the ephemeral store every node shares: a fixed one-minute window
// for its rate limit, and a per-day use counter that is flushed to the database by the one request
// per key and minute that also moves last_used_at — so a busy key costs one conditional UPDATE
// (and one upsert) a minute, not a write per request. Listings add what is not flushed yet.
import { queries, type ApiKey } from '../storage/index.ts';
import type { AccountsContext } from './context.ts';

const WINDOW_MS = 60_000;
/** Unflushed counts live a week: a key unused since then has its last minute of uses forgotten. */
const COUNTER_TTL = 7 * 86_400;

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const usesKey = (keyId: string, day: string) => `apikey:uses:${keyId}:${day}`;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export function createApiKeyUsage({ ephemeral, storage }: Pick<AccountsContext, 'ephemeral' | 'storage'>) {
  /** Moves a day's unflushed uses into the database (take: read and delete in one step, so no use is counted twice). */
  async function flush(keyId: string, day: string) {
    const pending = Number((await ephemeral.take(usesKey(keyId, day))) ?? 0);
    if (pending > 0) await queries.apiKeys.addUses(storage, keyId, day, pending);
  }

  return {
    /** Counts a request against the key's per-minute limit (on every node together). */
    async admit(key: Pick<ApiKey, 'id' | 'rateLimitPerMinute'>, now = Date.now()): Promise<RateDecision> {
      const window = Math.floor(now / WINDOW_MS);
      const count = await ephemeral.incr(`apikey:rate:${key.id}:${window}`, 2 * WINDOW_MS / 1000);
      if (count <= key.rateLimitPerMinute) return { allowed: true };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000)) };
    },

    /** Records one use: a counter now; last_used_at and the flush at most once a minute per key. */
    async record(keyId: string, now = Date.now()) {
      await ephemeral.incr(usesKey(keyId, dayOf(now)), COUNTER_TTL);
      if (await queries.apiKeys.touch(storage, keyId)) {
        await flush(keyId, dayOf(now - 86_400_000));
        await flush(keyId, dayOf(now));
      }
    },

    /** Uses per day (YYYY-MM-DD → count) of each key over the last `days` days, unflushed ones included. */
    async perDay(keyIds: string[], days: number, now = Date.now()): Promise<Map<string, Record<string, number>>> {
      const out = new Map<string, Record<string, number>>(keyIds.map((id) => [id, {}]));
      for (const r of await queries.apiKeys.usage(storage, keyIds, dayOf(now - (days - 1) * 86_400_000))) out.get(r.keyId)![r.day] = r.uses;
      const recent = [dayOf(now - 86_400_000), dayOf(now)];
      await Promise.all(keyIds.flatMap((id) => recent.map(async (day) => {
        const pending = Number((await ephemeral.get(usesKey(id, day))) ?? 0);
        if (pending) out.get(id)![day] = (out.get(id)![day] ?? 0) + pending;
      })));
      return out;
    },
  };
}
export type ApiKeyUsage = ReturnType<typeof createApiKeyUsage>;
