// Network rules (issue 18): the address ranges a tenant (role_id NULL) or a role may be used from,
// and the places each person has signed in from — device cookies (hashed) and address
// neighbourhoods — so a sign-in from a new one can be told to them. Bounded per person by the writer.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class NetworkRules1765400000000 implements MigrationInterface {
  name = 'NetworkRules1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE network_rules (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        role_id uuid REFERENCES roles(id) ON DELETE CASCADE,
        ranges jsonb NOT NULL,
        description text,
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX network_rules_tenant_wide ON network_rules (tenant_id) WHERE role_id IS NULL;
      CREATE UNIQUE INDEX network_rules_role ON network_rules (tenant_id, role_id) WHERE role_id IS NOT NULL;
      CREATE TABLE sign_in_places (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('device', 'range')),
        value text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, kind, value)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sign_in_places; DROP TABLE network_rules;');
  }
}
