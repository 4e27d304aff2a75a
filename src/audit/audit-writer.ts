// Appends audit events to a per-tenant hash chain: each event's hash covers the previous hash and
// the event itself, so an edited, removed or reordered event breaks `verify`.
import { randomUUID } from 'node:crypto';
import type { AuditEvent, Repos, Storage } from '../storage/index.ts';
import { auditChainBatch, countAuditChain } from './audit-event-queries.ts';
import { AUDIT_GENESIS, hashAuditEvent } from './hash-audit-event.ts';

export interface AuditActor {
  type: AuditEvent['actorType'];
  id?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

export interface AuditInput {
  tenantId: string | null;
  actor: AuditActor;
  action: string;
  target?: { type: string; id: string | null };
  outcome?: 'success' | 'failure';
  before?: object | null;
  after?: object | null;
  details?: Record<string, unknown> | null;
}

export interface AuditWriter {
  /** Records an event; pass the transaction to commit it together with the change it describes. */
  record(input: AuditInput, tx?: Repos): Promise<void>;
  verify(tenantId: string | null): Promise<{ ok: boolean; events: number; brokenAt?: string }>;
}

const MAX_APPEND_ATTEMPTS = 100;
const VERIFY_BATCH = 1000;
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
const chainOf = (tenantId: string | null) => tenantId ?? 'platform';

// Secret fields (password hashes, client secrets, sealed keys) are dropped from the top level of
// before/after; callers pass entity snapshots, never secrets inside details.
const REDACT = new Set(['passwordHash', 'password', 'clientSecret', 'clientSecretSealed', 'privateJwkSealed']);
function redact(value: object | null | undefined): Record<string, unknown> | null {
  if (!value) return null;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !REDACT.has(k)).map(([k, v]) => [k, v]));
}

// Sign-in traffic, refusals and exports of the log change nothing an administrator manages; every
// other audited action does, and tells `onChange` once it has committed.
const NOT_A_CHANGE = /^(login\.|consent\.|interaction\.|saml\.|admin\.forbidden|audit\.)/;

export function createAuditWriter(storage: Storage, onChange: (tenantId: string) => Promise<void> = async () => {}): AuditWriter {
  // The last head this process wrote or read, per chain. An append is then one statement: move
  // the head from the expected value and insert the event together. If another writer (another
  // node, or a transaction that rolled back) moved it, nothing is written: re-read and try again.
  const heads = new Map<string, string>();

  async function readHead(tx: Repos, chain: string): Promise<string> {
    await tx.query('INSERT INTO audit_heads (chain, hash) VALUES ($1, $2) ON CONFLICT (chain) DO NOTHING', [chain, AUDIT_GENESIS]);
    const [row] = await tx.query<{ hash: string }>('SELECT hash FROM audit_heads WHERE chain = $1', [chain]);
    return row!.hash;
  }

  async function append(tx: Repos, input: AuditInput) {
    const chain = chainOf(input.tenantId);
    const event = {
      id: randomUUID(),
      tenantId: input.tenantId,
      at: new Date(),
      actorType: input.actor.type,
      actorId: input.actor.id ?? null,
      action: input.action,
      targetType: input.target?.type ?? null,
      targetId: input.target?.id ?? null,
      outcome: input.outcome ?? 'success',
      ip: input.actor.ip ?? null,
      userAgent: input.actor.userAgent ?? null,
      before: redact(input.before),
      after: redact(input.after),
      details: input.details ?? null,
    };
    // Round-trip through JSON so the hash covers exactly what jsonb will store and return.
    const stored = JSON.parse(JSON.stringify(event));
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const prev = heads.get(chain) ?? (await readHead(tx, chain));
      const hash = hashAuditEvent(prev, { ...stored, at: event.at });
      const written = await tx.query(
        `WITH head AS (UPDATE audit_heads SET hash = $16 WHERE chain = $17 AND hash = $15 RETURNING 1)
         INSERT INTO audit_events (id, tenant_id, at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, before, after, details, prev_hash, hash)
         SELECT $1::uuid, $2::uuid, $3::timestamptz, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14::jsonb, $15, $16 FROM head
         RETURNING seq`,
        [event.id, event.tenantId, event.at, event.actorType, event.actorId, event.action, event.targetType, event.targetId, event.outcome, event.ip, event.userAgent,
          json(event.before), json(event.after), json(event.details), prev, hash, chain],
      );
      if (written.length) {
        heads.set(chain, hash);
        return;
      }
      heads.delete(chain);
    }
    throw new Error(`audit chain ${chain} is too busy to append to`);
  }

  return {
    async record(input, tx) {
      const changed = input.tenantId && (input.outcome ?? 'success') === 'success' && !NOT_A_CHANGE.test(input.action);
      const write = async (t: Repos) => {
        await append(t, input);
        if (changed) await t.afterCommit(() => onChange(input.tenantId!));
      };
      // Outside a transaction the append is a single statement, atomic on its own.
      await write(tx ?? storage);
    },
    async verify(tenantId) {
      // A batch at a time, so checking a long chain holds one batch in memory, not the whole log.
      let prev = AUDIT_GENESIS;
      let events = 0;
      let after: string | null = null;
      for (;;) {
        const rows = await auditChainBatch(storage, tenantId, after, VERIFY_BATCH);
        for (const row of rows) {
          const { seq, hash, prevHash, ...rest } = row;
          if (prevHash !== prev || hashAuditEvent(prev, rest) !== hash) return { ok: false, events: await countAuditChain(storage, tenantId), brokenAt: row.id };
          prev = hash;
        }
        events += rows.length;
        if (rows.length < VERIFY_BATCH) return { ok: true, events };
        after = rows.at(-1)!.seq;
      }
    },
  };
}
