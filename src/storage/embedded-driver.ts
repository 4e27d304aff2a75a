// PGlite is a single connection. typeorm-pglite hands that one connection to every TypeORM query
// runner at once, so two concurrent transactions would interleave their statements. This driver
// gives each query runner exclusive use of the connection until it is released.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as PGliteModule from '@electric-sql/pglite';
import type * as TypeormPglite from 'typeorm-pglite';
import { ConfigError } from '../errors.ts';

// Required when an embedded store is opened, not imported: a PostgreSQL deployment never loads
// PGlite. Both through require, so that PGlite is the CommonJS build typeorm-pglite uses, not a
// second copy of it (its ES module build).
const require = createRequire(import.meta.url);

class Mutex {
  #tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}

/** Embedded PostgreSQL's buffer cache (see createEmbeddedDriver). */
export const SHARED_BUFFERS = '16MB';

type ConnectCallback = (err: unknown, client: unknown, done: (err?: unknown) => void) => void;

export type DirectQuery = (sql: string, params?: unknown[]) => Promise<Record<string, any>[]>;

/**
 * The TypeORM driver for PGlite, and a direct query function for hot paths that skips TypeORM's
 * query runner (it takes the same lock, so it never runs inside someone else's transaction).
 */
export function createEmbeddedDriver(dataDir: string): { driver: unknown; query: DirectQuery } {
  // relaxedDurability only stops PGlite awaiting its `syncToFs` hook after each query; on Node's
  // filesystem (NodeFS) that hook is a no-op — writes reach the files synchronously — so this
  // saves a scheduling round per query and changes nothing about durability.
  // shared_buffers: PostgreSQL's default 128MB is memory PGlite zero-fills at start (its shared
  // memory is WebAssembly memory), ~100 MB of resident memory and ~0.4 s of CPU before the first
  // query. Its data files are read through the OS page cache anyway, so a one-clinic database
  // loses little with 16MB (2,048 pages: a clinic's users, sessions and their indexes; 32MB cost
  // another 26 MB of resident memory, measured alone).
  const { PGlite } = require('@electric-sql/pglite') as typeof PGliteModule;
  const { PGliteDriver, getPGliteInstance } = require('typeorm-pglite') as typeof TypeormPglite;
  const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`];
  const Base = (new PGliteDriver({ dataDir, relaxedDurability: true, startParams }).driver as unknown as { Pool: new () => { connect(cb: ConnectCallback): void } })
    .Pool;
  const mutex = new Mutex();
  class SerializedPool extends Base {
    override connect(callback: ConnectCallback): void {
      mutex.acquire().then((release) => {
        super.connect((err, client, done) =>
          callback(err, client, (doneErr?: unknown) => {
            release();
            done(doneErr);
          }),
        );
      });
    }
  }
  const query: DirectQuery = async (sql, params = []) => {
    const release = await mutex.acquire();
    try {
      return (await (await getPGliteInstance()).query<Record<string, any>>(sql, params)).rows;
    } finally {
      release();
    }
  };
  return { driver: { Pool: SerializedPool }, query };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * PGlite's files may be opened by one process only. A lock file holding the owner's pid makes a
 * second process (a CLI command beside a running server) stop with a clear message instead of
 * corrupting the database. A lock left by a dead process is taken over.
 */
export function acquireEmbeddedLock(dir: string): void {
  const file = path.join(dir, 'caregate.lock');
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch {
    const owner = Number(readFileSync(file, 'utf8'));
    if (owner && owner !== process.pid && alive(owner)) {
      throw new ConfigError(
        `The embedded database in ${dir} is in use by another Caregate process (pid ${owner}). Stop it first, use the admin API, or run on PostgreSQL (DATABASE_URL).`,
      );
    }
    writeFileSync(file, String(process.pid));
  }
  process.once('exit', () => {
    try {
      if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file);
    } catch {}
  });
}
