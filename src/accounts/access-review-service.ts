// Access review campaigns: created over a scope (the items are snapshotted then), listed, closed;
// each reviewer lists the items of the users they may manage and certifies or revokes each. A
// revocation goes through the ordinary removal paths (assignment, team membership, API key), so
// the no-escalation rule, the last-administrator rule and the audit apply as they would by hand.
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.ts';
import { queries, type Repos, type ReviewCampaign, type ReviewItem, type Tenant } from '../storage/index.ts';
import { loadAuthority, type AdminTarget } from './admin-authority.ts';
import type { ApiKeyService } from './api-key-service.ts';
import type { AssignmentService } from './assignment-service.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { assertMayManageUser } from './grant-guard.ts';
import { parseInput } from './parse-input.ts';
import { snapshotItems } from './access-review-snapshot.ts';
import { campaignInput, REVIEW_DECIDE, REVIEW_MANAGE, reviewDecisionInput, SelfReviewError, type CampaignInput, type ReviewDecisionInput } from './access-review-rules.ts';
import { reviewReportCsv } from './access-review-report.ts';
import type { createTeamMembership } from './team-service.ts';

export interface ReviewDeps {
  assignments: AssignmentService;
  teamMembers: ReturnType<typeof createTeamMembership>;
  apiKeys: ApiKeyService;
}

const actorRef = (actor: Actor) => `${actor.type}:${actor.id ?? ''}`;

/** A campaign as the API shows it: its scope by key, and how many items are decided. */
function publicCampaign(c: ReviewCampaign, scopeKey: string | null, items?: ReviewItem[]) {
  const { tenantId: _t, scopeId: _s, ...rest } = c;
  const counts = items && { items: items.length, undecided: items.filter((i) => !i.decision).length, unused: items.filter((i) => i.unused).length };
  return { ...rest, scope: c.scopeType === 'tenant' ? { type: 'tenant' } : { type: c.scopeType, key: scopeKey }, ...counts };
}

