// Tenant ownership (one owner, any number of backup owners) as a mark on users, and the profile
// fields administrators edit: given and family name, a user type from the tenant's list, and the
// tenant's declared custom attributes. Each existing tenant's owner becomes its earliest person
// holding the admin role tenant-wide (the bootstrap administrator, where there is one).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Ownership1764600000000 implements MigrationInterface {
  name = 'Ownership1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users ADD COLUMN ownership text CHECK (ownership IN ('owner', 'backup'));
      CREATE UNIQUE INDEX users_one_owner ON users (tenant_id) WHERE ownership = 'owner';
      ALTER TABLE users ADD COLUMN given_name text, ADD COLUMN family_name text, ADD COLUMN user_type text,
        ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';
      ALTER TABLE tenants ADD COLUMN user_profile jsonb NOT NULL DEFAULT '{}';
      UPDATE users SET ownership = 'owner' WHERE id IN (
        SELECT DISTINCT ON (u.tenant_id) u.id FROM users u
          JOIN assignments a ON a.user_id = u.id AND a.scope_type = 'tenant'
          JOIN roles r ON r.id = a.role_id AND r.key = 'admin'
         WHERE u.kind = 'human'
         ORDER BY u.tenant_id, (u.status = 'active') DESC, u.created_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenants DROP COLUMN user_profile;
      ALTER TABLE users DROP COLUMN attributes, DROP COLUMN user_type, DROP COLUMN family_name, DROP COLUMN given_name;
      DROP INDEX users_one_owner;
      ALTER TABLE users DROP COLUMN ownership;
    `);
  }
}
