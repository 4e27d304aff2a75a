// Appends audit events to a per-tenant hash chain: each event's hash covers the previous hash and
// the event itself, so an edited, removed or reordered event breaks `verify`.
import { createHash, randomUUID } from 'node:crypto';
import { IsNull, type AuditEvent, type Repos, type Storage } from '../storage/index.ts';
import { canonicalJson } from './canonical-json.ts';

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

const GENESIS = '0'.repeat(64);
const chainOf = (tenantId: string | null) => tenantId ?? 'platform';

function hashEvent(prevHash: string, e: Omit<AuditEvent, 'seq' | 'hash' | 'prevHash'>): string {
  const body = canonicalJson({ ...e, at: new Date(e.at) });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

// Secrets never reach the log, whatever a caller passes as before/after.
const REDACT = new Set(['passwordHash', 'password', 'clientSecret', 'clientSecretSealed', 'privateJwkSealed']);
function redact(value: object | null | undefined): Record<string, unknown> | null {
  if (!value) return null;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !REDACT.has(k)).map(([k, v]) => [k, v]));
}

// Sign-in traffic and refusals change nothing an administrator manages; every other audited
// action does, and tells `onChange` once it has committed.
const NOT_A_CHANGE = /^(login\.|consent\.|interaction\.|admin\.forbidden)/;

export function createAuditWriter(storage: Storage, onChange: (tenantId: string) => Promise<void> = async () => {}): AuditWriter {
  async function append(tx: Repos, input: AuditInput) {
    const chain = chainOf(input.tenantId);
    await tx.query('INSERT INTO audit_heads (chain, hash) VALUES ($1, $2) ON CONFLICT (chain) DO NOTHING', [chain, GENESIS]);
    const [head] = await tx.query<{ hash: string }>('SELECT hash FROM audit_heads WHERE chain = $1 FOR UPDATE', [chain]);
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
    const hash = hashEvent(head!.hash, { ...stored, at: event.at });
    await tx.auditEvents.insert({ ...event, prevHash: head!.hash, hash } as never);
    await tx.query('UPDATE audit_heads SET hash = $2 WHERE chain = $1', [chain, hash]);
  }

  return {
    async record(input, tx) {
      const changed = input.tenantId && (input.outcome ?? 'success') === 'success' && !NOT_A_CHANGE.test(input.action);
      const write = async (t: Repos) => {
        await append(t, input);
        if (changed) await t.afterCommit(() => onChange(input.tenantId!));
      };
      if (tx) await write(tx);
      else await storage.transaction(write);
    },
    async verify(tenantId) {
      const rows = await storage.auditEvents.find({
        where: { tenantId: tenantId ?? IsNull() },
        order: { seq: 'ASC' },
      });
      let prev = GENESIS;
      for (const row of rows) {
        const { seq, hash, prevHash, ...rest } = row;
        if (prevHash !== prev || hashEvent(prev, rest) !== hash) return { ok: false, events: rows.length, brokenAt: row.id };
        prev = hash;
      }
      return { ok: true, events: rows.length };
    },
  };
}
