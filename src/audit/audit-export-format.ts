// How an exported event is written, as JSON Lines or CSV, with its seq and both chain hashes so the
// export can be verified offline. CSV keeps what a hash needs: an empty unquoted cell is null and a
// quoted "" an empty string (as PostgreSQL's COPY does), JSON fields are JSON text, and a cell a
// spreadsheet would run as a formula (= + - @ tab CR), or one starting with ', gets a leading ' that
// the reader takes off again (OWASP's advice against CSV injection).
import type { AuditEvent } from '../storage/index.ts';

export type AuditExportFormat = 'csv' | 'jsonl';

/** An event as exported: `at` as its ISO string, everything else as stored. */
export type ExportedAuditEvent = Omit<AuditEvent, 'at'> & { at: string };

/** The columns, in order; the CSV header names them. */
export const AUDIT_EXPORT_FIELDS = [
  'seq', 'id', 'tenantId', 'at', 'actorType', 'actorId', 'action', 'targetType', 'targetId', 'outcome',
  'ip', 'userAgent', 'before', 'after', 'details', 'prevHash', 'hash',
] as const satisfies ReadonlyArray<keyof AuditEvent>;

export const AUDIT_JSON_FIELDS = new Set<string>(['before', 'after', 'details']);

export const AUDIT_EXPORT_MEDIA: Record<AuditExportFormat, { contentType: string; extension: string }> = {
  csv: { contentType: 'text/csv; charset=utf-8; header=present', extension: 'csv' },
  jsonl: { contentType: 'application/x-ndjson; charset=utf-8', extension: 'jsonl' },
};

export const CSV_FORMULA_GUARD = /^[=+\-@\t\r']/;

/** One CSV cell: null empty and unquoted, quoted when needed, a would-be formula defused with a leading '. */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const text = CSV_FORMULA_GUARD.test(value) ? `'${value}` : value;
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function exported(event: AuditEvent): ExportedAuditEvent {
  return { ...event, at: new Date(event.at).toISOString() };
}

/** What comes before the first event: the CSV header line. */
export function auditExportHeader(format: AuditExportFormat): string {
  return format === 'csv' ? `${AUDIT_EXPORT_FIELDS.join(',')}\n` : '';
}

/** One event as one line (a CSV record may span lines inside quotes), ending in a newline. */
export function auditExportLine(format: AuditExportFormat, event: AuditEvent): string {
  const e = exported(event);
  if (format === 'jsonl') return `${JSON.stringify(Object.fromEntries(AUDIT_EXPORT_FIELDS.map((f) => [f, e[f]])))}\n`;
  const cells = AUDIT_EXPORT_FIELDS.map((f) => {
    const value = e[f];
    if (value === null || value === undefined) return csvCell(null);
    return csvCell(AUDIT_JSON_FIELDS.has(f) ? JSON.stringify(value) : String(value));
  });
  return `${cells.join(',')}\n`;
}
