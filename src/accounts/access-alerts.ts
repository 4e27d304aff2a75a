// Tells people about emergency access and elevation: the reviewers of a break-glass use by email
// at once (and again daily while it is unreviewed), the tenant's webhook with a signed POST, the
// approvers of an elevation request, and the requester of its outcome. A failed delivery is logged
// by the caller and never undoes the grant: in an emergency, access comes first, the alert second.
import { signWebhookBody, type Sender } from '../notify/index.ts';
import type { SealedBox } from '../security/index.ts';
import { queries, type AccessRequest, type Repos, type Tenant } from '../storage/index.ts';

export const WEBHOOK_SIGNATURE_HEADER = 'X-Caregate-Signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'X-Caregate-Timestamp';

export interface AlertDeps {
  sender: Sender;
  box: SealedBox;
  baseUrl: string;
  /** Where delivery failures go (the request that caused them has succeeded). */
  onError(error: Error, what: string): void;
}

export interface UseFacts {
  user: string;
  /** The role's key (webhooks). */
  role: string;
  roleName: string;
  scope: string;
  reason: string;
  endsAt: Date;
}

/** The HMAC a webhook receiver recomputes: over "<timestamp>.<body>", so an old body cannot be replayed with a new time. */
export function signEmergencyWebhook(secret: string, timestamp: string, body: string): string {
  return signWebhookBody(secret, `${timestamp}.${body}`);
}

/** The context the webhook secret is sealed under: it opens for this tenant's webhook only. */
export const webhookSecretContext = (tenantId: string) => `emergency-webhook:${tenantId}`;

/** A role in an email: its name, and its key, which the API and the CLI take. */
const roleText = (facts: { role: string; roleName: string }) => (facts.roleName === facts.role ? facts.role : `${facts.roleName} (${facts.role})`);

async function mail(deps: AlertDeps, tenant: Tenant, to: Array<{ email: string }>, subject: string, text: string) {
  await Promise.all(to.map((r) => deps.sender.send({ channel: 'email', to: r.email, subject, text, tenant: tenant.slug }).catch((e: Error) => deps.onError(e, 'alert email'))));
}

/** Email to the reviewers (everyone holding the reviewer role but the user) and the signed webhook. */
export async function alertBreakGlass(deps: AlertDeps, db: Repos, tenant: Tenant, use: AccessRequest, facts: UseFacts, reminder = false): Promise<void> {
  const reviewers = use.reviewerRoleId ? (await queries.accessRequests.holdersWithEmail(db, tenant.id, [use.reviewerRoleId])).filter((r) => r.id !== use.userId) : [];
  const subject = `${reminder ? 'Reminder: unreviewed' : 'Emergency access used'}: ${facts.user} took ${roleText(facts)}`;
  const text = [
    `${facts.user} used emergency (break-glass) access in ${tenant.name}.`,
    '',
    `Role: ${roleText(facts)}, ${facts.scope}`,
    `Reason given: ${facts.reason}`,
    `Started: ${use.createdAt.toISOString()}; ends: ${facts.endsAt.toISOString()}`,
    '',
    'Please review this use and record whether it was justified:',
    `${deps.baseUrl}/t/${tenant.slug}/admin/access/emergency`,
    `(admin API: POST /admin/api/v1/t/${tenant.slug}/emergency-access/uses/${use.id}/review)`,
  ].join('\n');
  await mail(deps, tenant, reviewers, subject, text);
  if (!reminder) await postWebhook(deps, db, tenant, { type: 'break_glass.used', tenant: tenant.slug, id: use.id, user: facts.user, role: facts.role, scope: facts.scope, reason: facts.reason, startedAt: use.createdAt.toISOString(), endsAt: facts.endsAt.toISOString() });
}

/**
 * A use waiting for approval: email to whoever may approve it (holders of the rule's reviewer role
 * and its named approvers, never the person asking) and the signed webhook, at once.
 */
