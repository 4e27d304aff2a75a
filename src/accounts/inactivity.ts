// Accounts nobody has used for the tenant's `accounts.inactivityDays` become `expired`: they cannot
// sign in until an admin enables them again, which starts a new period. A job on every node runs
// the sweep; a lock in the shared ephemeral store lets one node at a time do it.
import type { AuditWriter } from '../audit/index.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import { queries, type Storage } from '../storage/index.ts';
import { revokeGrants, type SessionIndex } from './session-index.ts';
import { resolvePolicy } from './tenant-policy.ts';

interface Deps {
  storage: Storage;
  audit: AuditWriter;
  sessions: SessionIndex;
}

export interface ExpiredAccount {
  tenant: string;
  id: string;
  username: string;
}

/** Expires every active human account past its tenant's inactivity limit; returns them. */
export async function expireInactiveAccounts({ storage, audit, sessions }: Deps, tenantSlug?: string): Promise<ExpiredAccount[]> {
  const tenants = tenantSlug ? await storage.tenants.findBy({ slug: tenantSlug }) : await storage.tenants.find();
  const out: ExpiredAccount[] = [];
  for (const tenant of tenants) {
    const days = resolvePolicy(tenant.policy).accounts.inactivityDays;
    if (!days) continue;
    // Last use: the latest of creation, last sign-in and an admin's re-enabling.
    const expired = await storage.transaction(async (tx) => {
      const rows = await queries.users.expireInactive(tx, tenant.id, days);
      for (const row of rows) {
        await revokeGrants(tx, tenant.id, row.id);
        await audit.record(
          { tenantId: tenant.id, actor: { type: 'system', id: 'inactivity' }, action: 'user.expire', target: { type: 'user', id: row.id }, before: { status: 'active' }, after: { status: 'expired' }, details: { inactivityDays: days, lastUsedAt: row.lastUsedAt.toISOString() } },
          tx,
        );
      }
      return rows;
    });
    for (const row of expired) {
      await sessions.endAll(tenant.id, row.id);
      out.push({ tenant: tenant.slug, id: row.id, username: row.username });
    }
  }
  return out;
}

/**
 * Runs the sweep every `intervalMs` on this node, skipping a round when another node holds the lock.
 * Returns a function that stops it.
 */
export function scheduleInactivitySweep(deps: Deps & { ephemeral: EphemeralStore; onError(error: Error): void; onExpired(accounts: ExpiredAccount[]): void }, intervalMs: number): () => void {
  const lockSeconds = Math.max(1, Math.floor(intervalMs / 1000) - 1);
  const round = async () => {
    if (!(await deps.ephemeral.setIfAbsent('jobs:inactivity:lock', String(process.pid), lockSeconds))) return;
    const expired = await expireInactiveAccounts(deps);
    if (expired.length) deps.onExpired(expired);
  };
  const run = () => void round().catch(deps.onError);
  const first = setTimeout(run, Math.min(intervalMs, 30_000));
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
