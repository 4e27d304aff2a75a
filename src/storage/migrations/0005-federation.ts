// Federation and directory sources share what they leave behind: identity links (which upstream
// subject is which user), and a mark on every role assignment and team membership a mapping rule
// made, so the next sign-in or sync can replace exactly those and never touch manual ones.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Federation1764400000000 implements MigrationInterface {
  name = 'Federation1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connections (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        type text NOT NULL,
        preset text NOT NULL,
        settings jsonb NOT NULL,
        -- client secret, private keys: sealed with the master key, never returned
        secrets_sealed text,
        domains jsonb NOT NULL DEFAULT '[]',
        mappings jsonb NOT NULL DEFAULT '[]',
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX connections_tenant_key ON connections (tenant_id, key);

      CREATE TABLE user_identities (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        upstream text NOT NULL,
        subject text NOT NULL,
        email text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz
      );
      -- One user per upstream subject; concurrent first sign-ins race on this index, not on users.
      CREATE UNIQUE INDEX user_identities_subject ON user_identities (tenant_id, upstream, subject);
      CREATE INDEX user_identities_user ON user_identities (user_id);

      -- 'federation:<connection>' or 'ldap:<source>' on what a mapping rule granted; NULL = manual.
      ALTER TABLE assignments ADD COLUMN upstream text;
      ALTER TABLE team_members ADD COLUMN upstream text;
      CREATE INDEX assignments_upstream ON assignments (user_id, upstream) WHERE upstream IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX assignments_upstream;
      ALTER TABLE team_members DROP COLUMN upstream;
      ALTER TABLE assignments DROP COLUMN upstream;
      DROP TABLE user_identities;
      DROP TABLE connections;
    `);
  }
}
