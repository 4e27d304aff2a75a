// The SQL that reads the audit log: one filtered, keyset-paged query (by seq, never by offset, so a
// page costs the same deep in the log as at its head and a 100k-event export streams in batches),
// and the lookups that turn what a caller names (a username, a client id) into what events record.
import type { AuditEvent, Repos } from '../storage/index.ts';

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
export async function findAuditEvents(db: Repos, tenantId: string, filter: AuditEventFilter, range: AuditEventRange): Promise<AuditEvent[]> {
  const { sql, params } = whereClause(tenantId, filter, range);
  // Ordered by the table's bigint seq, not the text of the same name in the select list.
  return db.query<AuditEvent>(`SELECT ${COLUMNS} FROM audit_events e WHERE ${sql} ORDER BY e.seq ${range.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${Math.trunc(range.limit)}`, params);
}

/** One batch of a chain in seq order (a tenant's, or the platform's with null), from just after `after`: for verify. */
export async function auditChainBatch(db: Repos, tenantId: string | null, after: string | null, limit: number): Promise<AuditEvent[]> {
  return db.query<AuditEvent>(
    `SELECT ${COLUMNS} FROM audit_events e WHERE tenant_id IS NOT DISTINCT FROM $1::uuid AND ($2::bigint IS NULL OR seq > $2::bigint) ORDER BY e.seq ASC LIMIT ${Math.trunc(limit)}`,
    [tenantId, after],
  );
}

/** How many events a chain holds (a tenant's, or the platform's with null). */
export async function countAuditChain(db: Repos, tenantId: string | null): Promise<number> {
  const [row] = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_events WHERE tenant_id IS NOT DISTINCT FROM $1::uuid', [tenantId]);
  return Number(row?.n ?? 0);
}

/**
 * What the ids events record are called now, for people reading the log: users by username,
 * applications (by id or client id), roles, teams, locations, institutions, identity providers and
 * directory sources by name; one query for a whole page. An id that no longer exists is absent.
 */
export async function findAuditNames(db: Repos, tenantId: string, ids: readonly string[]): Promise<Record<string, string>> {
  if (!ids.length) return {};
  const rows = await db.query<{ id: string; name: string }>(
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
export async function lastAuditSeq(db: Repos, tenantId: string): Promise<string | null> {
  const [row] = await db.query<{ seq: string | null }>('SELECT max(seq)::text AS seq FROM audit_events WHERE tenant_id = $1', [tenantId]);
  return row?.seq ?? null;
}

/** The id of the tenant's user with this username (any case), if there is one. */
export async function findUserIdByUsername(db: Repos, tenantId: string, username: string): Promise<string | undefined> {
  const [row] = await db.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND lower(username) = lower($2)', [tenantId, username]);
  return row?.id;
}

/** Both names of the tenant's application known by `ref` (client id or id): [id, clientId], or [] when none. */
export async function findApplicationIds(db: Repos, tenantId: string, ref: string): Promise<string[]> {
  const [row] = await db.query<{ id: string; clientId: string }>(
    'SELECT id::text AS id, client_id AS "clientId" FROM applications WHERE tenant_id = $1 AND (client_id = $2 OR id::text = $2)',
    [tenantId, ref],
  );
  return row ? [row.id, row.clientId] : [];
}
