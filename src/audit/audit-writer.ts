// Appends audit events to a per-tenant hash chain: each event's hash covers the previous hash and
// the event itself, so an edited, removed or reordered event breaks `verify`.
import { randomUUID } from 'node:crypto';
import type { AuditEvent, Repos, Storage } from '../storage/index.ts';
import { queries, type ChainedAuditRow } from '../storage/index.ts';
import { AUDIT_GENESIS, hashAuditEvent } from './hash-audit-event.ts';

export interface AuditActor {
  type: AuditEvent['actorType'];
  id?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

/** What else an event says. `requestId` is the writer's (the HTTP request it is recorded for): an event never sets it. */
export type AuditDetails = Record<string, unknown> & { requestId?: never };

export interface AuditInput {
  tenantId: string | null;
  actor: AuditActor;
  action: string;
  target?: { type: string; id: string | null };
  outcome?: 'success' | 'failure';
  before?: object | null;
  after?: object | null;
  details?: AuditDetails | null;
}

export interface AuditWriter {
  /**
   * Records an event; pass the transaction to commit it together with the change it describes
   * (the transaction's events are then appended together as it commits: one move of the chain head).
   */
  record(input: AuditInput, tx?: Repos): Promise<void>;
  /** Records several events at once (in this order), one move of the chain head per chain. */
  recordMany(inputs: AuditInput[], tx?: Repos): Promise<void>;
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

type Unchained = Omit<ChainedAuditRow, 'prevHash' | 'hash'>;

export interface AuditHooks {
  /** Sees every event as it is recorded (sign-ins become a metric and a log line there). */
  observe?(input: AuditInput): void;
  /** The id of the request the event is recorded for, kept in its details as `requestId`. */
  requestId?(): string | undefined;
}

function toRow(input: AuditInput, requestId: string | undefined): Unchained {
  // Round-trip through JSON so the hash covers exactly what jsonb will store and return.
  const row = JSON.parse(JSON.stringify({
    id: randomUUID(),
    tenantId: input.tenantId,
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
    details: requestId === undefined ? (input.details ?? null) : { ...input.details, requestId },
  }));
  return { ...row, at: new Date() };
}

export function createAuditWriter(storage: Storage, onChange: (tenantId: string) => Promise<void> = async () => {}, hooks: AuditHooks = {}): AuditWriter {
  // The last head this process wrote or read, per chain. An append is then one statement: move
  // the head from the expected value and insert the events together. If another writer (another
  // node, or a transaction that rolled back) moved it, nothing is written: re-read and try again.
  const heads = new Map<string, string>();
  // Events recorded in a transaction, appended together just before it commits.
  const pending = new WeakMap<Repos, Unchained[]>();

  async function append(db: Repos | Storage, events: Unchained[]) {
    const chains = new Map<string, Unchained[]>();
    for (const event of events) {
      const chain = chainOf(event.tenantId);
      const list = chains.get(chain);
      if (list) list.push(event);
      else chains.set(chain, [event]);
    }
    for (const [chain, list] of chains) await appendChain(db, chain, list);
  }

  async function appendChain(db: Repos | Storage, chain: string, events: Unchained[]) {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const head = heads.get(chain) ?? (await queries.auditChain.readAuditHead(db, chain, AUDIT_GENESIS));
      let prevHash = head;
      const rows = events.map((event) => {
        const hash = hashAuditEvent(prevHash, event as Parameters<typeof hashAuditEvent>[1]);
        const row = { ...event, prevHash, hash };
        prevHash = hash;
        return row;
      });
      if (await queries.auditChain.appendAuditRows(db, chain, head, rows)) {
        heads.set(chain, prevHash);
        return;
      }
      heads.delete(chain);
    }
    throw new Error(`audit chain ${chain} is too busy to append to`);
  }

  async function enqueue(inputs: AuditInput[], tx: Repos | undefined, now: boolean) {
    const requestId = hooks.requestId?.();
    const events = inputs.map((input) => toRow(input, requestId));
    if (hooks.observe) for (const input of inputs) hooks.observe(input);
    const changed = inputs.filter((i) => i.tenantId && (i.outcome ?? 'success') === 'success' && !NOT_A_CHANGE.test(i.action));
    for (const tenantId of new Set(changed.map((i) => i.tenantId!))) await (tx ?? storage).afterCommit(() => onChange(tenantId));
    if (now || !tx?.beforeCommit) return append(tx ?? storage, events);
    let queued = pending.get(tx);
    if (!queued) {
      const list: Unchained[] = (queued = []);
      pending.set(tx, list);
      tx.beforeCommit(async () => {
        pending.delete(tx);
        await append(tx, list);
      });
    }
    queued.push(...events);
  }

  return {
    // Outside a transaction an append is a single statement, atomic on its own.
    record: (input, tx) => enqueue([input], tx, false),
    recordMany: async (inputs, tx) => {
      if (inputs.length) await enqueue(inputs, tx, true);
    },
    async verify(tenantId) {
      // A batch at a time, so checking a long chain holds one batch in memory, not the whole log.
      let prev = AUDIT_GENESIS;
      let events = 0;
      let after: string | null = null;
      for (;;) {
        const rows = await queries.auditEvents.chainBatch(storage, tenantId, after, VERIFY_BATCH);
        for (const row of rows) {
          const { seq, hash, prevHash, ...rest } = row;
          if (prevHash !== prev || hashAuditEvent(prev, rest) !== hash) return { ok: false, events: await queries.auditEvents.countChain(storage, tenantId), brokenAt: row.id };
          prev = hash;
        }
        events += rows.length;
        if (rows.length < VERIFY_BATCH) return { ok: true, events };
        after = rows.at(-1)!.seq;
      }
    },
  };
}
