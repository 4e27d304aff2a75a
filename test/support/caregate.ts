// Starts a real Caregate server in this process on fresh stores (a new PostgreSQL database and
// Redis when the suite runs in production mode; a temp PGlite directory and memory otherwise).
import { describe } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server.ts';
import { freePort } from './free-port.ts';
import { freshDatabaseUrl, redisUrlForTest, tempDataDir } from './stores.ts';

export interface TestCaregate extends RunningServer {
  baseUrl: string;
  issuer(tenant?: string): string;
  config: Config;
}

export { freePort };

export const BOOTSTRAP_PASSWORD = 'bootstrap-password-for-tests';

export interface StartOptions extends ServeOptions {
  overrides?: Partial<Config>;
  /** Reuse an existing database (the multi-node test); else a fresh one is made. */
  databaseUrl?: string;
}

export async function startTestCaregate({ overrides = {}, databaseUrl, ...serve }: StartOptions = {}): Promise<TestCaregate> {
  const db = databaseUrl ? undefined : await freshDatabaseUrl();
  const dir = await tempDataDir();
  // One key for every attempt: a retry opens the data the first attempt may have written.
  const masterKey = process.env.CAREGATE_MASTER_KEY ?? randomBytes(32).toString('base64');
  // A free port can be taken by another process between freePort() and listen() (suites and
  // browsers start servers side by side): then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), { overrides, databaseUrl, db, dir, masterKey, ...serve });
    } catch (error) {
      const taken = (error as { details?: { reason?: string } }).details?.reason === 'port_in_use';
      if (!taken || attempt === 5) {
        await db?.drop();
        await dir.cleanup();
        throw error;
      }
    }
  }
}

/**
 * Tests of two servers on one PostgreSQL database and one Redis, as nodes behind a load balancer:
 * they run only in production mode, since PGlite and the memory store belong to one process.
 */
export const describeWithSharedStores = process.env.DATABASE_URL && process.env.REDIS_URL ? describe : describe.skip;

/** A second node beside `cg`: its database and Redis, the same public URL (issuer, admin resource) and master key. */
export function startSecondNode(cg: TestCaregate): Promise<TestCaregate> {
  return startTestCaregate({ databaseUrl: cg.config.databaseUrl!, overrides: { baseUrl: cg.baseUrl, masterKey: cg.config.masterKey } });
}

async function startOn(port: number, { overrides = {}, databaseUrl, db, dir, masterKey, ...serve }: StartOptions & { db: Awaited<ReturnType<typeof freshDatabaseUrl>>; dir: Awaited<ReturnType<typeof tempDataDir>>; masterKey: string }): Promise<TestCaregate> {
  const baseUrl = `http://localhost:${port}`;
  const config = loadConfig(
    {
      CAREGATE_MASTER_KEY: masterKey,
      ...(databaseUrl || db ? { DATABASE_URL: databaseUrl ?? db!.url } : {}),
      ...(redisUrlForTest() ? { REDIS_URL: redisUrlForTest() } : {}),
    },
    { port, host: '127.0.0.1', baseUrl, dataDir: dir.path, bootstrapPassword: BOOTSTRAP_PASSWORD, logLevel: 'error',
      // Suites run directory syncs themselves; the schedule stays out of their way unless asked.
      directorySyncTickSeconds: 3600,
      // Metrics on a port of their own, as in production, but any free one (suites run side by side).
      metricsPort: 0, ...overrides },
  );
  const running = await startServer(config, () => {}, serve);
  return {
    ...running,
    baseUrl,
    config,
    issuer: (tenant = 'demo') => `${baseUrl}/t/${tenant}`,
    async close() {
      await running.close();
      await db?.drop();
      await dir.cleanup();
    },
  };
}
