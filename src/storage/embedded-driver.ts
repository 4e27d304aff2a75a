// PGlite is a single connection. typeorm-pglite hands that one connection to every TypeORM query
// runner at once, so two concurrent transactions would interleave their statements. This driver
// gives each query runner exclusive use of the connection until it is released.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as PGliteModule from '@electric-sql/pglite';
import type * as TypeormPglite from 'typeorm-pglite';
import { ConfigError } from '../errors.ts';
import { isStale, textOf, type Statement } from './statement.ts';

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

export type DirectQuery = (sql: string | Statement, params?: unknown[]) => Promise<Record<string, any>[]>;

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
  // PGlite's own query() makes six calls into PostgreSQL per statement (parse, describe the
  // statement for its parameter types, bind, describe, execute, sync), each a pass through its
  // protocol loop, and PostgreSQL parses and plans the statement every time. A direct query sends
  // its messages in one call, to a named statement prepared the first time its SQL runs and kept
  // (the least recently used are closed beyond PREPARED_STATEMENTS). The parameters go as
  // node-postgres sends them to a PostgreSQL server (its prepareValue: text, JSON for objects,
  // array literals, ISO dates), so a statement means the same on both stores. Measured: a refresh
  // grant's three statements take a half to a third of the time they took (docs/performance.md).
  const { protocol, parse } = require('@electric-sql/pglite') as typeof PGliteModule;
  const { prepareValue } = require('pg/lib/utils') as { prepareValue(value: unknown): string | Buffer | null };
  const statements = new PreparedStatements(PREPARED_STATEMENTS);
  async function run(sql: string, params: unknown[]): Promise<Record<string, any>[]> {
    const db = await getPGliteInstance();
    const { name, prepared, closing } = statements.take(sql);
    try {
      const messages = await db.execProtocolStream(
        concat([
          ...closing.map((closed) => protocol.serialize.close({ type: 'S', name: closed })),
          ...(prepared ? [] : [protocol.serialize.parse({ name, text: sql })]),
          protocol.serialize.bind({ statement: name, values: params.map(prepareValue) }),
          protocol.serialize.describe({ type: 'P' }),
          protocol.serialize.execute({}),
          protocol.serialize.sync(),
        ]),
        { syncToFs: false },
      );
      return parse.parseResults(messages, db.parsers).at(-1)?.rows ?? [];
    } catch (error) {
      // A statement that failed its first run may not exist (its parse failed): prepared again
      // next time, and the name closed (closing a name that does not exist is no error).
      if (!prepared) statements.drop(sql);
      // One prepared before a table changed (a migration) keeps the parameter and column types it
      // was prepared with: prepared anew and run once more. Nothing of the failed run remains (a
      // statement outside a transaction is its own, rolled back on error).
      else if (isStale(error)) {
        statements.drop(sql);
        return run(sql, params);
      }
      throw error;
    }
  }
  const query: DirectQuery = async (sql, params = []) => {
    const release = await mutex.acquire();
    try {
      return await run(textOf(sql), params);
    } finally {
      release();
    }
  };
  return { driver: { Pool: SerializedPool }, query };
}

/** Prepared statements kept on the embedded connection (each holds its plan in PGlite's memory). */
const PREPARED_STATEMENTS = 500;

/** Names of the statements prepared on PGlite's one connection, by SQL text, least recently used first. */
export class PreparedStatements {
  readonly #names = new Map<string, string>();
  #closing: string[] = [];
  #next = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The statement to run `sql` by; `prepared` false: parse it under `name` first. `closing`: names to close before. */
  take(sql: string): { name: string; prepared: boolean; closing: string[] } {
    const closing = this.#closing;
    this.#closing = [];
    const known = this.#names.get(sql);
    if (known) {
      this.#names.delete(sql);
      this.#names.set(sql, known);
      return { name: known, prepared: true, closing };
    }
    const name = `caregate_${this.#next++}`;
    this.#names.set(sql, name);
    for (const [oldest, closed] of this.#names) {
      if (this.#names.size <= this.#max) break;
      this.#names.delete(oldest);
      closing.push(closed);
    }
    return { name, prepared: false, closing };
  }

  /** Forgets `sql`'s statement; its name is closed with the next statement. */
  drop(sql: string): void {
    const name = this.#names.get(sql);
    if (!name) return;
    this.#names.delete(sql);
    this.#closing.push(name);
  }

  get size(): number {
    return this.#names.size;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
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
