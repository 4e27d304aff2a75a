// A campaign's report for auditors, as CSV: one line per item with what was reviewed, its use, the
// decision, who took it (a person's username; system:access-review at the deadline), when and why.
// Cells are written as the audit export writes them (formula-like text defused).
import { csvCell } from '../audit/index.ts';
import type { ReviewItem } from '../storage/index.ts';

export const REVIEW_REPORT_COLUMNS = ['item', 'user', 'kind', 'role', 'scope', 'origin', 'last_sign_in', 'last_used', 'uses_30_days', 'unused', 'decision', 'reviewer', 'decided_at', 'note'] as const;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The report; `reviewerName` turns "user:<id>" into a username where it can. */
export function reviewReportCsv(items: ReviewItem[], reviewerName: (ref: string) => string = (ref) => ref): string {
  const lines = items.map((i) => [
    i.id, i.username, i.kind, i.role, i.scope, i.origin, iso(i.lastSignInAt), iso(i.lastUsedAt), i.uses30Days === null ? null : String(i.uses30Days),
    String(i.unused), i.decision ?? 'undecided', i.decidedBy && reviewerName(i.decidedBy), iso(i.decidedAt), i.note,
  ].map(csvCell).join(','));
  return `${[REVIEW_REPORT_COLUMNS.join(','), ...lines].join('\n')}\n`;
}
