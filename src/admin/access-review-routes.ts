// Access review campaigns (issue 18): managers create, list and close them and download the report;
// reviewers list the items of the users they may manage and certify or revoke each. The service
// bounds everything by the caller's scope, so both permissions may be held at a location.
import { z } from 'zod';
import { campaignInput, reviewDecisionInput, REVIEW_DECIDE, REVIEW_MANAGE, type Accounts } from '../accounts/index.ts';
import { defineRoute, type AdminRoute } from './define-route.ts';

const campaign = z.object({ id: z.uuid() });
const item = z.object({ id: z.uuid(), item: z.uuid() });

export function accessReviewRoutes({ reviews }: Accounts): AdminRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/access-reviews', summary: "Start a review campaign over the tenant, a location or an institution: what each user in scope holds is snapshotted now (needs caregate.reviews:manage at that scope)",
      permission: REVIEW_MANAGE, scoped: true, body: campaignInput, status: 201, handler: (r) => reviews.create(r.tenant, r.body, r.actor),
    }),
    defineRoute({
      method: 'get', path: '/access-reviews', summary: 'Review campaigns the caller runs or reviews in, newest first, with item counts (undecided, unused)',
      permission: REVIEW_DECIDE, scoped: true, handler: (r) => reviews.list(r.tenant, r.actor),
    }),
    defineRoute({
      method: 'get', path: '/access-reviews/{id}/my-items', summary: "The campaign's items the caller may decide: of users they may manage, never their own",
      permission: REVIEW_DECIDE, scoped: true, params: campaign, handler: (r) => reviews.myItems(r.tenant, r.params.id, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/access-reviews/{id}/items/{item}/decision', summary: 'Certify or revoke one item, with an optional note; a revocation ends the access through the ordinary removal (same rights as granting it). Never on one\'s own access',
      permission: REVIEW_DECIDE, scoped: true, params: item, body: reviewDecisionInput, handler: (r) => reviews.decide(r.tenant, r.params.id, r.params.item, r.body, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/access-reviews/{id}/close', summary: 'Close a campaign now: undecided items are revoked or flagged as at its deadline; a recurring campaign starts its next one',
      permission: REVIEW_MANAGE, scoped: true, params: campaign, handler: (r) => reviews.close(r.tenant, r.params.id, r.actor),
    }),
    defineRoute({
      method: 'get', path: '/access-reviews/{id}/report', summary: 'The report for auditors as CSV: item, user, role, scope, origin, last sign-in and use, decision, reviewer, time, note (audited)',
      permission: REVIEW_MANAGE, scoped: true, params: campaign,
      handler: async ({ tenant, params, actor, ctx }) => {
        const out = await reviews.report(tenant, params.id, actor);
        ctx.set('Content-Disposition', `attachment; filename="${out.filename}"`);
        ctx.set('Cache-Control', 'no-store');
        ctx.type = 'text/csv; charset=utf-8; header=present';
        return out.csv;
      },
    }),
  ];
}
