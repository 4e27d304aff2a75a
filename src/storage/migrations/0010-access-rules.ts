// Per-user permission overrides (seed 002: a report ticked for one person) and derived roles
// (seed 002: the default analytics role follows an EMR permission), both evaluated at token time.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AccessRules1764900000000 implements MigrationInterface {
  name = 'AccessRules1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE permission_overrides (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        permission text NOT NULL,
        effect text NOT NULL CHECK (effect IN ('grant', 'deny')),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX permission_overrides_one ON permission_overrides (user_id, application_id, permission);
      CREATE TABLE derived_roles (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        source_role_id uuid REFERENCES roles(id) ON DELETE CASCADE,
        source_permission text,
        target_role_id uuid NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((source_role_id IS NULL) <> (source_permission IS NULL))
      );
      CREATE INDEX derived_roles_tenant ON derived_roles (tenant_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE derived_roles; DROP TABLE permission_overrides;');
  }
}
