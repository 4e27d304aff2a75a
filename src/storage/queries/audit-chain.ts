// The audit log's hash chain as stored: one head row per chain (a tenant, or the platform) and the
// events it links. Appending is compare-and-set on the head: the events go in only if the head
// still holds the hash they were chained to, so two writers can never both extend the same hash.
import type { Repos } from '../storage.ts';
import { exec, prepared } from './sql.ts';

/** One event as appended: every column, `at` as a Date, JSON columns as values. */
export interface ChainedAuditRow {
  id: string;
  tenantId: string | null;
  at: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  before: unknown;
  after: unknown;
  details: unknown;
  prevHash: string;
  hash: string;
}

const CREATE_HEAD = prepared('INSERT INTO audit_heads (chain, hash) VALUES ($1, $2) ON CONFLICT (chain) DO NOTHING');
const READ_HEAD = prepared('SELECT hash FROM audit_heads WHERE chain = $1');

/** The chain's head, created at `genesis` the first time the chain is written to. */
export async function readAuditHead(db: Repos, chain: string, genesis: string): Promise<string> {
  // Two statements: a head another transaction is creating is seen only by a statement begun after it committed.
  await exec(db, CREATE_HEAD, [chain, genesis]);
  const [row] = await exec<{ hash: string }>(db, READ_HEAD, [chain]);
  return row!.hash;
}

const APPEND = prepared(
  `WITH head AS (UPDATE audit_heads SET hash = $3 WHERE chain = $1 AND hash = $2 RETURNING 1)
   INSERT INTO audit_events (id, tenant_id, at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, before, after, details, prev_hash, hash)
   SELECT e.id, e.tenant_id, e.at, e.actor_type, e.actor_id, e.action, e.target_type, e.target_id, e.outcome, e.ip, e.user_agent,
          e.before, e.after, e.details, e.prev_hash, e.hash
     FROM head, ROWS FROM (jsonb_to_recordset($4::jsonb) AS (id uuid, tenant_id uuid, at timestamptz, actor_type text, actor_id text, action text,
          target_type text, target_id text, outcome text, ip text, user_agent text, before jsonb, after jsonb, details jsonb, prev_hash text, hash text))
          WITH ORDINALITY AS e(id, tenant_id, at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, before, after, details, prev_hash, hash, n)
    ORDER BY e.n
   RETURNING 1`,
);

/**
 * Appends `rows` (already chained: the first's prevHash is `head`, each next one's is the one before's
 * hash) in one statement that moves the head from `head` to the last hash once. False, with nothing
 * written, when the head is no longer `head` (another writer got there first).
 */
export async function appendAuditRows(db: Repos, chain: string, head: string, rows: ChainedAuditRow[]): Promise<boolean> {
  const json = JSON.stringify(rows.map((r) => ({
    id: r.id, tenant_id: r.tenantId, at: r.at.toISOString(), actor_type: r.actorType, actor_id: r.actorId, action: r.action,
    target_type: r.targetType, target_id: r.targetId, outcome: r.outcome, ip: r.ip, user_agent: r.userAgent,
    before: r.before ?? null, after: r.after ?? null, details: r.details ?? null, prev_hash: r.prevHash, hash: r.hash,
  })));
  const written = await exec(db, APPEND, [chain, head, rows.at(-1)!.hash, json]);
  return written.length === rows.length;
}
