// Reading the audit log, for the admin API and the CLI alike: a filtered search, newest first, a
// page at a time; and a filtered export, streamed, which is itself audited (audit.export, with the
// filters) before its first byte.
import { NotFoundError } from '../errors.ts';
import { queries, type AuditEvent, type AuditEventFilter, type AuditScope, type Storage } from '../storage/index.ts';
import type { AuditActor, AuditWriter } from './audit-writer.ts';
import { encodeAuditCursor } from './audit-cursor.ts';
import { AUDIT_EXPORT_MEDIA, type AuditExportFormat } from './audit-export-format.ts';
import type { AuditExportQuery, AuditFilters, AuditListQuery } from './audit-query-schemas.ts';
import { exportAuditEvents } from './export-audit-events.ts';

/** A page of the log, newest first; `nextCursor` asks for the older events after it, null at the end. */
export interface AuditPage {
  events: AuditEvent[];
  nextCursor: string | null;
  /**
   * What the ids in these events are called now (id or client id → username or name): the actors,
   * the targets, and the users, roles, teams and places an assignment or membership names.
   */
  names: Record<string, string>;
}

/** The tenant's whole chain checked: every hash recomputed, every link followed. */
export interface AuditChainStatus {
  ok: boolean;
  events: number;
  /** The first event that does not verify (edited, removed or reordered around it). */
  brokenAt?: { id: string; seq: string | null; at: Date | null };
  checkedAt: Date;
}

export interface AuditExport {
  format: AuditExportFormat;
  filename: string;
  contentType: string;
  /** The seq of the newest event the export may hold (the head when it started). */
  throughSeq: string | null;
  /** The export's text; read it once. */
  chunks: AsyncIterable<string>;
  /** How many events the chunks read so far held. */
  events(): number;
}

export interface AuditLog {
  list(tenant: string, query: AuditListQuery, scope?: AuditScope): Promise<AuditPage>;
  export(tenant: string, query: AuditExportQuery, actor: AuditActor, scope?: AuditScope): Promise<AuditExport>;
  verify(tenant: string): Promise<AuditChainStatus>;
}

/** The ids an event names that a reader would rather see by name. */
function namedIds(e: AuditEvent): string[] {
  const ids: unknown[] = [];
  if (e.actorType === 'user' || e.actorType === 'client') ids.push(e.actorId);
  if (e.targetType !== 'tenant' && e.targetType !== 'assignment') ids.push(e.targetId);
  for (const side of [e.before, e.after]) {
    if (!side) continue;
    ids.push(side.userId, side.teamId, side.roleId, side.applicationId, side.parentId);
    if (side.scopeType !== 'tenant') ids.push(side.scopeId);
  }
  return ids.filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 128);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createAuditLog({ storage, audit }: { storage: Storage; audit: AuditWriter }): AuditLog {
  async function tenantOf(slug: string) {
    const tenant = await storage.tenants.findOneBy({ slug });
    if (!tenant) throw new NotFoundError(`tenant "${slug}" does not exist`);
    return tenant;
  }

  /** The caller's filters in the terms events record: a username becomes its user's id, an application both its ids. */
  async function resolve(tenantId: string, q: AuditFilters): Promise<AuditEventFilter> {
    let userIds: string[] | undefined;
    if (q.user) {
      const id = UUID.test(q.user) ? q.user : await queries.users.findIdByUsername(storage, tenantId, q.user);
      if (!id) throw new NotFoundError(`user "${q.user}" does not exist (a deleted user's events are found by their id)`);
      userIds = [id];
    }
    const actingUser = q.actor && !UUID.test(q.actor) ? await queries.users.findIdByUsername(storage, tenantId, q.actor) : undefined;
    return {
      actorIds: q.actor ? [q.actor, ...(actingUser ? [actingUser] : [])] : undefined,
      userIds,
      actionPrefix: q.action,
      outcome: q.outcome,
      applicationIds: q.application ? [...new Set([q.application, ...(await queries.applications.idsOf(storage, tenantId, q.application))])] : undefined,
      ip: q.ip,
      since: q.since,
      until: q.until,
    };
  }

  return {
    async list(slug, { limit, cursor, ...filters }, scope) {
      const tenant = await tenantOf(slug);
      // One more than the page, to know whether another follows.
      const rows = await queries.auditEvents.find(storage, tenant.id, await resolve(tenant.id, filters), { order: 'desc', before: cursor, limit: limit + 1, scope });
      const events = rows.slice(0, limit);
      const names = await queries.auditEvents.names(storage, tenant.id, events.flatMap(namedIds));
      return { events, nextCursor: rows.length > limit ? encodeAuditCursor(events.at(-1)!.seq) : null, names };
    },

    async export(slug, { format, ...filters }, actor, scope) {
      const tenant = await tenantOf(slug);
      const filter = await resolve(tenant.id, filters);
      // The export ends at the head it starts from, so it is one fixed set however long it streams
      // (its own audit.export event comes after it).
      const through = await queries.auditEvents.lastSeq(storage, tenant.id);
      await audit.record({ tenantId: tenant.id, actor, action: 'audit.export', details: { format, filters, throughSeq: through } });
      let events = 0;
      const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
      return {
        format,
        filename: `audit-${tenant.slug}-${stamp}.${AUDIT_EXPORT_MEDIA[format].extension}`,
        contentType: AUDIT_EXPORT_MEDIA[format].contentType,
        throughSeq: through,
        chunks: exportAuditEvents(storage, tenant.id, filter, { format, through, scope, onBatch: (n) => (events += n) }),
        events: () => events,
      };
    },

    async verify(slug) {
      const tenant = await tenantOf(slug);
      const checkedAt = new Date();
      const result = await audit.verify(tenant.id);
      if (result.ok || !result.brokenAt) return { ok: result.ok, events: result.events, checkedAt };
      const row = await queries.auditEvents.position(storage, result.brokenAt);
      return { ok: false, events: result.events, brokenAt: { id: result.brokenAt, seq: row?.seq ?? null, at: row?.at ?? null }, checkedAt };
    },
  };
}
