// Indexes for the console's user list (src/storage/user-search.ts) at tens of thousands of users:
// - the role and the location / institution filters, and a scoped administrator's reach, read the
//   assignments of one role or at a few scopes rather than every assignment of the tenant;
// - the text search ("part of a username, email or name") is one LIKE on a single lower-cased
//   expression, which a trigram index answers without reading every user. pg_trgm ships with
//   PostgreSQL and is a trusted extension (a database owner may create it); where it cannot be
//   created — the embedded store (PGlite) loads no extensions — the search works the same, unindexed.
// The expression must stay exactly the one src/storage/user-search.ts searches, or the index is
// not used; it is written out here so this migration never changes.
import type { MigrationInterface, QueryRunner } from 'typeorm';

const HAYSTACK = `lower(username || chr(10) || coalesce(email, '') || chr(10) || coalesce(display_name, '') || chr(10) || coalesce(given_name, '') || ' ' || coalesce(family_name, ''))`;

export class UserSearchIndexes1765000000000 implements MigrationInterface {
  name = 'UserSearchIndexes1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX assignments_tenant_role ON assignments (tenant_id, role_id);
      CREATE INDEX assignments_tenant_scope ON assignments (tenant_id, scope_type, scope_id);
      DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; EXCEPTION WHEN OTHERS THEN NULL; END $$;
    `);
    const [{ trgm }] = await q.query(`SELECT count(*)::int AS trgm FROM pg_extension WHERE extname = 'pg_trgm'`);
    if (trgm) await q.query(`CREATE INDEX users_search_trgm ON users USING gin ((${HAYSTACK}) gin_trgm_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX IF EXISTS users_search_trgm;
      DROP INDEX assignments_tenant_scope; DROP INDEX assignments_tenant_role;
    `);
  }
}
