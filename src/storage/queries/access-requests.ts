// Emergency settings, break-glass rules and access requests (migration 0013): the break-glass uses
// awaiting review, the elevation requests awaiting approval, and who is to be told about them.
import type { AccessApproval, AccessRequest, BreakGlassRule, EmergencySettings, ReviewOutcome } from '../entities/emergency-access.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';
import { accountMayAct, expired, inEffectNow } from './validity.ts';

// ---- Settings -----------------------------------------------------------------------------------

export async function settings(db: Repos, tenantId: string): Promise<EmergencySettings | undefined> {
  const [found] = await exec<EmergencySettings>(db, `SELECT tenant_id AS "tenantId", max_minutes AS "maxMinutes", webhook_url AS "webhookUrl",
    webhook_secret_sealed AS "webhookSecretSealed", approval_levels AS "approvalLevels" FROM emergency_settings WHERE tenant_id = $1`, [tenantId]);
  return found;
}

export async function saveSettings(db: Repos, s: EmergencySettings): Promise<void> {
  await exec(db, `INSERT INTO emergency_settings (tenant_id, max_minutes, webhook_url, webhook_secret_sealed, approval_levels) VALUES ($1, $2, $3, $4, $5::jsonb)
    ON CONFLICT (tenant_id) DO UPDATE SET max_minutes = EXCLUDED.max_minutes, webhook_url = EXCLUDED.webhook_url,
      webhook_secret_sealed = EXCLUDED.webhook_secret_sealed, approval_levels = EXCLUDED.approval_levels, updated_at = now()`,
  [s.tenantId, s.maxMinutes, s.webhookUrl, s.webhookSecretSealed, JSON.stringify(s.approvalLevels)]);
}

// ---- Break-glass rules -------------------------------------------------------------------------

const RULE = `id, tenant_id AS "tenantId", key, role_id AS "roleId", scope_type AS "scopeType", scope_id AS "scopeId",
  eligible_role_ids AS "eligibleRoleIds", eligible_user_ids AS "eligibleUserIds", minutes, reviewer_role_id AS "reviewerRoleId",
  approvals_required AS "approvalsRequired", approver_user_ids AS "approverUserIds", created_at AS "createdAt"`;

export async function insertRule(db: Repos, r: Omit<BreakGlassRule, 'createdAt'>): Promise<void> {
  await exec(db, `INSERT INTO break_glass_rules (id, tenant_id, key, role_id, scope_type, scope_id, eligible_role_ids, eligible_user_ids, minutes, reviewer_role_id, approvals_required, approver_user_ids)
    VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12::jsonb)`,
  [r.id, r.tenantId, r.key, r.roleId, r.scopeType, r.scopeId, JSON.stringify(r.eligibleRoleIds), JSON.stringify(r.eligibleUserIds), r.minutes, r.reviewerRoleId, r.approvalsRequired, JSON.stringify(r.approverUserIds)]);
}

export async function rules(db: Repos, tenantId: string): Promise<BreakGlassRule[]> {
  return exec<BreakGlassRule>(db, `SELECT ${RULE} FROM break_glass_rules WHERE tenant_id = $1 ORDER BY key`, [tenantId]);
}

export async function rule(db: Repos, tenantId: string, key: string): Promise<BreakGlassRule | undefined> {
  const [found] = await exec<BreakGlassRule>(db, `SELECT ${RULE} FROM break_glass_rules WHERE tenant_id = $1 AND key = $2`, [tenantId, key]);
  return found;
}

