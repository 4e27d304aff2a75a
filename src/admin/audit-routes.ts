// The audit log's admin routes: a filtered search, newest first with an opaque cursor, and a
// filtered export streamed as CSV or JSON Lines with the chain hashes (see README "Audit log").
import { Readable } from 'node:stream';
import { auditExportQuery, auditListQuery, type AuditLog } from '../audit/index.ts';
import { defineRoute, type AdminRoute } from './define-route.ts';

export function auditRoutes(log: AuditLog): AdminRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/audit', summary: 'Search the audit log, newest first: {events, nextCursor}; pass nextCursor as cursor for the next page (null after the last)',
      permission: 'caregate.audit:read', query: auditListQuery, handler: (r) => log.list(r.tenant, r.query),
    }),
    defineRoute({
      method: 'get', path: '/audit/export', summary: 'Download the matching events, oldest first, as JSON Lines or CSV with seq, prevHash and hash to verify offline (audited as audit.export)',
      permission: 'caregate.audit:export', query: auditExportQuery,
      handler: async ({ tenant, query, actor, ctx }) => {
        const out = await log.export(tenant, query, actor);
        ctx.set('Content-Disposition', `attachment; filename="${out.filename}"`);
        ctx.set('Cache-Control', 'no-store');
        ctx.type = out.contentType;
        // A byte stream with the default high-water mark: at most about one batch waits for a slow client.
        return Readable.from(out.chunks, { objectMode: false });
      },
    }),
  ];
}
