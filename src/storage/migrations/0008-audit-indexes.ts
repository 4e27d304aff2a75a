// Indexes for the audit log's filters, so that searching a large log for one user, one actor or
// one address, or a time range, reads those events rather than the tenant's whole log. Each ends in
// seq where the search is paged by seq. No index on action: its usual prefixes (login.) match most
// of a log. Built inside the migration's transaction, which holds audit appends on a big table
// while it runs: migrate a large production log in a quiet hour.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditIndexes1764700000000 implements MigrationInterface {
  name = 'AuditIndexes1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX audit_events_tenant_target ON audit_events (tenant_id, target_id, seq);
      CREATE INDEX audit_events_tenant_actor ON audit_events (tenant_id, actor_id, seq);
      CREATE INDEX audit_events_tenant_ip ON audit_events (tenant_id, ip, seq);
      CREATE INDEX audit_events_tenant_at ON audit_events (tenant_id, at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX audit_events_tenant_at; DROP INDEX audit_events_tenant_ip;
      DROP INDEX audit_events_tenant_actor; DROP INDEX audit_events_tenant_target;
    `);
  }
}
