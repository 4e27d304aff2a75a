// Account security (issue 3): tenant security policy, password lifecycle, second factors,
// recovery codes and single-use links (password reset, invitation).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountSecurity1764100000000 implements MigrationInterface {
  name = 'AccountSecurity1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Only the settings a tenant changed; the code holds the defaults.
      ALTER TABLE tenants ADD COLUMN policy jsonb NOT NULL DEFAULT '{}';
      ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
      ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
      ALTER TABLE users ADD COLUMN locked_at timestamptz;
      CREATE TABLE password_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX password_history_user ON password_history (user_id, created_at DESC);
      CREATE TABLE mfa_factors (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        type text NOT NULL CHECK (type IN ('totp','webauthn','email','sms')),
        name text NOT NULL,
        secret_sealed text,
        credential_id text,
        data jsonb NOT NULL DEFAULT '{}',
        confirmed_at timestamptz,
        last_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX mfa_factors_user ON mfa_factors (user_id);
      CREATE UNIQUE INDEX mfa_factors_credential ON mfa_factors (tenant_id, credential_id) WHERE credential_id IS NOT NULL;
      CREATE TABLE recovery_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash text NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, code_hash)
      );
      CREATE TABLE action_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('reset','invite')),
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX action_tokens_user ON action_tokens (user_id, purpose);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE action_tokens; DROP TABLE recovery_codes; DROP TABLE mfa_factors; DROP TABLE password_history;
      ALTER TABLE users DROP COLUMN locked_at; ALTER TABLE users DROP COLUMN password_changed_at;
      ALTER TABLE users DROP COLUMN must_change_password; ALTER TABLE tenants DROP COLUMN policy;
    `);
  }
}
