// Session control (issue 3): signing a user out everywhere deletes their grants and refresh tokens
// by account, which without this index scans every token of the tenant.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionControl1764200000000 implements MigrationInterface {
  name = 'SessionControl1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX oidc_payloads_account ON oidc_payloads (tenant_id, (payload->>'accountId'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX oidc_payloads_account');
  }
}
