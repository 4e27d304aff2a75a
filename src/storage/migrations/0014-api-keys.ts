// API keys of service accounts (issue 18): a key names its service account, the human owner
// responsible for it, the permissions it carries (a subset of its account's), its own rate limit and
// an end that is always set. Only an HMAC of the secret is kept. Use counts per key and day are
// flushed here from the ephemeral store; last_used_at is written at most once a minute per key.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ApiKeys1765300000000 implements MigrationInterface {
  name = 'ApiKeys1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        service_user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        owner_id uuid REFERENCES users(id) ON DELETE SET NULL,
        name text NOT NULL,
        secret_hash text NOT NULL,
        permissions jsonb NOT NULL,
        rate_limit_per_minute integer NOT NULL CHECK (rate_limit_per_minute > 0),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        replaced_by uuid REFERENCES api_keys(id) ON DELETE SET NULL,
        last_used_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX api_keys_account ON api_keys (tenant_id, service_user_id);
      CREATE INDEX api_keys_owner ON api_keys (owner_id) WHERE owner_id IS NOT NULL;
      CREATE TABLE api_key_usage (
        key_id uuid NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
        day date NOT NULL,
        uses bigint NOT NULL,
        PRIMARY KEY (key_id, day)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE api_key_usage; DROP TABLE api_keys;');
  }
}
