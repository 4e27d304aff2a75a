// Access review campaigns and items (migration 0016).
import type { ReviewCampaign, ReviewDecision, ReviewItem } from '../entities/access-review.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

const CAMPAIGN = `id, tenant_id AS "tenantId", name, scope_type AS "scopeType", scope_id AS "scopeId", deadline, on_deadline AS "onDeadline",
  recurrence_months AS "recurrenceMonths", unused_days AS "unusedDays", remind_days AS "remindDays", status, created_by AS "createdBy",
  created_at AS "createdAt", closed_at AS "closedAt", next_campaign_id AS "nextCampaignId"`;
const ITEM = `id, campaign_id AS "campaignId", user_id AS "userId", username, kind, subject_id AS "subjectId", role, scope, origin, team_id AS "teamId",
  last_sign_in_at AS "lastSignInAt", last_used_at AS "lastUsedAt", uses_30_days AS "uses30Days", unused, decision, decided_by AS "decidedBy", decided_at AS "decidedAt", note`;

const date = (d: Date | string | null) => (d === null ? null : new Date(d));
const campaignRow = (r: ReviewCampaign): ReviewCampaign => ({ ...r, deadline: new Date(r.deadline), createdAt: new Date(r.createdAt), closedAt: date(r.closedAt) });
const itemRow = (r: ReviewItem): ReviewItem => ({ ...r, lastSignInAt: date(r.lastSignInAt), lastUsedAt: date(r.lastUsedAt), decidedAt: date(r.decidedAt) });

export type NewCampaign = Omit<ReviewCampaign, 'status' | 'createdAt' | 'closedAt' | 'nextCampaignId'>;
export type NewItem = Omit<ReviewItem, 'decision' | 'decidedBy' | 'decidedAt' | 'note'>;

export async function insertCampaign(db: Repos, c: NewCampaign): Promise<void> {
  await exec(db, `INSERT INTO access_review_campaigns (id, tenant_id, name, scope_type, scope_id, deadline, on_deadline, recurrence_months, unused_days, remind_days, created_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
  [c.id, c.tenantId, c.name, c.scopeType, c.scopeId, c.deadline, c.onDeadline, c.recurrenceMonths, c.unusedDays, c.remindDays, c.createdBy]);
}

/** Inserts the items of a new campaign, 500 rows a statement. */
export async function insertItems(db: Repos, items: NewItem[]): Promise<void> {
  const cols = 14;
  for (let i = 0; i < items.length; i += 500) {
    const batch = items.slice(i, i + 500);
    const values = batch.map((_, j) => `(${Array.from({ length: cols }, (__, k) => `$${j * cols + k + 1}`).join(', ')})`).join(', ');
    await exec(db, `INSERT INTO access_review_items (id, campaign_id, user_id, username, kind, subject_id, role, scope, origin, team_id, last_sign_in_at, last_used_at, uses_30_days, unused) VALUES ${values}`,
      batch.flatMap((t) => [t.id, t.campaignId, t.userId, t.username, t.kind, t.subjectId, t.role, t.scope, t.origin, t.teamId, t.lastSignInAt, t.lastUsedAt, t.uses30Days, t.unused]));
  }
}

export async function findCampaign(db: Repos, tenantId: string, id: string): Promise<ReviewCampaign | undefined> {
  const [found] = await exec<ReviewCampaign>(db, `SELECT ${CAMPAIGN} FROM access_review_campaigns WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return found && campaignRow(found);
}

/** A tenant's campaigns, newest first. */
export async function listCampaigns(db: Repos, tenantId: string): Promise<ReviewCampaign[]> {
  return (await exec<ReviewCampaign>(db, `SELECT ${CAMPAIGN} FROM access_review_campaigns WHERE tenant_id = $1 ORDER BY created_at DESC, id`, [tenantId])).map(campaignRow);
}

/** Open campaigns of every tenant whose deadline is before `before` (the deadline job's and the reminders' work list). */
export async function openCampaigns(db: Repos, before: Date): Promise<ReviewCampaign[]> {
  return (await exec<ReviewCampaign>(db, `SELECT ${CAMPAIGN} FROM access_review_campaigns WHERE status = 'open' AND deadline <= $1 ORDER BY deadline, id`, [before])).map(campaignRow);
}

/** Closes an open campaign; false when it was closed already (another node, another admin). */
export async function closeCampaign(db: Repos, id: string, at: Date): Promise<boolean> {
  return (await exec(db, `UPDATE access_review_campaigns SET status = 'closed', closed_at = $2 WHERE id = $1 AND status = 'open' RETURNING id`, [id, at])).length > 0;
}

export async function setNextCampaign(db: Repos, id: string, nextId: string): Promise<void> {
  await exec(db, `UPDATE access_review_campaigns SET next_campaign_id = $2 WHERE id = $1`, [id, nextId]);
}

/** A campaign's items, by user then role; only undecided ones with `undecided`. */
export async function items(db: Repos, campaignId: string, undecided = false): Promise<ReviewItem[]> {
  return (await exec<ReviewItem>(db, `SELECT ${ITEM} FROM access_review_items WHERE campaign_id = $1 AND ($2::boolean IS FALSE OR decision IS NULL) ORDER BY username, role, scope, id`, [campaignId, undecided])).map(itemRow);
}

export async function findItem(db: Repos, campaignId: string, id: string): Promise<ReviewItem | undefined> {
  const [found] = await exec<ReviewItem>(db, `SELECT ${ITEM} FROM access_review_items WHERE campaign_id = $1 AND id = $2`, [campaignId, id]);
  return found && itemRow(found);
}

/** Records a decision on an undecided item; false when someone decided first. */
export async function decide(db: Repos, id: string, d: { decision: ReviewDecision; decidedBy: string; decidedAt: Date; note: string | null }): Promise<boolean> {
  return (await exec(db, `UPDATE access_review_items SET decision = $2, decided_by = $3, decided_at = $4, note = $5 WHERE id = $1 AND decision IS NULL RETURNING id`,
    [id, d.decision, d.decidedBy, d.decidedAt, d.note])).length > 0;
}
