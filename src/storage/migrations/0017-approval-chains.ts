// Approval chains for elevation and emergency access (issue 18). A tenant may name ordered approval
// levels for elevation requests (each a role at the request's scope, or the requester's manager);
// a break-glass rule may want one or two other people to approve a use before it takes effect
// (holders of its reviewer role, or named approvers). A request keeps the chain it was made under
// and one row per approval given, so who approved which level stays on record; one person appears
// at most once per request (the unique index is the last word when two approvals race).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ApprovalChains1765600000000 implements MigrationInterface {
  name = 'ApprovalChains1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users ADD COLUMN manager_id uuid REFERENCES users(id) ON DELETE SET NULL;
      ALTER TABLE emergency_settings ADD COLUMN approval_levels jsonb NOT NULL DEFAULT '[]';
      ALTER TABLE break_glass_rules
        ADD COLUMN approvals_required integer NOT NULL DEFAULT 0 CHECK (approvals_required BETWEEN 0 AND 2),
        ADD COLUMN approver_user_ids jsonb NOT NULL DEFAULT '[]';
      ALTER TABLE access_requests
        ADD COLUMN approval_levels jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN approvals_required integer NOT NULL DEFAULT 0,
        ADD COLUMN approver_user_ids jsonb NOT NULL DEFAULT '[]';
      CREATE TABLE access_request_approvals (
        request_id uuid NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
        level integer NOT NULL CHECK (level >= 1),
        approver_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        note text,
        approved_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, level),
        UNIQUE (request_id, approver_id)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE access_request_approvals;
      ALTER TABLE access_requests DROP COLUMN approval_levels, DROP COLUMN approvals_required, DROP COLUMN approver_user_ids;
      ALTER TABLE break_glass_rules DROP COLUMN approvals_required, DROP COLUMN approver_user_ids;
      ALTER TABLE emergency_settings DROP COLUMN approval_levels;
      ALTER TABLE users DROP COLUMN manager_id;
    `);
  }
}
