// Writes src/storage/migrations/baseline.sql: the schema every migration in the list builds, taken
// with pg_dump from a scratch database migrated one migration at a time. New databases start from
// it (src/storage/migrations/run-migrations.ts); test/integration/storage/squashed-baseline.test.ts
// checks that it still builds what the migrations build. Run it after adding migrations whose
// start-up cost matters, with a PostgreSQL server whose pg_dump is on PATH:
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node scripts/squash-migrations.ts
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { createMigrationDataSource } from '../src/storage/data-source.ts';
import { migrations } from '../src/storage/migrations/index.ts';
import { runMigrations } from '../src/storage/migrations/run-migrations.ts';

const server = process.env.DATABASE_URL;
if (!server) throw new Error('set DATABASE_URL to a PostgreSQL server (a scratch database is created and dropped on it)');
const name = `caregate_squash_${process.pid}`;
const admin = new URL(server);
admin.pathname = '/postgres';
const onAdmin = async (sql: string) => {
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

// pg_trgm may be missing (PGlite loads no extensions): the extension and its index stay optional,
// as migration 0011 made them.
const TRGM_EXTENSION = /^CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;$/m;
const TRGM_INDEX = /^(CREATE INDEX users_search_trgm ON public\.users USING gin .*);$/m;

/** The dump as a script: no session settings, comments or psql meta-commands; pg_trgm optional. */
function clean(dump: string, through: string): string {
  const index = TRGM_INDEX.exec(dump)?.[1];
  if (!TRGM_EXTENSION.test(dump) || !index) throw new Error('the dump has no pg_trgm extension or users_search_trgm index: is pg_trgm available on this server?');
  const body = dump
    .replace(TRGM_EXTENSION, '')
    .replace(TRGM_INDEX, '')
    .split('\n')
    .filter((line) => !/^(--|\\(un)?restrict |SET |SELECT pg_catalog\.set_config)/.test(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return [
    `-- Through: ${through}`,
    '-- The schema migrations 0001 up to the one above build, for a new database. Written by',
    '-- scripts/squash-migrations.ts from pg_dump --schema-only; do not edit by hand.',
    '',
    body,
    '',
    `DO $$ BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  EXECUTE '${index.replaceAll("'", "''")}';
EXCEPTION WHEN OTHERS THEN NULL; END $$;`,
    '',
  ].join('\n');
}

await onAdmin(`CREATE DATABASE "${name}"`);
try {
  const url = new URL(server);
  url.pathname = `/${name}`;
  const ds = await createMigrationDataSource(url.toString()).initialize();
  try {
    await runMigrations(ds, { squashed: false });
  } finally {
    await ds.destroy();
  }
  const dump = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', '--no-comments', url.toString()], { encoding: 'utf8' });
  const file = new URL('../src/storage/migrations/baseline.sql', import.meta.url);
  writeFileSync(file, clean(dump, migrations.at(-1)!.name));
  process.stdout.write(`wrote ${file.pathname} (through ${migrations.at(-1)!.name})\n`);
} finally {
  await onAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
