// Access review campaigns and their items, as stored (migration 0016). Read and written through
// storage/queries/access-reviews.ts.

export type ReviewDecision = 'certified' | 'revoked' | 'flagged';

export interface ReviewCampaign {
  id: string;
  tenantId: string;
  name: string;
  scopeType: 'tenant' | 'location' | 'institution';
  scopeId: string | null;
  deadline: Date;
  /** What happens at the deadline to what nobody decided. */
  onDeadline: 'revoke' | 'flag';
  /** The next campaign starts this many months after this one's deadline, when it closes; null: once. */
  recurrenceMonths: number | null;
  /** Items of users not signed in (keys not used) for this many days are marked unused. */
  unusedDays: number;
  /** Reviewers with undecided items are reminded (at most daily) from this many days before the deadline. */
  remindDays: number;
  status: 'open' | 'closed';
  /** Who created it, as "<actor type>:<id>". */
  createdBy: string;
  createdAt: Date;
  closedAt: Date | null;
  nextCampaignId: string | null;
}

export interface ReviewItem {
  id: string;
  campaignId: string;
  /** The reviewed user (null once deleted); username keeps the name for the report. */
  userId: string | null;
  username: string;
  /** An assignment (the user's own, a delegation, or one their team holds) or an API key they own. */
  kind: 'assignment' | 'api_key';
  /** The assignment's or the key's id. */
  subjectId: string;
  role: string;
  scope: string;
  /** direct, team:<key>, delegation, break-glass, … (assignments); api_key:<account> (keys). */
  origin: string;
  /** The team through which the user holds the assignment; revoking takes the user out of it. */
  teamId: string | null;
  lastSignInAt: Date | null;
  lastUsedAt: Date | null;
  /** An API key's uses over the 30 days before the campaign; null for assignments. */
  uses30Days: number | null;
  unused: boolean;
  decision: ReviewDecision | null;
  /** Who decided, as "<actor type>:<id>" (system:access-review at the deadline). */
  decidedBy: string | null;
  decidedAt: Date | null;
  note: string | null;
}
