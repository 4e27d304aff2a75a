// Opens the durable store: PostgreSQL when DATABASE_URL is set, else embedded PGlite in dataDir.
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { entities } from './entities/index.ts';
import { migrations } from './migrations/index.ts';
import { createEmbeddedDriver, acquireEmbeddedLock, type DirectQuery } from './embedded-driver.ts';
import { isStale } from './statement.ts';
import { seedFromTemplate } from './embedded-template.ts';

export interface DataSourceOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Embedded: a new database starts as a copy of the migrated template when there is one (embedded-template.ts); false runs initdb. */
  template?: boolean;
}

/** PostgreSQL only: a separate pool for migrations, without the per-query time limit. */
export function createMigrationDataSource(databaseUrl: string): DataSource {
  return new DataSource({ type: 'postgres', entities, migrations, url: databaseUrl, extra: { max: 2, connectionTimeoutMillis: 10000, keepAlive: true } });
}

export interface OpenedDataSource {
  dataSource: DataSource;
  /** Plain SQL outside any transaction, straight to the driver (call after initialize). */
  query: DirectQuery;
}

export function createDataSource({ databaseUrl, dataDir, template = true }: DataSourceOptions): OpenedDataSource {
  const common = { type: 'postgres' as const, entities, migrations, migrationsRun: false, synchronize: false };
  if (databaseUrl) {
    const dataSource = new DataSource({
      ...common,
      url: databaseUrl,
      // Fail fast when the database is unreachable or stalls, rather than holding requests; keepAlive
      // lets the pool notice a half-open connection.
      extra: { max: 10, connectionTimeoutMillis: 3000, query_timeout: 5000, keepAlive: true },
    });
    type Rows = Promise<{ rows: Record<string, any>[] }>;
    const pool = () => (dataSource.driver as unknown as { master: { query(sql: string | { name: string; text: string; values?: unknown[] }, params?: unknown[]): Rows } }).master;
    const query: DirectQuery = async (sql, params) => {
      if (typeof sql === 'string') return (await pool().query(sql, params)).rows;
      try {
        // Named: node-postgres prepares it on a connection's first use and then only binds it.
        return (await pool().query({ name: sql.name, text: sql.text, values: params })).rows;
      } catch (error) {
        // Prepared before a migration on another node changed what it reads: the connection keeps
        // the old form, so this run goes unnamed (a failed statement outside a transaction left nothing).
        if (!isStale(error)) throw error;
        return (await pool().query(sql.text, params)).rows;
      }
    };
    return { dataSource, query };
  }
  const dir = path.resolve(dataDir, 'pg');
  mkdirSync(dir, { recursive: true });
  acquireEmbeddedLock(dir);
  if (template) seedFromTemplate(dir);
  const embedded = createEmbeddedDriver(dir);
  return { dataSource: new DataSource({ ...common, driver: embedded.driver } as ConstructorParameters<typeof DataSource>[0]), query: embedded.query };
}
