// Many rows into one table in one statement, whatever their number: the rows travel as one JSON
// parameter that PostgreSQL unpacks (jsonb_to_recordset), so the statement stays small and its
// plan cheap, where a multi-row VALUES list costs a parameter per cell (and TypeORM's builder
// spends more time assembling it than the database spends inserting).
import type { ObjectLiteral } from 'typeorm';
import { fullRepository, type Table } from './storage.ts';

export async function insertMany<T extends ObjectLiteral>(table: Table<T>, rows: T[]): Promise<void> {
  if (!rows.length) return;
  const repo = fullRepository(table);
  // The columns some row sets; the others keep their defaults.
  const columns = repo.metadata.columns.filter((c) => rows.some((r) => r[c.propertyName] !== undefined));
  const json = JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c) => [c.databaseName, r[c.propertyName] ?? null]))));
  const names = columns.map((c) => `"${c.databaseName}"`).join(', ');
  const types = columns.map((c) => `"${c.databaseName}" ${String(c.type)}`).join(', ');
  await repo.query(`INSERT INTO "${repo.metadata.tableName}" (${names}) SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS x(${types})`, [json]);
}
