// Tests and benches read and corrupt rows on purpose (an audit event edited, an account aged, a
// count checked): for them the store and a transaction's Repos keep the raw SQL every Repos has
// underneath. Production code is compiled without this file (tsconfig.json covers src and config
// only), so there SQL stays in src/storage/queries; test/tsconfig.json adds tests and benches.
declare module '../../src/storage/storage.ts' {
  interface Repos {
    /** Raw SQL within the same transaction (or the pool, outside one). */
    query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  }
}

export {};