export async function deleteRule(db: Repos, tenantId: string, id: string): Promise<void> {
  await exec(db, `DELETE FROM break_glass_rules WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
}

// ---- Access requests ---------------------------------------------------------------------------

const REQUEST = `id, tenant_id AS "tenantId", kind, user_id AS "userId", role_id AS "roleId", scope_type AS "scopeType", scope_id AS "scopeId",
  rule_id AS "ruleId", reviewer_role_id AS "reviewerRoleId", reason, minutes, one_time AS "oneTime", status, decided_by AS "decidedBy",
  decided_at AS "decidedAt", decision_note AS "decisionNote", assignment_id AS "assignmentId", grant_ends_at AS "grantEndsAt",
  consumed_at AS "consumedAt", review_outcome AS "reviewOutcome", reviewed_by AS "reviewedBy", reviewed_at AS "reviewedAt",
  review_note AS "reviewNote", alerted_at AS "alertedAt", pending_until AS "pendingUntil", approval_levels AS "approvalLevels",
  approvals_required AS "approvalsRequired", approver_user_ids AS "approverUserIds", created_at AS "createdAt"`;

const DATES = ['decidedAt', 'grantEndsAt', 'consumedAt', 'reviewedAt', 'alertedAt', 'pendingUntil', 'createdAt'] as const;
const request = (r: AccessRequest): AccessRequest => {
  const out = { ...r };
  for (const k of DATES) if (out[k]) (out as Record<string, unknown>)[k] = new Date(out[k]!);
  return out;
};

export type NewAccessRequest = Pick<AccessRequest, 'id' | 'tenantId' | 'kind' | 'userId' | 'roleId' | 'scopeType' | 'scopeId' | 'ruleId' | 'reviewerRoleId' | 'reason' | 'minutes' | 'oneTime' | 'status' | 'pendingUntil'>
  & Partial<Pick<AccessRequest, 'approvalLevels' | 'approvalsRequired' | 'approverUserIds'>>;

export async function insertRequest(db: Repos, r: NewAccessRequest): Promise<void> {
  await exec(db, `INSERT INTO access_requests (id, tenant_id, kind, user_id, role_id, scope_type, scope_id, rule_id, reviewer_role_id, reason, minutes, one_time, status, pending_until,
      approval_levels, approvals_required, approver_user_ids)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17::jsonb)`,
  [r.id, r.tenantId, r.kind, r.userId, r.roleId, r.scopeType, r.scopeId, r.ruleId, r.reviewerRoleId, r.reason, r.minutes, r.oneTime, r.status, r.pendingUntil,
    JSON.stringify(r.approvalLevels ?? []), r.approvalsRequired ?? 0, JSON.stringify(r.approverUserIds ?? [])]);
}

// ---- Approvals (migration 0017) ----------------------------------------------------------------

/** Records one approval; false when this person already approved the request (the unique index decides a race). */
export async function addApproval(db: Repos, a: Omit<AccessApproval, 'approvedAt'>): Promise<boolean> {
  const rows = await exec(db, `INSERT INTO access_request_approvals (request_id, level, approver_id, note) VALUES ($1, $2, $3, $4)
    ON CONFLICT DO NOTHING RETURNING level`, [a.requestId, a.level, a.approverId, a.note]);
  return rows.length === 1;
}

/** The approvals given to these requests, in level order. */
export async function approvals(db: Repos, requestIds: string[]): Promise<AccessApproval[]> {
  if (!requestIds.length) return [];
  const rows = await exec<AccessApproval>(db, `SELECT request_id AS "requestId", level, approver_id AS "approverId", note, approved_at AS "approvedAt"
    FROM access_request_approvals WHERE request_id = ANY($1::uuid[]) ORDER BY request_id, level`, [requestIds]);
  return rows.map((r) => ({ ...r, approvedAt: new Date(r.approvedAt) }));
}

/** One request, locked for the decision being taken on it (FOR UPDATE: two approvers cannot both decide). */
export async function findForUpdate(db: Repos, tenantId: string, id: string): Promise<AccessRequest | undefined> {
  const [found] = await exec<AccessRequest>(db, `SELECT ${REQUEST} FROM access_requests WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
  return found && request(found);
}

