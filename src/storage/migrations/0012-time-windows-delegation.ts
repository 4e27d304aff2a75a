// Time windows, delegation and conditional permissions (issue 18): an assignment may carry a weekly
// window read in the tenant's time zone; a delegation is an assignment of origin 'delegation' that
// names its delegator and the delegator's assignment it passes on (ending with it), optionally
// only some of its permissions; a role's permissions may carry constraints ({"maxAmount": 500}).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TimeWindowsDelegation1765100000000 implements MigrationInterface {
  name = 'TimeWindowsDelegation1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE assignments
        ADD COLUMN time_window jsonb,
        ADD COLUMN delegated_by uuid REFERENCES users(id) ON DELETE CASCADE,
        ADD COLUMN source_assignment_id uuid REFERENCES assignments(id) ON DELETE CASCADE,
        ADD COLUMN permissions jsonb,
        ADD CONSTRAINT assignments_delegation_check CHECK (
          (origin = 'delegation') = (delegated_by IS NOT NULL AND source_assignment_id IS NOT NULL)
        );
      CREATE INDEX assignments_source ON assignments (source_assignment_id) WHERE source_assignment_id IS NOT NULL;
      CREATE INDEX assignments_delegated_by ON assignments (delegated_by) WHERE delegated_by IS NOT NULL;
      ALTER TABLE roles ADD COLUMN permission_constraints jsonb NOT NULL DEFAULT '{}';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE roles DROP COLUMN permission_constraints;
      DROP INDEX assignments_delegated_by; DROP INDEX assignments_source;
      ALTER TABLE assignments DROP CONSTRAINT assignments_delegation_check,
        DROP COLUMN permissions, DROP COLUMN source_assignment_id, DROP COLUMN delegated_by, DROP COLUMN time_window;
    `);
  }
}
