// A new database starts from the squashed baseline (src/storage/migrations/baseline.sql); one that
// already has some migrations applied goes on one migration at a time. Both must end with the same
// schema: tables and columns, constraints, indexes, triggers, functions, sequences, extensions and
// the migrations recorded — read from the catalogs of each and compared.
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createDataSource, createMigrationDataSource } from '../../../src/storage/data-source.ts';
import { migrations } from '../../../src/storage/migrations/index.ts';
import { runMigrations } from '../../../src/storage/migrations/run-migrations.ts';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';

/** Migrations an older release would have applied before the upgrade. */
const APPLIED_BEFORE = 6;

const CATALOG = {
  columns: `SELECT table_name, column_name, rank() OVER (PARTITION BY table_name ORDER BY ordinal_position) AS position, data_type, udt_name,
              is_nullable, column_default, character_maximum_length, numeric_precision, is_identity, is_generated, generation_expression
            FROM information_schema.columns WHERE table_schema = 'public'`,
  tables: `SELECT c.relname, c.relkind, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'S', 'p')`,
  constraints: `SELECT conrelid::regclass::text AS relation, conname, contype, pg_get_constraintdef(c.oid) AS definition
                FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'`,
  indexes: `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`,
  triggers: `SELECT tgrelid::regclass::text AS relation, tgname, pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t
             JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal`,
  functions: `SELECT p.proname, pg_get_functiondef(p.oid) AS definition FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'public' AND p.prokind = 'f' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
  sequences: `SELECT sequencename, data_type, start_value, increment_by, max_value, cycle FROM pg_sequences WHERE schemaname = 'public'`,
  extensions: `SELECT extname FROM pg_extension`,
  migrations: `SELECT id, "timestamp", name FROM migrations`,
} as const;

type Schema = Record<keyof typeof CATALOG, string[]>;

/** Each catalog query's rows as sorted JSON lines, so a difference reads as a diff. */
async function schemaOf(ds: DataSource): Promise<Schema> {
  const out = {} as Schema;
  for (const [name, sql] of Object.entries(CATALOG) as Array<[keyof typeof CATALOG, string]>) {
    const rows = (await ds.query(sql)) as Array<Record<string, unknown>>;
    // PGlite answers bigint as BigInt, pg as a string.
    out[name] = rows.map((r) => JSON.stringify(r, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))).sort();
  }
  return out;
}

/** The same store with only the first `count` migrations: what an older release would have run. */
const olderRelease = (ds: DataSource, count: number) => new DataSource({ ...ds.options, migrations: migrations.slice(0, count) } as DataSourceOptions);

/** Applies the first APPLIED_BEFORE migrations as an older release, then upgrades; the schema it ends with. */
async function upgradedFromOlderRelease(make: () => DataSource): Promise<{ schema: Schema; applied: string[] }> {
  const older = await olderRelease(make(), APPLIED_BEFORE).initialize();
  await older.runMigrations({ transaction: 'all' });
  await older.destroy();
  const ds = await make().initialize();
  try {
    const applied = await runMigrations(ds);
    return { schema: await schemaOf(ds), applied };
  } finally {
    await ds.destroy();
  }
}

async function migrated(ds: DataSource, squashed: boolean): Promise<{ schema: Schema; applied: string[] }> {
  await ds.initialize();
  try {
    const applied = await runMigrations(ds, { squashed });
    return { schema: await schemaOf(ds), applied };
  } finally {
    await ds.destroy();
  }
}

const allNames = migrations.map((m) => m.name);

if (testMode() === 'production') {
  describe('squashed baseline migration (PostgreSQL)', () => {
    const databases: FreshDatabase[] = [];
    const fresh = async () => {
      const db = (await freshDatabaseUrl())!;
      databases.push(db);
      return db.url;
    };
    afterAll(async () => {
      for (const db of databases) await db.drop();
    });

    it('builds, for a new database, the schema the migrations build one at a time, and records them all', async () => {
      const squashed = await migrated(createMigrationDataSource(await fresh()), true);
      const incremental = await migrated(createMigrationDataSource(await fresh()), false);
      expect(squashed.applied).toEqual(allNames);
      expect(incremental.applied).toEqual(allNames);
      expect(squashed.schema).toEqual(incremental.schema);
      expect(squashed.schema.migrations).toHaveLength(allNames.length);
    });

    it('upgrades a database that already has some migrations one migration at a time, to the same schema', async () => {
      const squashed = await migrated(createMigrationDataSource(await fresh()), true);
      const url = await fresh();
      const upgraded = await upgradedFromOlderRelease(() => createMigrationDataSource(url));
      expect(upgraded.applied).toEqual(allNames.slice(APPLIED_BEFORE));
      expect(upgraded.schema).toEqual(squashed.schema);
    });
  });
} else {
  describe('squashed baseline migration (embedded PGlite)', () => {
    const dirs: TempDataDir[] = [];
    afterAll(async () => {
      for (const dir of dirs) await dir.cleanup();
    });

    // PGlite runs one database per process (typeorm-pglite keeps a single instance), so the stores
    // are opened one after the other. A new store starts from the template, which a first start
    // without one migrated, i.e. from the baseline; without the template (template: false) an empty
    // directory costs an initdb.
    it('upgrades a database that already has some migrations one migration at a time, to the schema a new one gets from the baseline', async () => {
      const template = await tempDataDir();
      dirs.push(template);
      const squashed = await migrated(createDataSource({ dataDir: template.path }).dataSource, true);
      expect(squashed.schema.migrations).toHaveLength(allNames.length);

      const empty = await tempDataDir();
      dirs.push(empty);
      const upgraded = await upgradedFromOlderRelease(() => createDataSource({ dataDir: empty.path, template: false }).dataSource);
      expect(upgraded.applied).toEqual(allNames.slice(APPLIED_BEFORE));
      expect(upgraded.schema).toEqual(squashed.schema);
    }, 300_000);
  });
}
