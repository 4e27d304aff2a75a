// The password-change step of a sign-in: a temporary password (set by an admin) or one past the
// tenant's expiry is replaced before the user continues.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { PasswordPolicyError } from '../accounts/index.ts';
import { field, type InteractionKit, type TenantState } from './interaction-kit.ts';
import { advance, loadPolicy, requireState } from './sign-in-flow.ts';

export function registerPasswordRoutes(router: Router<TenantState>, kit: InteractionKit) {
  const { deps } = kit;

  async function show(ctx: Context, status: number, errors: string[] = []) {
    const policy = await loadPolicy(kit, (ctx.state as TenantState).tenant);
    kit.page(ctx, status, 'password-change', {
      title: 'Choose a new password', reason: 'Your password must be changed before you continue.', errors, minLength: policy.password.minLength,
    });
  }

  router.get('/interaction/:uid/password', async (ctx) => {
    if (await requireState(kit, ctx)) await show(ctx, 200);
  });

  router.post('/interaction/:uid/password', async (ctx) => {
    const body = await kit.requireCsrf(ctx);
    const interaction = await kit.details(ctx);
    const state = await requireState(kit, ctx);
    if (!state) return;
    const { tenant } = ctx.state;
    const user = await deps.storage.users.findOneBy({ tenantId: tenant.id, id: state.userId });
    if (!user) return ctx.throw(400, 'This sign-in can no longer continue. Start again.');
    const password = field(body, 'password');
    if (password !== field(body, 'confirm')) return show(ctx, 400, ['The two passwords are not the same.']);
    try {
      const policy = await loadPolicy(kit, tenant);
      await deps.passwords.set(user, policy, password, { actor: { ...kit.actorOf(ctx), type: 'user', id: user.id }, action: 'user.password.change' });
    } catch (error) {
      if (error instanceof PasswordPolicyError) return show(ctx, 400, (error.details?.issues as string[]) ?? [error.message]);
      throw error;
    }
    await advance(kit, ctx, interaction, state);
  });
}
