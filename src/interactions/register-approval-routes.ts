// The account page's "Emergency access waiting for your approval" (/t/{tenant}/account#approvals):
// each approver of a break-glass use that a rule makes wait — its named approvers too, who may hold
// no console permission — approves or denies it here. The approval service decides (one of that
// use's approvers, not the person who asked, the use still waiting) and audits; this page only
// asks and shows. Approving gives someone emergency access, so, like giving access away, it needs
// a sign-in younger than five minutes; denying gives nothing and does not.
import type Router from '@koa/router';
import type { CaregateError } from '../errors.ts';
import { field, type InteractionDeps, type TenantState } from './interaction-kit.ts';
import type { AccountPageKit } from './register-emergency-routes.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "you cannot approve …" → "You cannot approve ….", as the page says it. */
const sentence = (message: string) => `${message[0]!.toUpperCase()}${message.slice(1)}${message.endsWith('.') ? '' : '.'}`;

export function registerApprovalRoutes(router: Router<TenantState>, deps: InteractionDeps, kit: AccountPageKit) {
  const approvals = deps.breakGlassApprovals;

  router.post('/account/approvals', async (ctx) => {
    const approving = ((ctx.request as { body?: Record<string, unknown> }).body ?? {}).decision === 'approve';
    const got = await kit.act(ctx, 'approvals', approving);
    if (!got) return;
    const { me, body } = got;
    const decision = field(body, 'decision', 8);
    if (decision !== 'approve' && decision !== 'deny') ctx.throw(400, 'Choose Approve or Deny.');
    const id = field(body, 'use', 64);
    if (!UUID.test(id)) return kit.accountPage(ctx, me, 404, { approvalError: 'That request does not exist.' });
    const note = field(body, 'note', 2000).trim();
    const input = note ? { note } : {};
    const actor = kit.actor(ctx, me.user);
    let outcome: 'granted' | 'pending' | 'rejected';
    try {
      outcome = (decision === 'approve' ? await approvals.approveUse(me.tenant.slug, id, input, actor) : await approvals.rejectUse(me.tenant.slug, id, input, actor)).status;
    } catch (error) {
      const e = error as CaregateError;
      if (!e.expose) throw error;
      return kit.accountPage(ctx, me, e.status, { approvalError: sentence(e.message), failedUse: id });
    }
    ctx.status = 303;
    ctx.redirect(`/t/${me.tenant.slug}/account?done=use-${outcome}#approvals`);
  });
}
