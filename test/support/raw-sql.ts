// Tests and benches read and corrupt rows on purpose (an audit event edited, an account aged, a
// count checked): for them the store and a transaction's Repos keep the raw SQL every Repos has
// underneath. Production code is compiled without this file (tsconfig.json covers src and config
// only), so there SQL stays in src/storage/queries; test/tsconfig.json adds tests and benches.
import type { Statement } from '../../src/storage/statement.ts';

declare module '../../src/storage/storage.ts' {
  interface Repos {
    /** Raw SQL within the same transaction (or the pool, outside one); a query module's prepared statement too. */
    query<T = Record<string, unknown>>(sql: string | Statement, params?: unknown[]): Promise<T[]>;
  }
}

export {};
