// Reading the audit log: one filtered, keyset-paged query (by seq, never by offset, so a page costs
// the same deep in the log as at its head and a 100k-event export streams in batches), a chain's
// batches and count for verification, and the names of what events refer to. Appending is
// audit-chain.ts.
import type { AuditEvent } from '../entities/index.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** The filters in the terms events are stored in: ids as recorded, a prefix, a time range. */
export interface AuditEventFilter {
  /** actor_id is one of these. */
  actorIds?: string[];
  /** The event is about one of these users (its target). */
  userIds?: string[];
  actionPrefix?: string;
  outcome?: 'success' | 'failure';
  /** Ids and client ids of one application: its target, its service account acting, or details.clientId. */
  applicationIds?: string[];
  ip?: string;
  since?: Date;
  until?: Date;
}

/**
 * What a caller may see of the tenant's log. Scoped administration (a location manager) passes the
 * users in its scope: only events about those users are visible. Absent: the whole tenant.
 */
export interface AuditScope {
  userIds: readonly string[];
}

export interface AuditEventRange {
  order: 'asc' | 'desc';
  /** Only events with a seq above this (exclusive). */
  after?: string;
  /** Only events with a seq below this (exclusive). */
  before?: string;
  /** Only events with a seq at most this: the head an export started from. */
  through?: string;
  limit: number;
  scope?: AuditScope;
}

const COLUMNS = `seq::text AS seq, id, tenant_id AS "tenantId", at, actor_type AS "actorType", actor_id AS "actorId", action,
  target_type AS "targetType", target_id AS "targetId", outcome, ip, user_agent AS "userAgent", before, after, details,
  prev_hash AS "prevHash", hash`;

const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function whereClause(tenantId: string, filter: AuditEventFilter, range: AuditEventRange) {
  const params: unknown[] = [tenantId];
  const bind = (value: unknown) => `$${params.push(value)}`;
  const where = ['tenant_id = $1'];
  if (filter.actorIds) where.push(`actor_id = ANY(${bind(filter.actorIds)}::text[])`);
  if (filter.userIds) where.push(`target_type = 'user' AND target_id = ANY(${bind(filter.userIds)}::text[])`);
  if (filter.actionPrefix) where.push(`action LIKE ${bind(likePrefix(filter.actionPrefix))}`);
  if (filter.outcome) where.push(`outcome = ${bind(filter.outcome)}`);
  if (filter.applicationIds) {
    const ids = bind(filter.applicationIds);
    where.push(`((target_type = 'application' AND target_id = ANY(${ids}::text[])) OR (actor_type = 'client' AND actor_id = ANY(${ids}::text[])) OR details->>'clientId' = ANY(${ids}::text[]))`);
  }
  if (filter.ip) where.push(`ip = ${bind(filter.ip)}`);
  if (filter.since) where.push(`at >= ${bind(filter.since)}::timestamptz`);
  if (filter.until) where.push(`at < ${bind(filter.until)}::timestamptz`);
  if (range.scope) where.push(`target_type = 'user' AND target_id = ANY(${bind(range.scope.userIds)}::text[])`);
  if (range.after) where.push(`seq > ${bind(range.after)}::bigint`);
  if (range.before) where.push(`seq < ${bind(range.before)}::bigint`);
  if (range.through) where.push(`seq <= ${bind(range.through)}::bigint`);
  return { sql: where.join(' AND '), params };
}

/**
 * A tenant's events matching `filter`, in seq order (the chain's order), one keyset page at a time.
 * Within a tenant seq order is commit order: an append holds the chain's head row until it commits,
 * so no event can appear later below a seq a reader has already passed.
 */
export async function find(db: Repos, tenantId: string, filter: AuditEventFilter, range: AuditEventRange): Promise<AuditEvent[]> {
  const { sql, params } = whereClause(tenantId, filter, range);
  // Ordered by the table's bigint seq, not the text of the same name in the select list.
  return exec<AuditEvent>(db, `SELECT ${COLUMNS} FROM audit_events e WHERE ${sql} ORDER BY e.seq ${range.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${Math.trunc(range.limit)}`, params);
}

/** One batch of a chain in seq order (a tenant's, or the platform's with null), from just after `after`: for verify. */
export async function chainBatch(db: Repos, tenantId: string | null, after: string | null, limit: number): Promise<AuditEvent[]> {
  return exec<AuditEvent>(
    db,
    `SELECT ${COLUMNS} FROM audit_events e WHERE tenant_id IS NOT DISTINCT FROM $1::uuid AND ($2::bigint IS NULL OR seq > $2::bigint) ORDER BY e.seq ASC LIMIT ${Math.trunc(limit)}`,
    [tenantId, after],
  );
}

/** How many events a chain holds (a tenant's, or the platform's with null). */
export async function countChain(db: Repos, tenantId: string | null): Promise<number> {
  const [row] = await exec<{ n: string }>(db, 'SELECT count(*)::text AS n FROM audit_events WHERE tenant_id IS NOT DISTINCT FROM $1::uuid', [tenantId]);
  return Number(row?.n ?? 0);
}

/**
 * What the ids events record are called now, for people reading the log: users by username,
 * applications (by id or client id), roles, teams, locations, institutions, identity providers and
 * directory sources by name; one query for a whole page. An id that no longer exists is absent.
 */
export async function names(db: Repos, tenantId: string, ids: readonly string[]): Promise<Record<string, string>> {
  if (!ids.length) return {};
  const rows = await exec<{ id: string; name: string }>(
    db,
    `SELECT id::text AS id, username AS name FROM users WHERE tenant_id = $1 AND id::text = ANY($2::text[])
     UNION ALL SELECT id::text, name FROM applications WHERE tenant_id = $1 AND id::text = ANY($2::text[])
     UNION ALL SELECT client_id, name FROM applications WHERE tenant_id = $1 AND client_id = ANY($2::text[])
     UNION ALL SELECT id::text, name FROM roles WHERE tenant_id = $1 AND id::text = ANY($2::text[])
     UNION ALL SELECT id::text, name FROM teams WHERE tenant_id = $1 AND id::text = ANY($2::text[])
     UNION ALL SELECT id::text, name FROM locations WHERE tenant_id = $1 AND id::text = ANY($2::text[])
     UNION ALL SELECT id::text, name FROM institutions WHERE tenant_id = $1 AND id::text = ANY($2::text[])
     UNION ALL SELECT id::text, name FROM connections WHERE tenant_id = $1 AND id::text = ANY($2::text[])
     UNION ALL SELECT id::text, name FROM directory_sources WHERE tenant_id = $1 AND id::text = ANY($2::text[])`,
    [tenantId, [...new Set(ids)]],
  );
  return Object.fromEntries(rows.map((r) => [r.id, r.name]));
}

/** The seq of the tenant's newest event, or null while its log is empty. */
export async function lastSeq(db: Repos, tenantId: string): Promise<string | null> {
  const [row] = await exec<{ seq: string | null }>(db, 'SELECT max(seq)::text AS seq FROM audit_events WHERE tenant_id = $1', [tenantId]);
  return row?.seq ?? null;
}

/** Where an event sits in its chain (seq and time), if it exists. */
export async function position(db: Repos, eventId: string): Promise<{ seq: string; at: Date } | undefined> {
  const [row] = await exec<{ seq: string; at: Date }>(db, 'SELECT seq::text AS seq, at FROM audit_events WHERE id = $1', [eventId]);
  return row;
}