export function createAccessReviews(ctx: AccountsContext, deps: ReviewDeps) {
  const { storage, audit } = ctx;

  async function requireCampaign(db: Repos, tenant: Tenant, id: string): Promise<ReviewCampaign> {
    const found = await queries.accessReviews.findCampaign(db, tenant.id, id);
    if (!found) throw new NotFoundError('campaign does not exist');
    return found;
  }

  const campaignTarget = (c: Pick<ReviewCampaign, 'scopeType' | 'scopeId'>): AdminTarget =>
    c.scopeType === 'tenant' ? { kind: 'tenant' } : { kind: 'scope', scope: { scopeType: c.scopeType, scopeId: c.scopeId } };

  async function scopeKeyOf(db: Repos, c: ReviewCampaign): Promise<string | null> {
    if (c.scopeType === 'location') return (await db.locations.findOneBy({ id: c.scopeId! }))?.key ?? null;
    if (c.scopeType === 'institution') return (await db.institutions.findOneBy({ id: c.scopeId! }))?.key ?? null;
    return null;
  }

  /** Creates a campaign and snapshots its items in one transaction; audited. */
  async function create(tenantSlug: string, raw: CampaignInput, actor: Actor, now = new Date()) {
    const input = parseInput(campaignInput, raw);
    const tenant = await requireTenant(storage, tenantSlug);
    // Read before the transaction: the key service has its own reads (and pending counts in the ephemeral store).
    const keys = await deps.apiKeys.list(tenantSlug);
    return storage.transaction(async (tx) => {
      const scopeId = input.scope.type === 'tenant' ? null : (await requireByKey(input.scope.type === 'location' ? tx.locations : tx.institutions, tenant.id, input.scope.key, input.scope.type)).id;
      const campaign: ReviewCampaign = {
        id: randomUUID(), tenantId: tenant.id, name: input.name, scopeType: input.scope.type, scopeId, deadline: input.deadline, onDeadline: input.onDeadline,
        recurrenceMonths: input.recurrenceMonths ?? null, unusedDays: input.unusedDays, remindDays: input.remindDays, status: 'open', createdBy: actorRef(actor),
        createdAt: now, closedAt: null, nextCampaignId: null,
      };
      await (await loadAuthority(tx, tenant, actor)).require(REVIEW_MANAGE, campaignTarget(campaign));
      await queries.accessReviews.insertCampaign(tx, campaign);
      const items = await snapshotItems(tx, tenant, campaign, keys, now);
      await queries.accessReviews.insertItems(tx, items);
      const shown = publicCampaign(campaign, input.scope.type === 'tenant' ? null : input.scope.key, items.map((i) => ({ ...i, decision: null, decidedBy: null, decidedAt: null, note: null })));
      await audit.record({ tenantId: tenant.id, actor, action: 'access_review.create', target: { type: 'access_review', id: campaign.id }, after: shown }, tx);
      return shown;
    });
  }

  /** The campaigns whose scope the caller reaches with either review permission. */
  async function list(tenantSlug: string, actor: Actor) {
    const tenant = await requireTenant(storage, tenantSlug);
    const authority = await loadAuthority(storage, tenant, actor);
    const out = [];
    for (const c of await queries.accessReviews.listCampaigns(storage, tenant.id)) {
      const target = campaignTarget(c);
      const reachable = (await authority.scopesFor(REVIEW_MANAGE, target)).length || (await authority.scopesFor(REVIEW_DECIDE, target)).length
        || (c.scopeType !== 'tenant' && authority.reach(REVIEW_DECIDE).length > 0);
      if (reachable) out.push(publicCampaign(c, await scopeKeyOf(storage, c), await queries.accessReviews.items(storage, c.id)));
    }
    return out;
  }

  /** The items the caller may decide: of users they may manage with caregate.reviews:decide, never their own. */
  async function myItems(tenantSlug: string, campaignId: string, actor: Actor) {
    const tenant = await requireTenant(storage, tenantSlug);
    const campaign = await requireCampaign(storage, tenant, campaignId);
    const authority = await loadAuthority(storage, tenant, actor);
    const visible = await authority.visibleUsers(REVIEW_DECIDE);
    const self = authority.subject?.id;
    const items = (await queries.accessReviews.items(storage, campaign.id)).filter((i) => i.userId && i.userId !== self && (!visible || visible.includes(i.userId)));
    // Only users they may manage: no one holding admin rights the reviewer lacks.
    const manageable = new Set<string>();
    for (const userId of new Set(items.map((i) => i.userId!))) {
      const user = await storage.users.findOneBy({ tenantId: tenant.id, id: userId });
      if (user && (await assertMayManageUser(storage, tenant, actor, user, REVIEW_DECIDE).then(() => true, () => false))) manageable.add(userId);
    }
    // Each role item named as people read it (a reviewer may not read the role catalogue); the key stays the record.
    const roleNames = new Map((await storage.roles.findBy({ tenantId: tenant.id })).map((r) => [r.key, r.name]));
    const named = items.filter((i) => manageable.has(i.userId!)).map((i) => (i.kind === 'api_key' ? i : { ...i, roleName: roleNames.get(i.role) ?? null }));
    return { campaign: publicCampaign(campaign, await scopeKeyOf(storage, campaign)), items: named };
  }

  /** Ends what an item grants, through the path an administrator would use by hand. */
  async function revokeItem(tenant: Tenant, item: ReviewItem, actor: Actor, db: Repos) {
    if (item.kind === 'api_key') {
      await (await loadAuthority(db, tenant, actor)).require('caregate.service_accounts:edit', { kind: 'tenant' });
      await deps.apiKeys.revoke(tenant.slug, item.subjectId, actor);
    } else if (item.teamId) {
      const team = await db.teams.findOneBy({ id: item.teamId });
      if (team) await deps.teamMembers.remove(tenant.slug, team.key, item.userId!, actor);
    } else {
      await deps.assignments.remove(tenant.slug, item.subjectId, actor).catch((error: unknown) => {
        // Already gone (ended, expired, removed by hand): the revocation holds.
        if (!(error instanceof NotFoundError)) throw error;
      });
    }
  }

  /** Certifies or revokes one item. Refused on one's own access and on users the reviewer may not manage. */
  async function decide(tenantSlug: string, campaignId: string, itemId: string, raw: ReviewDecisionInput, actor: Actor, now = new Date()) {
    const input = parseInput(reviewDecisionInput, raw);
    const tenant = await requireTenant(storage, tenantSlug);
    const campaign = await requireCampaign(storage, tenant, campaignId);
    if (campaign.status !== 'open') throw new ConflictError('the campaign is closed');
    const item = await queries.accessReviews.findItem(storage, campaign.id, itemId);
    if (!item) throw new NotFoundError('item does not exist');
    if (item.decision) throw new ConflictError(`the item is already ${item.decision}`);
    if (!item.userId) throw new ConflictError('the user no longer exists');
    const user = await storage.users.findOneBy({ tenantId: tenant.id, id: item.userId });
    if (!user) throw new ConflictError('the user no longer exists');
    // Nobody reviews their own access (nor, through an application or a key, their account's).
    const authority = await loadAuthority(storage, tenant, actor);
    if (authority.subject && authority.subject.id === item.userId) {
      throw new SelfReviewError('you cannot review your own access; another reviewer decides on it', { reason: 'self_review' });
    }
    await assertMayManageUser(storage, tenant, actor, user, REVIEW_DECIDE);
    if (input.decision === 'revoke') await revokeItem(tenant, item, actor, storage);
    const decision = input.decision === 'certify' ? 'certified' as const : 'revoked' as const;
    return storage.transaction(async (tx) => {
      if (!(await queries.accessReviews.decide(tx, item.id, { decision, decidedBy: actorRef(actor), decidedAt: now, note: input.note ?? null }))) {
        throw new ConflictError('the item was decided meanwhile');
      }
      const after = { ...item, decision, decidedBy: actorRef(actor), decidedAt: now, note: input.note ?? null };
      await audit.record({ tenantId: tenant.id, actor, action: 'access_review.decide', target: { type: 'access_review_item', id: item.id }, after, details: { campaignId: campaign.id } }, tx);
      return after;
    });
  }

  /** The report for auditors: one CSV line per item with its decision. */
  async function report(tenantSlug: string, campaignId: string, actor: Actor) {
    const tenant = await requireTenant(storage, tenantSlug);
    const campaign = await requireCampaign(storage, tenant, campaignId);
    await (await loadAuthority(storage, tenant, actor)).require(REVIEW_MANAGE, campaignTarget(campaign));
    const items = await queries.accessReviews.items(storage, campaign.id);
    await audit.record({ tenantId: tenant.id, actor, action: 'access_review.export', target: { type: 'access_review', id: campaign.id }, details: { items: items.length } });
    const names = new Map((await storage.users.findBy({ tenantId: tenant.id })).map((u) => [`user:${u.id}`, u.username]));
    const apps = new Map((await storage.applications.findBy({ tenantId: tenant.id })).map((a) => [`client:${a.clientId}`, a.serviceUserId ? names.get(`user:${a.serviceUserId}`) : undefined]));
    return { filename: `access-review-${campaign.id}.csv`, csv: reviewReportCsv(items, (ref) => names.get(ref) ?? apps.get(ref) ?? ref) };
  }

  /** Closes a campaign before its deadline, as the deadline would (revoke or flag what is left). */
  async function close(tenantSlug: string, campaignId: string, actor: Actor) {
    const tenant = await requireTenant(storage, tenantSlug);
    const campaign = await requireCampaign(storage, tenant, campaignId);
    await (await loadAuthority(storage, tenant, actor)).require(REVIEW_MANAGE, campaignTarget(campaign));
    if (campaign.status !== 'open') throw new ConflictError('the campaign is closed already');
    return closeCampaign(tenant, campaign, actor);
  }

  /**
   * What the deadline does: undecided items are revoked (a refusal, such as the last administrator,
   * leaves the item flagged with the reason) or flagged; the campaign closes; a recurring one starts
   * its successor. `actor` ends the items (the system actor at the deadline).
   */
  async function closeCampaign(tenant: Tenant, campaign: ReviewCampaign, actor: Actor, now = new Date()) {
    let revoked = 0;
    let flagged = 0;
    for (const item of await queries.accessReviews.items(storage, campaign.id, true)) {
      let decision: 'revoked' | 'flagged' = 'flagged';
      let note = 'not reviewed by the deadline';
      if (campaign.onDeadline === 'revoke' && item.userId) {
        try {
          await revokeItem(tenant, item, actor, storage);
          decision = 'revoked';
        } catch (error) {
          note = `not reviewed by the deadline; revocation refused: ${(error as Error).message}`;
        }
      }
      await storage.transaction(async (tx) => {
        if (!(await queries.accessReviews.decide(tx, item.id, { decision, decidedBy: actorRef(actor), decidedAt: now, note }))) return;
        await audit.record({ tenantId: tenant.id, actor, action: 'access_review.decide', target: { type: 'access_review_item', id: item.id }, after: { ...item, decision, note }, details: { campaignId: campaign.id, deadline: true } }, tx);
        if (decision === 'revoked') revoked++;
        else flagged++;
      });
    }
    const closed = await storage.transaction(async (tx) => {
      if (!(await queries.accessReviews.closeCampaign(tx, campaign.id, now))) return false;
      await audit.record({ tenantId: tenant.id, actor, action: 'access_review.close', target: { type: 'access_review', id: campaign.id }, details: { revoked, flagged } }, tx);
      return true;
    });
    let next: { id: string } | undefined;
    if (closed && campaign.recurrenceMonths) next = await startSuccessor(tenant, campaign, actor, now);
    return { id: campaign.id, status: 'closed' as const, revoked, flagged, nextCampaignId: next?.id ?? null };
  }

  /** The next campaign of a recurring one: same scope and settings, its deadline recurrenceMonths after the later of now and the old deadline. */
  async function startSuccessor(tenant: Tenant, campaign: ReviewCampaign, actor: Actor, now: Date) {
    const deadline = new Date(Math.max(campaign.deadline.getTime(), now.getTime()));
    deadline.setUTCMonth(deadline.getUTCMonth() + campaign.recurrenceMonths!);
    const scopeKey = await scopeKeyOf(storage, campaign);
    if (campaign.scopeType !== 'tenant' && !scopeKey) return undefined;
    const scope = campaign.scopeType === 'tenant' ? { type: 'tenant' as const } : { type: campaign.scopeType, key: scopeKey! };
    const next = await create(tenant.slug, { name: campaign.name, scope, deadline, onDeadline: campaign.onDeadline, recurrenceMonths: campaign.recurrenceMonths!, unusedDays: campaign.unusedDays, remindDays: campaign.remindDays }, actor, now);
    await queries.accessReviews.setNextCampaign(storage, campaign.id, next.id);
    return next;
  }

  return { create, list, myItems, decide, report, close, closeCampaign };
}
export type AccessReviews = ReturnType<typeof createAccessReviews>;
