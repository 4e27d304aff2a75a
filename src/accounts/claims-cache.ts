// Per-tenant, in-process cache of what token issuance reads on every request: client
// registrations, resource owners, users and their projected claims. Any audited change to a tenant
// empties that tenant's cache — on this node at once, on other nodes within `syncMs` through a
// version counter in the ephemeral store. Without it each token costs ~8 queries; with it, none.
import type { EphemeralStore } from '../ephemeral/index.ts';

interface TenantEntries {
  entries: Map<string, Promise<unknown>>;
  version: string | undefined;
  checkedAt: number;
  clearedAt: number;
  /** Counts the times the tenant's cache was emptied (see epoch). */
  clears: number;
}

export interface ClaimsCacheOptions {
  /** How often a node re-reads the tenant's shared version (bounded staleness across nodes). */
  syncMs?: number;
  /** Entries per tenant before the tenant's cache is simply emptied. */
  maxEntries?: number;
  /** Backstop: a tenant's cache is emptied at least this often, even if a version bump was lost. */
  maxAgeMs?: number;
}

const versionKey = (tenantId: string) => `directory:version:${tenantId}`;
const VERSION_TTL = 30 * 24 * 3600;

export function createClaimsCache(ephemeral: EphemeralStore, { syncMs = 1000, maxEntries = 20_000, maxAgeMs = 60_000 }: ClaimsCacheOptions = {}) {
  const tenants = new Map<string, TenantEntries>();

  function tenant(tenantId: string): TenantEntries {
    let t = tenants.get(tenantId);
    if (!t) tenants.set(tenantId, (t = { entries: new Map(), version: undefined, checkedAt: 0, clearedAt: Date.now(), clears: 0 }));
    return t;
  }

  /** Follows changes made on other nodes: re-reads the shared version at most every syncMs. */
  async function sync(t: TenantEntries, tenantId: string) {
    if (Date.now() - t.checkedAt < syncMs) return;
    t.checkedAt = Date.now();
    const version = await ephemeral.get(versionKey(tenantId));
    if (version !== t.version || Date.now() - t.clearedAt > maxAgeMs) {
      clear(t);
      t.version = version;
    }
  }

  function clear(t: TenantEntries) {
    t.entries.clear();
    t.clearedAt = Date.now();
    t.clears++;
  }

  return {
    async get<T>(tenantId: string, key: string, load: () => Promise<T>): Promise<T> {
      const t = tenant(tenantId);
      await sync(t, tenantId);
      let found = t.entries.get(key) as Promise<T> | undefined;
      if (!found) {
        if (t.entries.size >= maxEntries) t.entries.clear();
        found = load();
        t.entries.set(key, found);
        // Failures and misses are not kept: a miss is keyed by what a caller sent (an unknown
        // client id), and keeping those would let anyone fill memory and evict real entries.
        const drop = () => t.entries.get(key) === found && t.entries.delete(key);
        found.then((value) => value === undefined && drop(), drop);
      }
      return found;
    },

    /**
     * Changes whenever the tenant's cache is emptied: at once after a change here, within syncMs
     * after one on another node, and at least every maxAgeMs. State kept elsewhere for the tenant
     * (the grant cache of the token endpoints) holds while the epoch stays the same.
     */
    async epoch(tenantId: string): Promise<number> {
      const t = tenant(tenantId);
      await sync(t, tenantId);
      return t.clears;
    },

    /** Call after a change to the tenant has committed. */
    async invalidate(tenantId: string): Promise<void> {
      const t = tenant(tenantId);
      clear(t);
      t.version = String(await ephemeral.incr(versionKey(tenantId), VERSION_TTL));
      t.checkedAt = Date.now();
    },
  };
}
export type ClaimsCache = ReturnType<typeof createClaimsCache>;
