// The audit log's admin routes: a filtered search, newest first with an opaque cursor, a filtered
// export streamed as CSV or JSON Lines with the chain hashes (see docs/audit-log.md), and the
// check of the tenant's whole chain.
import { Readable } from 'node:stream';
import type { Actor } from '../accounts/index.ts';
import { auditExportQuery, auditListQuery, type AuditLog, type AuditScope } from '../audit/index.ts';
import { defineRoute, type AdminRoute } from './define-route.ts';

/** The users whose events a caller may read with `permission`; undefined when tenant-wide (all events). */
export type AuditScopeOf = (tenant: string, actor: Actor, permission: string) => Promise<AuditScope | undefined>;

// A caller holding the permission only at a location, an institution or an application reads the
// events about the users there, never another scope's rows.
export function auditRoutes(log: AuditLog, scopeOf: AuditScopeOf): AdminRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/audit', summary: 'Search the audit log, newest first: {events, nextCursor}; pass nextCursor as cursor for the next page (null after the last)',
      permission: 'caregate.audit:read', scoped: true, query: auditListQuery, handler: async (r) => log.list(r.tenant, r.query, await scopeOf(r.tenant, r.actor, 'caregate.audit:read')),
    }),
    defineRoute({
      method: 'get', path: '/audit/export', summary: 'Download the matching events, oldest first, as JSON Lines or CSV with seq, prevHash and hash to verify offline (audited as audit.export)',
      permission: 'caregate.audit:export', scoped: true, query: auditExportQuery,
      handler: async ({ tenant, query, actor, ctx }) => {
        const out = await log.export(tenant, query, actor, await scopeOf(tenant, actor, 'caregate.audit:export'));
        ctx.set('Content-Disposition', `attachment; filename="${out.filename}"`);
        ctx.set('Cache-Control', 'no-store');
        ctx.type = out.contentType;
        // A byte stream with the default high-water mark: at most about one batch waits for a slow client.
        return Readable.from(out.chunks, { objectMode: false });
      },
    }),
    defineRoute({
      method: 'get', path: '/audit/verify', summary: "Check the tenant's whole audit chain: {ok, events, brokenAt?: {id, seq, at}, checkedAt} (tenant-wide readers only)",
      permission: 'caregate.audit:read', handler: (r) => log.verify(r.tenant),
    }),
  ];
}
