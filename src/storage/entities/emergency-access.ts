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
  /** Ordered approval levels for elevation requests; empty: one approval, as by default. */
  approvalLevels: ApprovalLevel[];
}

/** One level of an elevation approval chain: holders of a role at the request's scope, or the requester's manager. */
export type ApprovalLevel = { roleId: string } | { manager: true };

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
  /** How many other people must approve a use before it takes effect (0: granted at once). */
  approvalsRequired: number;
  /** Who may approve a use besides holders of the reviewer role. */
  approverUserIds: string[];
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
  /** The elevation chain the request was made under (empty: a single approval). */
  approvalLevels: ApprovalLevel[];
  /** A break-glass use waiting for this many approvals (0: granted at once). */
  approvalsRequired: number;
  /** A break-glass use's named approvers, copied from its rule. */
  approverUserIds: string[];
  createdAt: Date;
}

/** One approval given to a request: which level (or, for break-glass, which of the approvals), by whom. */
export interface AccessApproval {
  requestId: string;
  level: number;
  approverId: string;
  note: string | null;
  approvedAt: Date;
}
