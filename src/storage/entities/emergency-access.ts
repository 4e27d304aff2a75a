// Break-glass rules, a tenant's emergency settings and access requests, as stored (migration 0013).
// Read and written through storage/queries/access-requests.ts.
import type { ScopeType } from './assignment.ts';

export interface EmergencySettings {
  tenantId: string;
  /** The longest a break-glass or elevation grant may last, in minutes. */
  maxMinutes: number;
  /** Where each emergency use is also posted, signed with the sealed secret; null: no webhook. */
  webhookUrl: string | null;
  webhookSecretSealed: string | null;
}

/** Which role may be taken in an emergency, where, by whom, for how long, and who reviews each use. */
export interface BreakGlassRule {
  id: string;
  tenantId: string;
  key: string;
  roleId: string;
  scopeType: ScopeType;
  scopeId: string | null;
  /** Holders of any of these roles (anywhere, in effect) may invoke it … */
  eligibleRoleIds: string[];
  /** … and so may these users. */
  eligibleUserIds: string[];
  minutes: number;
  reviewerRoleId: string;
  createdAt: Date;
}

export type AccessRequestKind = 'break-glass' | 'elevation';
export type AccessRequestStatus = 'pending' | 'granted' | 'rejected' | 'expired';
export type ReviewOutcome = 'justified' | 'not_justified';

/** A break-glass use (granted at once, reviewed afterwards) or an elevation request (approved first). */
export interface AccessRequest {
  id: string;
  tenantId: string;
  kind: AccessRequestKind;
  userId: string;
  roleId: string;
  scopeType: ScopeType;
  scopeId: string | null;
  ruleId: string | null;
  reviewerRoleId: string | null;
  reason: string;
  minutes: number;
  /** Consumed by the first token issued with it. */
  oneTime: boolean;
  status: AccessRequestStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionNote: string | null;
  assignmentId: string | null;
  grantEndsAt: Date | null;
  consumedAt: Date | null;
  reviewOutcome: ReviewOutcome | null;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  reviewNote: string | null;
  alertedAt: Date | null;
  /** A pending elevation request lapses (expired) at this time. */
  pendingUntil: Date | null;
  createdAt: Date;
}
