// Storage-internal: raw SQL on an executor — the store, or a transaction's Repos, so that every
// query module works inside the caller's transaction. Only the modules beside this one use it.
import { sqlRepos, type Repos } from '../storage.ts';
import type { Statement } from '../statement.ts';

export { prepared, type Statement } from '../statement.ts';

/** Runs one parameterised statement and returns its rows (RETURNING rows for writes). */
export function exec<T = Record<string, any>>(db: Repos, sql: string | Statement, params?: unknown[]): Promise<T[]> {
  return sqlRepos(db).query<T>(sql, params);
}

