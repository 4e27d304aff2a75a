// What an access review campaign is made of, and the permissions behind it: reviewers hold
// caregate.reviews:decide where their users are; campaigns are run by holders of
// caregate.reviews:manage at (or above) the campaign's scope.
import { z } from 'zod';
import { AdminRefusalError } from '../errors.ts';
import { keySchema } from './schemas.ts';

export const REVIEW_DECIDE = 'caregate.reviews:decide';
export const REVIEW_MANAGE = 'caregate.reviews:manage';
/** The actor of what the deadline job does. */
export const REVIEW_SYSTEM = { type: 'system' as const, id: 'access-review' };

/** A reviewer deciding on their own access. */
export class SelfReviewError extends AdminRefusalError {
  override readonly code = 'self_review_refused';
}

const future = z.coerce.date().refine((d) => d.getTime() > Date.now(), 'must be in the future');

export const campaignInput = z.strictObject({
  name: z.string().min(1).max(200).describe('What auditors will read ("Q3 2025 review, Northside clinic")'),
  scope: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('tenant') }),
    z.strictObject({ type: z.literal('location'), key: keySchema }),
    z.strictObject({ type: z.literal('institution'), key: keySchema }),
  ]).describe('Whose access is reviewed: everyone, or the users with a role at a location (or below it) or an institution'),
  deadline: future.describe('When undecided items are revoked or flagged'),
  onDeadline: z.enum(['revoke', 'flag']).default('flag').describe('What happens to undecided items at the deadline'),
  recurrenceMonths: z.int().min(1).max(24).optional().describe('Start the next campaign when this one closes, its deadline this many months later (3: quarterly)'),
  unusedDays: z.int().min(1).max(3650).default(90).describe('Highlight users not signed in (keys not used) for this many days'),
  remindDays: z.int().min(0).max(90).default(7).describe('Remind reviewers with undecided items daily from this many days before the deadline'),
});
export type CampaignInput = z.input<typeof campaignInput>;

export const reviewDecisionInput = z.strictObject({
  decision: z.enum(['certify', 'revoke']).describe('certify: the access stays; revoke: it ends now, through the ordinary removal (same rights needed as to grant it)'),
  note: z.string().max(2000).optional(),
});
export type ReviewDecisionInput = z.input<typeof reviewDecisionInput>;
