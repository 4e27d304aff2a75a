// Brings a database's schema up to date. A database Caregate has never migrated gets the squashed
// baseline (baseline.sql, written by scripts/squash-migrations.ts: the schema migrations 0001–0011
// build, in one script, recorded as those migrations) and then any migration after it; a database that has some migrations applied keeps
// the incremental path, one TypeORM migration at a time. Both end with the same schema
// (test/integration/storage/squashed-baseline.test.ts compares their catalogs).
import { readFileSync } from 'node:fs';
import type { DataSource, EntityManager } from 'typeorm';
import { migrations } from './index.ts';

/** baseline.sql, and the migrations it stands for: its own first line names the last of them. */
function baseline(): { sql: string; covers: string[] } {
  const sql = readFileSync(new URL('./baseline.sql', import.meta.url), 'utf8');
  const through = /^-- Through: (\S+)/.exec(sql)?.[1];
  const upTo = migrations.findIndex((m) => m.name === through);
  if (upTo < 0) throw new Error(`baseline.sql stands for migrations through ${through}, which is not in the migration list`);
  return { sql, covers: migrations.slice(0, upTo + 1).map((m) => m.name) };
}

/** TypeORM's migration name ends in its 13-digit timestamp (e.g. InitialSchema1764000000000). */
const timestampOf = (name: string) => name.slice(-13);

type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** Names recorded in the migrations table; undefined when there is no such table. */
async function appliedMigrations(query: Query): Promise<string[] | undefined> {
  const [table] = await query(`SELECT to_regclass('migrations') IS NOT NULL AS present`);
  if (!table?.present) return undefined;
  return (await query('SELECT name FROM migrations')).map((r) => String(r.name));
}

/** True when some migration in the list has not been applied (one or two cheap queries). */
export async function hasPendingMigrations(ds: DataSource): Promise<boolean> {
  const applied = new Set((await appliedMigrations((sql) => ds.query(sql))) ?? []);
  return migrations.some((m) => !applied.has(m.name));
}

async function applyBaseline(m: EntityManager): Promise<string[]> {
  const { sql, covers } = baseline();
  // An empty migrations table is what a first migration that failed leaves (TypeORM creates the
  // table outside the migration's transaction); the baseline creates its own.
  await m.query('DROP TABLE IF EXISTS migrations');
  await m.query(sql);
  await m.query(`INSERT INTO migrations ("timestamp", name) SELECT t::bigint, n FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(t, n, i) ORDER BY i`, [covers.map(timestampOf), covers]);
  return covers;
}

/**
 * Applies what is pending and returns the names applied. `squashed: false` takes the incremental
 * path even on a new database (the squash script and the test that compares both paths).
 */
export async function runMigrations(ds: DataSource, { squashed = true } = {}): Promise<string[]> {
  const fresh = squashed && !(await appliedMigrations((sql) => ds.query(sql)))?.length;
  const applied = fresh ? await ds.transaction(applyBaseline) : [];
  const ran = await ds.runMigrations({ transaction: 'all' });
  return [...applied, ...ran.map((m) => m.name)];
}
