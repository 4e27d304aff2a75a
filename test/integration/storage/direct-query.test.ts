// A statement outside a transaction goes straight to the driver: node-postgres on PostgreSQL, and on
// the embedded store one call into PGlite with the parameters node-postgres would send
// (src/storage/embedded-driver.ts). The same statement with the same values must mean the same on
// both stores and inside a transaction (TypeORM's query runner): these cases run in each mode and
// compare the two paths.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PreparedStatements } from '../../../src/storage/embedded-driver.ts';
import { prepared } from '../../../src/storage/statement.ts';
import { sqlRepos } from '../../../src/storage/storage.ts';
import type { Storage } from '../../../src/storage/index.ts';
import { openTestStorage, testMode } from '../../support/stores.ts';

let storage: Storage;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ storage, close } = await openTestStorage());
  await storage.query(`CREATE TABLE direct_query_values (
    id uuid PRIMARY KEY, doc jsonb, tags text[], at timestamptz, raw bytea, flag boolean, n bigint, label text)`);
});

afterAll(async () => {
  await close?.();
});

const INSERT = 'INSERT INTO direct_query_values (id, doc, tags, at, raw, flag, n, label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *';
const at = new Date('2026-12-06T05:30:00.123Z');
const values = () => [
  randomUUID(),
  { name: 'Ward "7", east', list: [1, 'two', null], nested: { ok: true } },
  ['plain', 'with, comma', 'with "quotes"', 'back\\slash', '', null],
  at,
  Buffer.from([0, 1, 2, 254, 255]),
  false,
  9007199254740,
  'naïve – unicode ✓',
];

function expectRow(row: Record<string, unknown>, sent: unknown[]) {
  expect(row.id).toBe(sent[0]);
  expect(row.doc).toEqual(sent[1]);
  expect(row.tags).toEqual(sent[2]);
  expect((row.at as Date).getTime()).toBe(at.getTime());
  expect(Buffer.from(row.raw as Uint8Array)).toEqual(sent[4]);
  expect(row.flag).toBe(false);
  expect(String(row.n)).toBe('9007199254740');
  expect(row.label).toBe(sent[7]);
}

