// Access reviews (issue 18): a campaign over a tenant, a location or an institution snapshots what
// each user in scope holds (assignments direct and through teams, delegations, API keys they own)
// with last sign-in and last use; reviewers certify or revoke each item before the deadline, when
// what is left is revoked or flagged as the campaign says. Items keep copies of names (role, scope,
// team) so the campaign's report still reads after the thing reviewed is gone.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AccessReviews1765500000000 implements MigrationInterface {
  name = 'AccessReviews1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE access_review_campaigns (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        scope_type text NOT NULL CHECK (scope_type IN ('tenant', 'location', 'institution')),
        scope_id uuid,
        deadline timestamptz NOT NULL,
        on_deadline text NOT NULL CHECK (on_deadline IN ('revoke', 'flag')),
        recurrence_months integer CHECK (recurrence_months > 0),
        unused_days integer NOT NULL CHECK (unused_days > 0),
        remind_days integer NOT NULL CHECK (remind_days >= 0),
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        next_campaign_id uuid REFERENCES access_review_campaigns(id) ON DELETE SET NULL
      );
      CREATE INDEX access_review_campaigns_open ON access_review_campaigns (deadline) WHERE status = 'open';
      CREATE INDEX access_review_campaigns_tenant ON access_review_campaigns (tenant_id, created_at);
      CREATE TABLE access_review_items (
        id uuid PRIMARY KEY,
        campaign_id uuid NOT NULL REFERENCES access_review_campaigns(id) ON DELETE CASCADE,
        user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        username text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('assignment', 'api_key')),
        subject_id uuid NOT NULL,
        role text NOT NULL,
        scope text NOT NULL,
        origin text NOT NULL,
        team_id uuid,
        last_sign_in_at timestamptz,
        last_used_at timestamptz,
        uses_30_days integer,
        unused boolean NOT NULL,
        decision text CHECK (decision IN ('certified', 'revoked', 'flagged')),
        decided_by text,
        decided_at timestamptz,
        note text
      );
      CREATE INDEX access_review_items_campaign ON access_review_items (campaign_id, user_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access_review_items; DROP TABLE access_review_campaigns;');
  }
}
