// Jest globalSetup: checks the stores the suite was pointed at before any test runs, so a down
// PostgreSQL or Redis fails once with a clear message instead of as hundreds of timeouts.
import pg from 'pg';
import { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CONNECT_TIMEOUT_MS = 5000;
const BUILD_TEMPLATE = fileURLToPath(new URL('../../scripts/build-embedded-template.ts', import.meta.url));

export default async function globalSetup(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (databaseUrl) await checkPostgres(databaseUrl);
  if (redisUrl) await checkRedis(redisUrl);
  // Every embedded test server's first start copies the migrated template (src/storage/
  // embedded-template.ts) instead of running initdb; npm ci builds it, this makes sure it is there
  // (in both modes: embedded-template.test.ts checks it in both).
  await promisify(execFile)(process.execPath, [BUILD_TEMPLATE, '--strict'], { timeout: 300_000 });
  const durable = databaseUrl ? 'PostgreSQL' : 'embedded PGlite';
  const ephemeral = redisUrl ? 'Redis' : 'memory';
  console.log(`\nstores: ${durable} + ${ephemeral}`);
}

/** Connects and runs one query; throws naming the server (never the password). */
async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`DATABASE_URL is set but PostgreSQL at ${redact(url)} is not reachable: ${describe(error)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects once without retrying and sends PING; throws naming the server. */
async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis reports the socket error (ECONNREFUSED…) here and rejects connect() with a vaguer one.
  let socketError: unknown;
  redis.on('error', (error) => (socketError ??= error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`REDIS_URL is set but Redis at ${redact(url)} is not reachable: ${describe(socketError ?? error)}`);
  } finally {
    redis.disconnect();
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}