export async function find(db: Repos, tenantId: string, id: string): Promise<AccessRequest | undefined> {
  const [found] = await exec<AccessRequest>(db, `SELECT ${REQUEST} FROM access_requests WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return found && request(found);
}

export interface RequestFilter {
  kind?: AccessRequest['kind'];
  status?: AccessRequest['status'];
  userId?: string;
  /** Break-glass uses nobody has reviewed yet. */
  unreviewed?: boolean;
  limit?: number;
}

export async function list(db: Repos, tenantId: string, f: RequestFilter = {}): Promise<AccessRequest[]> {
  const rows = await exec<AccessRequest>(db, `SELECT ${REQUEST} FROM access_requests WHERE tenant_id = $1
    AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR user_id = $4)
    AND (NOT $5 OR (kind = 'break-glass' AND status = 'granted' AND review_outcome IS NULL))
    ORDER BY created_at DESC, id LIMIT $6`, [tenantId, f.kind ?? null, f.status ?? null, f.userId ?? null, f.unreviewed ?? false, f.limit ?? 200]);
  return rows.map(request);
}

/** Records the decision on a pending request (granted with its assignment, or rejected). */
export async function decide(db: Repos, id: string, d: { status: 'granted' | 'rejected'; decidedBy: string | null; note: string | null; assignmentId?: string; grantEndsAt?: Date }): Promise<void> {
  await exec(db, `UPDATE access_requests SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4, assignment_id = $5, grant_ends_at = $6 WHERE id = $1`,
    [id, d.status, d.decidedBy, d.note, d.assignmentId ?? null, d.grantEndsAt ?? null]);
}

export async function review(db: Repos, id: string, r: { outcome: ReviewOutcome; reviewedBy: string; note: string }): Promise<void> {
  await exec(db, `UPDATE access_requests SET review_outcome = $2, reviewed_by = $3, reviewed_at = now(), review_note = $4 WHERE id = $1`, [id, r.outcome, r.reviewedBy, r.note]);
}

export async function markAlerted(db: Repos, ids: string[]): Promise<void> {
  if (ids.length) await exec(db, `UPDATE access_requests SET alerted_at = now() WHERE id = ANY($1::uuid[])`, [ids]);
}

/** Unreviewed break-glass uses (granted ones: a use that waited and lapsed needs no review) last alerted before `before` (every tenant): the daily reminder's work. */
export async function dueForReminder(db: Repos, before: Date): Promise<AccessRequest[]> {
  const rows = await exec<AccessRequest>(db, `SELECT ${REQUEST} FROM access_requests
    WHERE kind = 'break-glass' AND status = 'granted' AND review_outcome IS NULL AND (alerted_at IS NULL OR alerted_at < $1) ORDER BY tenant_id, created_at`, [before]);
  return rows.map(request);
}

/** Marks pending requests whose time to be decided has passed as expired; returns them. */
export async function expirePending(db: Repos): Promise<AccessRequest[]> {
  const rows = await exec<{ id: string }>(db, `UPDATE access_requests SET status = 'expired', decided_at = now()
    WHERE status = 'pending' AND ${expired('pending_until')} RETURNING id`);
  if (!rows.length) return [];
  const found = await exec<AccessRequest>(db, `SELECT ${REQUEST} FROM access_requests WHERE id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
  return found.map(request);
}

/**
 * Consumes a one-time grant: removes its assignment and stamps the request, once — the request
 * only for the caller that did it. The conditional UPDATE takes the row lock, so a second token
 * racing the first (on this node or another) waits, then finds consumed_at set and gets nothing.
 */
export async function consumeOneTime(db: Repos, assignmentId: string): Promise<AccessRequest | undefined> {
  const [stamped] = await exec<AccessRequest>(db, `UPDATE access_requests SET consumed_at = now()
    WHERE assignment_id = $1 AND one_time AND consumed_at IS NULL RETURNING ${REQUEST}`, [assignmentId]);
  if (!stamped) return undefined;
  await exec(db, `DELETE FROM assignments WHERE id = $1`, [assignmentId]);
  return request(stamped);
}

/** What the claims need to know of break-glass and one-time grants among `assignmentIds`. */
export async function grantMarks(db: Repos, assignmentIds: string[]): Promise<Array<{ assignmentId: string; kind: AccessRequest['kind']; reason: string; oneTime: boolean }>> {
  if (!assignmentIds.length) return [];
  return exec(db, `SELECT assignment_id AS "assignmentId", kind, reason, one_time AS "oneTime" FROM access_requests WHERE assignment_id = ANY($1::uuid[])`, [assignmentIds]);
}

/**
 * The users with an email who hold `roleId` now (directly or through a team, at any scope), and
 * `alsoUserIds`: the people an emergency use or an elevation request is told to.
 */
export async function holdersWithEmail(db: Repos, tenantId: string, roleIds: string[], alsoUserIds: string[] = []): Promise<Array<{ id: string; email: string; username: string }>> {
  return exec(db, `SELECT DISTINCT u.id, u.email, u.username FROM users u
    WHERE u.tenant_id = $1 AND ${accountMayAct('u')} AND u.email IS NOT NULL AND (u.id = ANY($3::uuid[]) OR EXISTS (
      SELECT 1 FROM assignments a LEFT JOIN team_members m ON m.team_id = a.team_id
      WHERE a.tenant_id = $1 AND a.role_id = ANY($2::uuid[]) AND (a.user_id = u.id OR m.user_id = u.id) AND ${inEffectNow('a')}))
    ORDER BY u.username`, [tenantId, roleIds, alsoUserIds]);
}
