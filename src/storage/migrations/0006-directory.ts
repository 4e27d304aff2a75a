// Directory sources (LDAP / Active Directory) and their sync runs. A source keeps the change
// watermark its next incremental run starts from; a run keeps its progress and result so any node
// (and the admin API) can see them. On identity links: whether the directory disabled the user (so
// only those are re-enabled by it), the directory profile, and a digest of what was last applied.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Directory1764500000000 implements MigrationInterface {
  name = 'Directory1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE directory_sources (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        preset text NOT NULL,
        settings jsonb NOT NULL,
        -- the service account's password: sealed with the master key, never returned
        secrets_sealed text,
        mappings jsonb NOT NULL DEFAULT '[]',
        enabled boolean NOT NULL DEFAULT true,
        -- {attribute, value, server}: where the next incremental run starts; NULL = full next
        watermark jsonb,
        last_full_sync_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX directory_sources_tenant_key ON directory_sources (tenant_id, key);

      CREATE TABLE directory_runs (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        source_id uuid NOT NULL REFERENCES directory_sources(id) ON DELETE CASCADE,
        mode text NOT NULL,
        trigger text NOT NULL,
        dry_run boolean NOT NULL DEFAULT false,
        status text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        progress jsonb NOT NULL DEFAULT '{}',
        summary jsonb,
        error text
      );
      CREATE INDEX directory_runs_source ON directory_runs (source_id, started_at DESC);

      ALTER TABLE user_identities ADD COLUMN disabled_at timestamptz;
      ALTER TABLE user_identities ADD COLUMN profile jsonb;
      ALTER TABLE user_identities ADD COLUMN sync_digest text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE user_identities DROP COLUMN sync_digest;
      ALTER TABLE user_identities DROP COLUMN profile;
      ALTER TABLE user_identities DROP COLUMN disabled_at;
      DROP TABLE directory_runs;
      DROP TABLE directory_sources;
    `);
  }
}
