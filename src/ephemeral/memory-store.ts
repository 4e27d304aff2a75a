// In-process ephemeral store for the embedded default (one node). Expired keys are dropped lazily
// on read and by a periodic sweep.
import type { EphemeralStore } from './ephemeral-store.ts';

interface Entry {
  value: string | Set<string>;
  expiresAt: number;
}

export function createMemoryStore(): EphemeralStore {
  const data = new Map<string, Entry>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, entry] of data) if (entry.expiresAt <= now) data.delete(key);
  }, 60_000);
  sweep.unref();

  const live = (key: string): Entry | undefined => {
    const entry = data.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      data.delete(key);
      return undefined;
    }
    return entry;
  };
  const expiry = (ttl: number) => Date.now() + ttl * 1000;
  const str = (e: Entry | undefined) => (typeof e?.value === 'string' ? e.value : undefined);

  return {
    kind: 'memory',
    async get(key) {
      return str(live(key));
    },
    async getReferenced(refKey, prefix) {
      const ref = str(live(refKey));
      return ref === undefined ? undefined : str(live(prefix + ref));
    },
    async getMany(keys) {
      return keys.map((key) => str(live(key)));
    },
    async set(key, value, ttl) {
      data.set(key, { value, expiresAt: expiry(ttl) });
    },
    async setIfAbsent(key, value, ttl) {
      if (live(key)) return false;
      data.set(key, { value, expiresAt: expiry(ttl) });
      return true;
    },
    async markOnce(key, marker, value) {
      const entry = live(key);
      if (!entry) return 'missing';
      if (live(marker)) return 'already';
      data.set(marker, { value, expiresAt: entry.expiresAt });
      return 'marked';
    },
    async take(key) {
      const value = str(live(key));
      data.delete(key);
      return value;
    },
    async del(...keys) {
      for (const key of keys) data.delete(key);
    },
    async incr(key, ttl) {
      const entry = live(key);
      const next = Number(str(entry) ?? 0) + 1;
      data.set(key, { value: String(next), expiresAt: entry?.expiresAt ?? expiry(ttl) });
      return next;
    },
    async decr(key) {
      const entry = live(key);
      if (entry) data.set(key, { value: String(Number(str(entry) ?? 0) - 1), expiresAt: entry.expiresAt });
    },
    async addToSet(key, member, ttl) {
      const entry = live(key);
      const set = entry?.value instanceof Set ? entry.value : new Set<string>();
      set.add(member);
      data.set(key, { value: set, expiresAt: Math.max(entry?.expiresAt ?? 0, expiry(ttl)) });
    },
    async members(key) {
      const entry = live(key);
      return entry?.value instanceof Set ? [...entry.value] : [];
    },
    async ping() {},
    async ready() {},
    async close() {
      clearInterval(sweep);
      data.clear();
    },
  };
}
