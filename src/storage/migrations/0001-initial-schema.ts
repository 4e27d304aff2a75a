// The first schema. Every later change is a new migration; `synchronize` is never used.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        slug text NOT NULL UNIQUE,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        username text NOT NULL,
        email text,
        phone text,
        display_name text,
        status text NOT NULL CHECK (status IN ('invited','active','disabled','locked','expired')),
        kind text NOT NULL DEFAULT 'human' CHECK (kind IN ('human','service')),
        phi_access boolean NOT NULL DEFAULT false,
        outside_vendor boolean NOT NULL DEFAULT false,
        source text NOT NULL DEFAULT 'local',
        external_id text,
        password_hash text,
        last_login_at timestamptz,
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX users_tenant_username ON users (tenant_id, lower(username));
      CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, lower(email)) WHERE email IS NOT NULL;
      CREATE TABLE locations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        parent_id uuid REFERENCES locations(id) ON DELETE RESTRICT,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, key)
      );
      CREATE TABLE institutions (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, key)
      );
      CREATE TABLE teams (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, key)
      );
      CREATE TABLE team_members (
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        PRIMARY KEY (team_id, user_id)
      );
      CREATE INDEX team_members_user ON team_members (user_id);
      CREATE TABLE roles (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        description text,
        parent_id uuid REFERENCES roles(id) ON DELETE RESTRICT,
        permissions jsonb NOT NULL DEFAULT '[]',
        removed_permissions jsonb NOT NULL DEFAULT '[]',
        requires_phi boolean NOT NULL DEFAULT false,
        builtin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, key)
      );
      CREATE TABLE applications (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        client_id text NOT NULL UNIQUE,
        client_secret_sealed text,
        public boolean NOT NULL,
        require_consent boolean NOT NULL DEFAULT false,
        redirect_uris jsonb NOT NULL DEFAULT '[]',
        post_logout_redirect_uris jsonb NOT NULL DEFAULT '[]',
        grant_types jsonb NOT NULL DEFAULT '[]',
        resource text NOT NULL,
        allowed_resources jsonb NOT NULL DEFAULT '[]',
        admin_api boolean NOT NULL DEFAULT false,
        permissions jsonb NOT NULL DEFAULT '[]',
        id_token_signed_response_alg text,
        backchannel_logout_uri text,
        service_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        builtin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, resource)
      );
      CREATE TABLE assignments (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid REFERENCES users(id) ON DELETE CASCADE,
        team_id uuid REFERENCES teams(id) ON DELETE CASCADE,
        role_id uuid NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        scope_type text NOT NULL CHECK (scope_type IN ('tenant','location','institution','application')),
        scope_id uuid,
        starts_at timestamptz,
        expires_at timestamptz,
        origin text NOT NULL DEFAULT 'manual',
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((user_id IS NULL) <> (team_id IS NULL)),
        CHECK ((scope_type = 'tenant') = (scope_id IS NULL))
      );
      CREATE INDEX assignments_user ON assignments (user_id);
      CREATE INDEX assignments_team ON assignments (team_id);
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        alg text NOT NULL,
        status text NOT NULL CHECK (status IN ('next','current','retired')),
        private_jwk_sealed text NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retire_at timestamptz
      );
      CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id);
      CREATE TABLE oidc_payloads (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        model text NOT NULL,
        id text NOT NULL,
        payload jsonb NOT NULL,
        grant_id text,
        uid text,
        user_code text,
        expires_at timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (tenant_id, model, id)
      );
      CREATE INDEX oidc_payloads_grant ON oidc_payloads (tenant_id, grant_id);
      CREATE INDEX oidc_payloads_expiry ON oidc_payloads (expires_at);
      CREATE TABLE audit_events (
        seq bigserial PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        tenant_id uuid,
        at timestamptz NOT NULL,
        actor_type text NOT NULL,
        actor_id text,
        action text NOT NULL,
        target_type text,
        target_id text,
        outcome text NOT NULL CHECK (outcome IN ('success','failure')),
        ip text,
        user_agent text,
        before jsonb,
        after jsonb,
        details jsonb,
        prev_hash text NOT NULL,
        hash text NOT NULL
      );
      CREATE INDEX audit_events_tenant ON audit_events (tenant_id, seq);
      CREATE TABLE audit_heads (
        chain text PRIMARY KEY,
        hash text NOT NULL
      );
      -- The audit log is append-only: the database itself refuses edits and deletions.
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only';
      END $$;
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE audit_events; DROP FUNCTION audit_events_append_only(); DROP TABLE audit_heads;
      DROP TABLE oidc_payloads; DROP TABLE signing_keys; DROP TABLE assignments; DROP TABLE applications;
      DROP TABLE roles; DROP TABLE team_members; DROP TABLE teams; DROP TABLE institutions;
      DROP TABLE locations; DROP TABLE users; DROP TABLE tenants;
    `);
  }
}
