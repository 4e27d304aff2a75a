// Emergency access (break-glass) and just-in-time elevation (issue 18). A tenant's break-glass
// rules say which role may be taken at which scope, by whom, for how long and who reviews it; its
// emergency settings hold the longest grant and the signed webhook. Every use of a rule and every
// elevation request is an access request: a break-glass use is granted at once and awaits review,
// an elevation waits for an approver. The grant itself is an ordinary assignment (origin
// 'break-glass' or 'elevation', with an end) that the request names.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EmergencyAccess1765200000000 implements MigrationInterface {
  name = 'EmergencyAccess1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE emergency_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        max_minutes integer NOT NULL DEFAULT 240 CHECK (max_minutes BETWEEN 1 AND 10080),
        webhook_url text,
        webhook_secret_sealed text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE break_glass_rules (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL,
        role_id uuid NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        scope_type text NOT NULL,
        scope_id uuid,
        eligible_role_ids jsonb NOT NULL DEFAULT '[]',
        eligible_user_ids jsonb NOT NULL DEFAULT '[]',
        minutes integer NOT NULL DEFAULT 60 CHECK (minutes > 0),
        reviewer_role_id uuid NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, key)
      );
      CREATE TABLE access_requests (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('break-glass', 'elevation')),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role_id uuid NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        scope_type text NOT NULL,
        scope_id uuid,
        rule_id uuid REFERENCES break_glass_rules(id) ON DELETE SET NULL,
        reviewer_role_id uuid REFERENCES roles(id) ON DELETE SET NULL,
        reason text NOT NULL CHECK (length(btrim(reason)) > 0),
        minutes integer NOT NULL CHECK (minutes > 0),
        one_time boolean NOT NULL DEFAULT false,
        status text NOT NULL CHECK (status IN ('pending', 'granted', 'rejected', 'expired')),
        decided_by uuid REFERENCES users(id) ON DELETE SET NULL,
        decided_at timestamptz,
        decision_note text,
        assignment_id uuid REFERENCES assignments(id) ON DELETE SET NULL,
        grant_ends_at timestamptz,
        consumed_at timestamptz,
        review_outcome text CHECK (review_outcome IN ('justified', 'not_justified')),
        reviewed_by uuid REFERENCES users(id) ON DELETE SET NULL,
        reviewed_at timestamptz,
        review_note text,
        alerted_at timestamptz,
        pending_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX access_requests_status ON access_requests (tenant_id, status, created_at);
      CREATE INDEX access_requests_unreviewed ON access_requests (tenant_id, created_at) WHERE kind = 'break-glass' AND review_outcome IS NULL;
      CREATE INDEX access_requests_assignment ON access_requests (assignment_id) WHERE assignment_id IS NOT NULL;
      CREATE INDEX access_requests_user ON access_requests (user_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE access_requests; DROP TABLE break_glass_rules; DROP TABLE emergency_settings;`);
  }
}
