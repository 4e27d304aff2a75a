// A transaction is one connection. Code inside one may gather statements with Promise.all (the
// authorisation snapshot does); they go one after another on the connection, in the order asked
// (src/storage/storage.ts). node-postgres deprecates a statement sent while another runs on the same
// client, and pg 9 refuses it. Each statement node-postgres is handed is checked here for another
// still queued on its client — the condition of that deprecation (PostgreSQL mode; PGlite has no
// such queue).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { Storage } from '../../../src/storage/index.ts';
import { sqlRepos } from '../../../src/storage/storage.ts';
import { openTestStorage } from '../../support/stores.ts';

let storage: Storage;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ storage, close } = await openTestStorage());
  await sqlRepos(storage).query('CREATE TABLE gathered_statements (n int PRIMARY KEY)');
});

/** Statements sent to a client that still held an earlier one (node-postgres's own queue). */
let sentWhileBusy = 0;
const send = pg.Client.prototype.query;
beforeAll(() => {
  pg.Client.prototype.query = function (this: pg.Client & { _queryQueue?: unknown[]; _activeQuery?: unknown }, ...args: unknown[]) {
    if (this._activeQuery || this._queryQueue?.length) sentWhileBusy++;
    return (send as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof send;
});

afterAll(async () => {
  pg.Client.prototype.query = send;
  await close?.();
});

const gathered = (ns: number[], sql = 'SELECT $1::int AS n, clock_timestamp() AS at FROM pg_sleep(0.02)') =>
  storage.transaction((tx) => Promise.all(ns.map((n) => sqlRepos(tx).query<{ n: number; at: Date }>(sql, [n]))));

describe('statements gathered with Promise.all inside a transaction', () => {
  it('all answer, one after another, in the order they were asked', async () => {
    const answers = await gathered([1, 2, 3, 4, 5]);
    expect(answers.map(([row]) => row!.n)).toEqual([1, 2, 3, 4, 5]);
    const times = answers.map(([row]) => new Date(row!.at).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(sentWhileBusy).toBe(0);
  });

  it('through the repositories too: an entity read beside others', async () => {
    const counts = await storage.transaction((tx) => Promise.all([tx.tenants.count(), tx.users.count(), tx.roles.count(), tx.locations.count()]));
    expect(counts).toHaveLength(4);
    expect(sentWhileBusy).toBe(0);
  });

  it('one failing rolls the transaction back, and the connection serves the next one', async () => {
    await expect(
      storage.transaction((tx) =>
        Promise.all([
          sqlRepos(tx).query('INSERT INTO gathered_statements (n) VALUES (1)'),
          sqlRepos(tx).query('SELECT 1 / 0'),
          sqlRepos(tx).query('INSERT INTO gathered_statements (n) VALUES (2)'),
        ]),
      ),
    ).rejects.toThrow(/division by zero|current transaction is aborted/);
    expect(await sqlRepos(storage).query('SELECT n FROM gathered_statements')).toEqual([]);
    await gathered([6, 7], 'INSERT INTO gathered_statements (n) VALUES ($1) RETURNING n');
    expect(await sqlRepos(storage).query('SELECT n FROM gathered_statements ORDER BY n')).toEqual([{ n: 6 }, { n: 7 }]);
    expect(sentWhileBusy).toBe(0);
  });
});
