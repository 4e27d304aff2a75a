// A statement a query module runs often with the same text. On PostgreSQL it is prepared once per
// pooled connection under a name derived from its text and then only bound and executed: measured
// on this project's refresh-token statements (find, consume, insert), PostgreSQL spent 340-410 µs
// of CPU on the three prepared against 630-640 µs parsed and planned each time (docs/performance.md).
// The embedded store prepares every statement anyway (embedded-driver.ts).
//
// Only for SQL whose text is fixed (no lists or filters spliced in: every distinct text stays
// prepared on every connection for its life) and whose result columns are named, not `*`: a
// prepared `SELECT *` would fail once a migration added a column.
import { createHash } from 'node:crypto';

export interface Statement {
  readonly text: string;
  /** The server-side name: the same text always has the same name, on every node. */
  readonly name: string;
}

export function prepared(text: string): Statement {
  return { text, name: `cg_${createHash('sha256').update(text).digest('hex').slice(0, 24)}` };
}

/** The SQL of either form. */
export function textOf(sql: string | Statement): string {
  return typeof sql === 'string' ? sql : sql.text;
}

// What a statement prepared before a table changed fails with, on either store: result columns
// changed, a table, column, function or operator it was prepared against gone, a parameter of a
// type that changed.
const STALE = new Set(['0A000', '42P01', '42703', '42883', '42804', '22P02']);
export function isStale(error: unknown): boolean {
  return STALE.has((error as { code?: string })?.code ?? '');
}
