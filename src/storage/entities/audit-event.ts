import { EntitySchema } from 'typeorm';

/** Append-only, hash-chained per tenant: `hash = sha256(prevHash || canonical(event))`. */
export interface AuditEvent {
  seq: string;
  id: string;
  tenantId: string | null;
  at: Date;
  /** api_key: a service account's API key (actorId: the key's id). */
  actorType: 'user' | 'client' | 'api_key' | 'system' | 'cli' | 'anonymous';
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: 'success' | 'failure';
  ip: string | null;
  userAgent: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  details: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

export const AuditEventEntity = new EntitySchema<AuditEvent>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment' },
    id: { type: 'uuid', unique: true },
    tenantId: { name: 'tenant_id', type: 'uuid', nullable: true },
    at: { type: 'timestamptz' },
    actorType: { name: 'actor_type', type: 'text' },
    actorId: { name: 'actor_id', type: 'text', nullable: true },
    action: { type: 'text' },
    targetType: { name: 'target_type', type: 'text', nullable: true },
    targetId: { name: 'target_id', type: 'text', nullable: true },
    outcome: { type: 'text' },
    ip: { type: 'text', nullable: true },
    userAgent: { name: 'user_agent', type: 'text', nullable: true },
    before: { type: 'jsonb', nullable: true },
    after: { type: 'jsonb', nullable: true },
    details: { type: 'jsonb', nullable: true },
    prevHash: { name: 'prev_hash', type: 'text' },
    hash: { type: 'text' },
  },
});
