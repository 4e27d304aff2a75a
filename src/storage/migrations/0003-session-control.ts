// Session control and account lifetime (issue 3): signing a user out everywhere deletes their
// grants and refresh tokens by account, which without the index scans every token of the tenant;
// an account an admin re-enables after inactivity starts a new inactivity period from then.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionControl1764200000000 implements MigrationInterface {
  name = 'SessionControl1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX oidc_payloads_account ON oidc_payloads (tenant_id, (payload->>'accountId'))`);
    await q.query('ALTER TABLE users ADD COLUMN reenabled_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users DROP COLUMN reenabled_at');
    await q.query('DROP INDEX oidc_payloads_account');
  }
}