export async function alertBreakGlassApprovers(deps: AlertDeps, db: Repos, tenant: Tenant, use: AccessRequest, facts: Omit<UseFacts, 'endsAt'>): Promise<void> {
  const approvers = (await queries.accessRequests.holdersWithEmail(db, tenant.id, use.reviewerRoleId ? [use.reviewerRoleId] : [], use.approverUserIds)).filter((r) => r.id !== use.userId);
  const text = [
    `${facts.user} asks for emergency (break-glass) access in ${tenant.name}; ${use.approvalsRequired === 1 ? 'one other person' : `${use.approvalsRequired} other people`} must approve before it takes effect.`,
    '',
    `Role: ${roleText(facts)}, ${facts.scope}, for ${use.minutes} minutes`,
    `Reason given: ${facts.reason}`,
    `If nobody approves, the request lapses at ${use.pendingUntil?.toISOString()}.`,
    '',
    // Named approvers may hold no console permission: their own account page is the way every approver has.
    `Approve or deny it on your account page: ${deps.baseUrl}/t/${tenant.slug}/account#approvals`,
    `Reviewers of emergency access can also approve it in the console: ${deps.baseUrl}/t/${tenant.slug}/admin/access/emergency`,
    `(admin API, as yourself: POST /admin/api/v1/t/${tenant.slug}/emergency-access/uses/${use.id}/approve, or /reject)`,
  ].join('\n');
  await mail(deps, tenant, approvers, `Emergency access needs your approval: ${facts.user} asks for ${roleText(facts)}`, text);
  await postWebhook(deps, db, tenant, { type: 'break_glass.approval_requested', tenant: tenant.slug, id: use.id, user: facts.user, role: facts.role, scope: facts.scope, reason: facts.reason, approvalsRequired: use.approvalsRequired, pendingUntil: use.pendingUntil?.toISOString() });
}

/** POSTs the event to the tenant's webhook, signed; nothing when none is set. */
export async function postWebhook(deps: AlertDeps, db: Repos, tenant: Tenant, event: Record<string, unknown>): Promise<void> {
  const settings = await queries.accessRequests.settings(db, tenant.id);
  if (!settings?.webhookUrl || !settings.webhookSecretSealed) return;
  const secret = deps.box.open(settings.webhookSecretSealed, webhookSecretContext(tenant.id));
  const body = JSON.stringify(event);
  const timestamp = String(Math.floor(Date.now() / 1000));
  try {
    const response = await fetch(settings.webhookUrl, {
      method: 'POST',
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
      headers: { 'content-type': 'application/json', [WEBHOOK_TIMESTAMP_HEADER]: timestamp, [WEBHOOK_SIGNATURE_HEADER]: signEmergencyWebhook(secret, timestamp, body) },
      body,
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`emergency webhook ${new URL(settings.webhookUrl).origin} answered HTTP ${response.status}`);
  } catch (error) {
    deps.onError(error as Error, 'emergency webhook');
  }
}

/** Email to whoever may approve an elevation request. */
export async function alertApprovers(deps: AlertDeps, tenant: Tenant, approvers: Array<{ email: string }>, request: AccessRequest, facts: Omit<UseFacts, 'endsAt'>): Promise<void> {
  const text = [
    `${facts.user} asks for the role ${roleText(facts)}, ${facts.scope}, for ${request.minutes} minutes${request.oneTime ? ', for one sign-in only' : ''}.`,
    `Reason: ${facts.reason}`,
    '',
    `Approve or reject it in the console: ${deps.baseUrl}/t/${tenant.slug}/admin/access/requests`,
    `(admin API: POST /admin/api/v1/t/${tenant.slug}/access-requests/${request.id}/approve, or /reject)`,
    `If nobody decides, the request lapses on ${request.pendingUntil?.toISOString()}.`,
  ].join('\n');
  await mail(deps, tenant, approvers, `Access request: ${facts.user} asks for ${roleText(facts)}`, text);
}

/** Email to the requester: approved, rejected or lapsed. */
export async function tellRequester(deps: AlertDeps, tenant: Tenant, requester: { email: string | null }, request: AccessRequest, outcome: 'approved' | 'rejected' | 'expired', facts: { role: string; roleName: string; endsAt?: Date; note?: string | null }): Promise<void> {
  if (!requester.email) return;
  const lines = {
    approved: `Your request for ${roleText(facts)} was approved; it ends ${facts.endsAt?.toISOString()}.${request.oneTime ? ' It is good for one sign-in.' : ''}`,
    rejected: `Your request for ${roleText(facts)} was rejected.`,
    expired: `Your request for ${roleText(facts)} lapsed: nobody decided it in time.`,
  };
  await mail(deps, tenant, [{ email: requester.email }], `Access request ${outcome}: ${roleText(facts)}`, [lines[outcome], facts.note ? `Note: ${facts.note}` : ''].join('\n'));
}
