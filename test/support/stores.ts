// Store helpers for tests: which mode the suite runs in, a fresh PostgreSQL database per suite,
// a throwaway data directory for embedded PGlite, and the Redis URL when one is configured.
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export type TestMode = 'production' | 'embedded';

export interface FreshDatabase {
  url: string;
  drop: () => Promise<void>;
}

export interface TempDataDir {
  path: string;
  cleanup: () => Promise<void>;
}

/** 'production' when DATABASE_URL points at PostgreSQL, else 'embedded' (PGlite + memory). */
export function testMode(): TestMode {
  return process.env.DATABASE_URL ? 'production' : 'embedded';
}

/**
 * Production mode: creates a uniquely named database on DATABASE_URL's server and returns its URL
 * and a drop(). Embedded mode: undefined (use tempDataDir() instead).
 */
export async function freshDatabaseUrl(): Promise<FreshDatabase | undefined> {
  const base = process.env.DATABASE_URL;
  if (!base) return undefined;
  const name = `${databasePrefix()}_${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await onMaintenanceDatabase(base, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE ends connections a test forgot to close, so one leak does not leave databases behind.
    drop: () => onMaintenanceDatabase(base, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

/**
 * A new, empty data directory under the OS temp dir, and a cleanup() that removes it. An embedded
 * store opened there starts from the migrated template, as a first start does.
 */
export async function tempDataDir(): Promise<TempDataDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'caregate-test-'));
  return { path: dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** REDIS_URL when the suite runs against Redis, else undefined (use the memory store). */
export function redisUrlForTest(): string | undefined {
  return process.env.REDIS_URL || undefined;
}

/** CAREGATE_TEST_DB_PREFIX lets a CI run find (and drop) what an interrupted test left behind. */
function databasePrefix(): string {
  const prefix = process.env.CAREGATE_TEST_DB_PREFIX || 'caregate_test';
  // Interpolated into SQL and capped so the whole name stays within PostgreSQL's 63 characters.
  if (!/^[a-z_][a-z0-9_]{0,35}$/.test(prefix)) throw new Error(`CAREGATE_TEST_DB_PREFIX must match [a-z_][a-z0-9_]{0,35}: ${prefix}`);
  return prefix;
}

/** Runs one statement on the server's `postgres` database (CREATE/DROP DATABASE cannot run inside the target). */
async function onMaintenanceDatabase(base: string, run: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const url = new URL(base);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A migrated store in the suite's mode (a fresh PostgreSQL database, or an embedded one in a temp
 * data directory) and a close() that closes it and removes what it made.
 */
export async function openTestStorage(): Promise<{ storage: import('../../src/storage/index.ts').Storage; close: () => Promise<void> }> {
  const { openStorage } = await import('../../src/storage/index.ts');
  const db = await freshDatabaseUrl();
  const dir = await tempDataDir();
  const storage = await openStorage({ databaseUrl: db?.url, dataDir: dir.path });
  await storage.migrate();
  return {
    storage,
    close: async () => {
      await storage.close();
      await db?.drop();
      await dir.cleanup();
    },
  };
}
