// The clock of access reviews: reviewers with undecided items are mailed from the campaign's
// remindDays before its deadline, at most once a day per reviewer and campaign (deduplicated in the
// shared ephemeral store, so several nodes send one mail); at the deadline, what is undecided is
// revoked or flagged and the campaign closes (audited with the system actor). Both take a clock, so
// a test runs them at any moment without waiting.
import type { AuditWriter } from '../audit/index.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { Sender } from '../notify/index.ts';
import { queries, type ReviewCampaign, type Storage, type Tenant } from '../storage/index.ts';
import { loadAuthority } from './admin-authority.ts';
import { REVIEW_DECIDE, REVIEW_SYSTEM } from './access-review-rules.ts';
import type { AccessReviews } from './access-review-service.ts';
import { canSignIn } from './can-sign-in.ts';

const DAY_MS = 86_400_000;

export interface ReviewJobDeps {
  storage: Storage;
  audit: AuditWriter;
  ephemeral: EphemeralStore;
  sender: Sender;
  reviews: AccessReviews;
  baseUrl: string;
  onError(error: Error, what: string): void;
}

/** Closes every open campaign whose deadline has passed at `now`; returns what each close did. */
export async function closeDueCampaigns(deps: Pick<ReviewJobDeps, 'storage' | 'reviews'>, now = new Date()) {
  const out = [];
  for (const campaign of await queries.accessReviews.openCampaigns(deps.storage, now)) {
    const tenant = await deps.storage.tenants.findOneBy({ id: campaign.tenantId });
    if (tenant) out.push(await deps.reviews.closeCampaign(tenant, campaign, REVIEW_SYSTEM, now));
  }
  return out;
}

/** The tenant's people who hold caregate.reviews:decide somewhere, can sign in and have an email. */
async function reviewersOf(deps: Pick<ReviewJobDeps, 'storage'>, tenant: Tenant) {
  const out = [];
  for (const user of await deps.storage.users.findBy({ tenantId: tenant.id, kind: 'human', status: 'active' })) {
    if (!user.email || !canSignIn(user)) continue;
    const authority = await loadAuthority(deps.storage, tenant, { type: 'user', id: user.id });
    if (authority.reach(REVIEW_DECIDE).length) out.push({ user, authority });
  }
  return out;
}

/** Mails each reviewer with undecided items in a campaign within its reminder period; returns who was mailed. */
export async function remindReviewers(deps: ReviewJobDeps, now = new Date()) {
  const sent: Array<{ campaignId: string; reviewer: string; items: number }> = [];
  const due = (await queries.accessReviews.openCampaigns(deps.storage, new Date(now.getTime() + 90 * DAY_MS)))
    .filter((c) => c.deadline > now && c.deadline.getTime() - c.remindDays * DAY_MS <= now.getTime());
  for (const campaign of due) {
    const tenant = await deps.storage.tenants.findOneBy({ id: campaign.tenantId });
    if (!tenant) continue;
    const undecided = await queries.accessReviews.items(deps.storage, campaign.id, true);
    if (!undecided.length) continue;
    for (const { user, authority } of await reviewersOf(deps, tenant)) {
      const visible = await authority.visibleUsers(REVIEW_DECIDE);
      const theirs = undecided.filter((i) => i.userId && i.userId !== user.id && (!visible || visible.includes(i.userId)));
      if (!theirs.length) continue;
      if (!(await deps.ephemeral.setIfAbsent(`reviews:remind:${campaign.id}:${user.id}`, String(now.getTime()), DAY_MS / 1000))) continue;
      await mailReminder(deps, tenant, campaign, user.email!, theirs.length).then(
        () => sent.push({ campaignId: campaign.id, reviewer: user.username, items: theirs.length }),
        (error: Error) => deps.onError(error, 'access review reminder'),
      );
    }
  }
  return sent;
}

function mailReminder(deps: ReviewJobDeps, tenant: Tenant, campaign: ReviewCampaign, to: string, count: number) {
  const text = [
    `The access review "${campaign.name}" in ${tenant.name} ends on ${campaign.deadline.toISOString()}.`,
    '',
    `${count} item${count === 1 ? '' : 's'} of people you review ${count === 1 ? 'is' : 'are'} still undecided.`,
    `At the deadline, undecided items are ${campaign.onDeadline === 'revoke' ? 'revoked' : 'flagged for the auditors'}.`,
    '',
    `Admin API: GET ${deps.baseUrl}/admin/api/v1/t/${tenant.slug}/access-reviews/${campaign.id}/my-items`,
  ].join('\n');
  return deps.sender.send({ channel: 'email', to, subject: `Access review: ${count} undecided before ${campaign.deadline.toISOString().slice(0, 10)}`, text, tenant: tenant.slug });
}

/** Runs reminders and deadlines every `intervalMs` on this node (one node a round, by a lock); returns a stop function. */
export function scheduleAccessReviews(deps: ReviewJobDeps, intervalMs: number): () => void {
  const lockSeconds = Math.max(1, Math.floor(intervalMs / 1000) - 1);
  const round = async () => {
    if (!(await deps.ephemeral.setIfAbsent('jobs:access-reviews:lock', String(process.pid), lockSeconds))) return;
    await closeDueCampaigns(deps);
    await remindReviewers(deps);
  };
  const timer = setInterval(() => void round().catch((error: Error) => deps.onError(error, 'access review round')), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