describe('a statement outside a transaction (the driver, directly)', () => {
  it('sends objects as JSON, arrays as array literals, dates, bytes, booleans and numbers as node-postgres does', async () => {
    const sent = values();
    const [returned] = await storage.query<Record<string, unknown>>(INSERT, sent);
    expectRow(returned!, sent);
    const [read] = await storage.query<Record<string, unknown>>('SELECT * FROM direct_query_values WHERE id = $1', [sent[0]]);
    expectRow(read!, sent);
  });

  it('answers what a transaction answers for the same statement', async () => {
    const outside = values();
    const inside = values();
    const [a] = await storage.query<Record<string, unknown>>(INSERT, outside);
    const [b] = await storage.transaction((tx) => tx.query<Record<string, unknown>>(INSERT, inside));
    expect({ ...a, id: null }).toEqual({ ...b, id: null });
  });

  it('takes a JSON text as it is (not encoded a second time) and null as SQL NULL', async () => {
    const id = randomUUID();
    const [row] = await storage.query<Record<string, unknown>>(
      'INSERT INTO direct_query_values (id, doc, tags, label) VALUES ($1, $2, $3, $4) RETURNING doc, tags, label',
      [id, JSON.stringify({ a: 1 }), null, undefined],
    );
    expect(row).toEqual({ doc: { a: 1 }, tags: null, label: null });
  });

  it('answers no rows for a write without RETURNING, and the rows of a RETURNING update', async () => {
    const sent = values();
    expect(await storage.query(INSERT.replace(' RETURNING *', ''), sent)).toEqual([]);
    const updated = await storage.query('UPDATE direct_query_values SET flag = true WHERE id = $1 RETURNING id', [sent[0]]);
    expect(updated).toEqual([{ id: sent[0] }]);
    expect(await storage.query('UPDATE direct_query_values SET flag = true WHERE id = $1 RETURNING id', [randomUUID()])).toEqual([]);
  });

  it('fails with the database error (its SQLSTATE code), and the next statement runs normally', async () => {
    const sent = values();
    await storage.query(INSERT, sent);
    const error = await storage.query(INSERT, sent).then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
    expect(error?.code).toBe('23505');
    expect(error?.message).toMatch(/duplicate key/);
    const syntax = await storage.query('SELEC 1').then(() => undefined, (e: unknown) => e as { code?: string });
    expect(syntax?.code).toBe('42601');
    expect(await storage.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    // Nothing of the failed statements stayed behind, and nothing is left open.
    expect(await storage.query('SELECT count(*)::int AS n FROM direct_query_values WHERE id = $1', [sent[0]])).toEqual([{ n: 1 }]);
    await storage.transaction(async (tx) => tx.query('SELECT 1'));
  });
});

describe('prepared statements (the embedded store keeps each direct statement prepared)', () => {
  it('sees a table change under a statement it ran before (a migration): the statement is prepared anew', async () => {
    await storage.query('CREATE TABLE direct_query_changes (id int PRIMARY KEY)');
    await storage.query('INSERT INTO direct_query_changes VALUES ($1)', [1]);
    expect(await storage.query('SELECT * FROM direct_query_changes WHERE id = $1', [1])).toEqual([{ id: 1 }]);
    await storage.query("ALTER TABLE direct_query_changes ADD COLUMN note text NOT NULL DEFAULT 'added'");
    expect(await storage.query('SELECT * FROM direct_query_changes WHERE id = $1', [1])).toEqual([{ id: 1, note: 'added' }]);
    await storage.query('DROP TABLE direct_query_changes');
    const gone = await storage.query('SELECT * FROM direct_query_changes WHERE id = $1', [1]).then(() => undefined, (e: unknown) => e as { code?: string });
    expect(gone?.code).toBe('42P01');
    await storage.query('CREATE TABLE direct_query_changes (id text PRIMARY KEY)');
    await storage.query('INSERT INTO direct_query_changes VALUES ($1)', ['again']);
    expect(await storage.query('SELECT * FROM direct_query_changes WHERE id = $1', ['again'])).toEqual([{ id: 'again' }]);
  });

  (testMode() === 'embedded' ? it : it.skip)('prepares a statement once and runs it by name after (embedded: one connection)', async () => {
    const sql = 'SELECT $1::int + 1 AS next /* prepared once */';
    for (let i = 0; i < 5; i++) expect(await storage.query(sql, [i])).toEqual([{ next: i + 1 }]);
    const prepared = await storage.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [sql]);
    expect(prepared).toEqual([{ n: 1 }]);
    // A statement whose parse failed is not kept: the next try parses it again and fails the same way.
    for (let i = 0; i < 2; i++) {
      const error = await storage.query('SELECT nope FROM direct_query_values').then(() => undefined, (e: unknown) => e as { code?: string });
      expect(error?.code).toBe('42703');
    }
  });

  it('runs a statement a query module marks as prepared under its name on PostgreSQL, prepared once per connection', async () => {
    // The statement looks itself up: on the connection running it, it is prepared under its name
    // before it executes. Sent unnamed (as every statement was before), it would find nothing.
    const self = prepared('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = $1 /* finds itself */');
    const runs = await Promise.all(Array.from({ length: 12 }, () => storage.query<{ n: number }>(self, [self.name])));
    expect(new Set(runs.map(([row]) => row!.n))).toEqual(new Set([testMode() === 'production' ? 1 : 0]));
    // Inside a transaction it is an ordinary statement of the transaction's connection.
    const [inside] = await storage.transaction((tx) => sqlRepos(tx).query<{ n: number }>(self, [self.name]));
    expect(inside!.n).toBeLessThanOrEqual(1);
    expect(prepared(self.text).name).toBe(self.name);
  });

  it('runs a prepared statement again after its table changed under it (a migration on another node)', async () => {
    const read = prepared('SELECT id, size FROM direct_query_retyped WHERE id = $1');
    await storage.query('CREATE TABLE direct_query_retyped (id int PRIMARY KEY, size int)');
    await storage.query('INSERT INTO direct_query_retyped VALUES ($1, $2)', [1, 7]);
    for (let i = 0; i < 3; i++) expect(await storage.query(read, [1])).toEqual([{ id: 1, size: 7 }]);
    // The result's column type changes: PostgreSQL refuses the old prepared form (0A000, "cached plan
    // must not change result type") on the connection that holds it.
    await storage.query('ALTER TABLE direct_query_retyped ALTER COLUMN size TYPE text');
    for (let i = 0; i < 3; i++) expect(await storage.query(read, [1])).toEqual([{ id: 1, size: '7' }]);
    await storage.query('DROP TABLE direct_query_retyped');
  });

  it('keeps the most recently used statements and closes the rest', () => {
    const kept = new PreparedStatements(2);
    const a = kept.take('a');
    expect(a).toMatchObject({ prepared: false, closing: [] });
    expect(kept.take('b')).toMatchObject({ prepared: false, closing: [] });
    expect(kept.take('a')).toEqual({ name: a.name, prepared: true, closing: [] });
    // 'b' is now the least recently used: preparing 'c' closes it.
    const b = kept.take('b');
    kept.take('a');
    expect(kept.take('c').closing).toEqual([b.name]);
    expect(kept.size).toBe(2);
    expect(kept.take('b')).toMatchObject({ prepared: false });
    // A dropped statement is closed with the next one, and prepared again when it comes back.
    kept.drop('c');
    const next = kept.take('a');
    expect(next.closing).toHaveLength(1);
    expect(kept.take('c').prepared).toBe(false);
  });
});
