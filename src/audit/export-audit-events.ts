// Streams a tenant's matching events as export text, oldest first (the chain's order), one keyset
// batch at a time: memory holds one batch, whatever the size of the log.
import { queries, type AuditEventFilter, type AuditScope, type Repos } from '../storage/index.ts';
import { auditExportHeader, auditExportLine, type AuditExportFormat } from './audit-export-format.ts';

export const AUDIT_EXPORT_BATCH = 1000;

export interface AuditExportRun {
  format: AuditExportFormat;
  /** The head the export started from: nothing appended after it is included. Null: empty log. */
  through: string | null;
  scope?: AuditScope;
  /** Told how many events each batch wrote. */
  onBatch?: (events: number) => void;
}

export async function* exportAuditEvents(db: Repos, tenantId: string, filter: AuditEventFilter, run: AuditExportRun): AsyncGenerator<string> {
  const header = auditExportHeader(run.format);
  if (header) yield header;
  if (run.through === null) return;
  let after: string | undefined;
  for (;;) {
    const batch = await queries.auditEvents.find(db, tenantId, filter, { order: 'asc', after, through: run.through, limit: AUDIT_EXPORT_BATCH, scope: run.scope });
    if (!batch.length) return;
    run.onBatch?.(batch.length);
    yield batch.map((event) => auditExportLine(run.format, event)).join('');
    if (batch.length < AUDIT_EXPORT_BATCH) return;
    after = batch.at(-1)!.seq;
  }
}
