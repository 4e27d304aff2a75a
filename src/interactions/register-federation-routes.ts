// Signing in through a federation connection, from the sign-in page: a "Sign in with …" button or
// home-realm discovery sends the browser upstream (step 1 of src/federation/federation.ts); the
// return lands here, in the browser's own interaction (step 3), where the user is provisioned and
// the sign-in continues with the tenant's own rules (second factor, session limits).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { UpstreamError } from '../upstream/index.ts';
import type { InteractionKit, TenantState } from './interaction-kit.ts';
import { advance } from './sign-in-flow.ts';

export function registerFederationRoutes(router: Router<TenantState>, kit: InteractionKit) {
  const { federation, audit } = kit.deps;

  async function refuse(ctx: Context, error: unknown, connection: string | undefined) {
    if (!(error instanceof UpstreamError)) throw error;
    const { tenant } = ctx.state as TenantState;
    await audit.record({
      tenantId: tenant.id, actor: kit.actorOf(ctx), action: 'login.failure', outcome: 'failure',
      details: { method: 'federation', connection, reason: error.reason, detail: error.detail },
    });
    kit.page(ctx, error.status, 'message', { title: 'Sign-in failed', problem: true, message: error.message, retryUrl: kit.base(ctx) });
  }

  /** Step 1: to the upstream, remembering what its answer must match. */
  async function toUpstream(ctx: Context, key: string, loginHint?: string) {
    const { tenant } = ctx.state as TenantState;
    try {
      const url = await federation.begin(tenant, key, { uid: ctx.params.uid as string, loginHint });
      ctx.status = 303;
      ctx.redirect(url);
    } catch (error) {
      await refuse(ctx, error, key);
    }
  }

  router.post('/interaction/:uid/federate/:key', async (ctx) => {
    await kit.requireCsrf(ctx);
    const interaction = await kit.details(ctx);
    if (interaction.prompt.name !== 'login') ctx.throw(400, 'This sign-in step is already complete.');
    await toUpstream(ctx, ctx.params.key!);
  });

  /** Step 3: the upstream's answer, validated once, in the browser that began the sign-in. */
  router.get('/interaction/:uid/federated', async (ctx) => {
    const interaction = await kit.details(ctx);
    const { tenant } = ctx.state;
    const state = String(ctx.query.state ?? '');
    const connection = await federation.connectionOfState(tenant, state);
    try {
      if (interaction.prompt.name !== 'login') throw new UpstreamError('state_mismatch', 'this sign-in step is already complete');
      const result = await federation.complete(tenant, ctx.params.uid!, state);
      const mfa = result.connection.settings.trustUpstreamMfa && result.identity.mfa;
      await audit.record({
        tenantId: tenant.id, actor: { ...kit.actorOf(ctx), type: 'user', id: result.user.id }, action: 'login.success', target: { type: 'user', id: result.user.id },
        details: { method: 'federation', connection: result.connection.row.key, subject: result.identity.subject, created: result.created, linked: result.linked, rules: result.outcome.matched, upstreamMfa: result.identity.mfa },
      });
      await advance(kit, ctx, interaction, { userId: result.user.id, amr: mfa ? ['fed', 'mfa'] : ['fed'], mfa });
    } catch (error) {
      await refuse(ctx, error, connection);
    }
  });

  return { toUpstream };
}
