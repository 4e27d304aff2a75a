// What a caller may ask of the audit log, declared once for the admin API and the CLI: a bad date,
// cursor or filter name is refused at the door with a 400 that names the field. The objects are
// strict because an audit search whose misspelt filter were ignored would answer with everything.
import { z } from 'zod';
import { decodeAuditCursor } from './audit-cursor.ts';

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expected an ISO 8601 date, or date-time with a zone, e.g. 2026-01-31 or 2026-01-31T08:00:00Z' })
  .transform((text) => new Date(text));

const name = z.string().min(1).max(256);

const filters = {
  actor: name.optional().describe('Who acted: a user id or username, an application client id, or the CLI operator'),
  user: name.optional().describe('The user the event is about (its target): user id or username'),
  action: z.string().min(1).max(128).optional().describe('Actions starting with this, e.g. "login." or "user.password"'),
  outcome: z.enum(['success', 'failure']).optional(),
  application: name.optional().describe('Events about an application, by its service account, or naming it: client id or id'),
  ip: z.string().min(1).max(64).optional().describe('Client address, exactly as recorded'),
  since: instant.optional().describe('Events at or after this time (ISO 8601; a date alone is midnight UTC)'),
  until: instant.optional().describe('Events before this time (ISO 8601)'),
};

const sinceBeforeUntil = (q: { since?: Date; until?: Date }) => !q.since || !q.until || q.since < q.until;
const untilMessage = { message: 'must be later than since', path: ['until'] };

export const auditListQuery = z
  .strictObject({
    ...filters,
    limit: z.coerce.number().int().min(1).max(500).default(100).describe('Events per page'),
    cursor: z
      .string()
      .transform((text, ctx) => decodeAuditCursor(text) ?? (ctx.addIssue({ code: 'custom', message: 'not a cursor this API issued: pass nextCursor from the previous page' }), z.NEVER))
      .optional()
      .describe('nextCursor of the previous page'),
  })
  .refine(sinceBeforeUntil, untilMessage);

export const auditExportQuery = z
  .strictObject({ ...filters, format: z.enum(['csv', 'jsonl']).default('jsonl').describe('JSON Lines (the default) or CSV') })
  .refine(sinceBeforeUntil, untilMessage);

/** The filters as validated: dates parsed; `cursor`, when given, is the seq the next page starts below. */
export type AuditListQuery = z.output<typeof auditListQuery>;
export type AuditExportQuery = z.output<typeof auditExportQuery>;
export type AuditFilters = Omit<AuditListQuery, 'limit' | 'cursor'>;
