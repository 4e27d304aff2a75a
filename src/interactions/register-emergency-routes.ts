// The account page's emergency access (break-glass) at /t/{tenant}/account/emergency: an eligible
// user picks the access they need, gives a reason and — having signed in again within five
// minutes, with their second step when they have one (the same step-up the password change uses)
// — gets the role until the rule's end, or, where the rule wants one or two other people to approve
// first, a request that waits for them. The service refuses and audits everything else.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { CaregateError } from '../errors.ts';
import type { Tenant, User } from '../storage/index.ts';
import { clockOf, field, type InteractionDeps, type TenantState } from './interaction-kit.ts';

type Session = { uid: string; loginTs?: number; amr?: string[] };
interface Me { session: Session; user: User; tenant: Tenant; policy: { timeZone: string } }

export interface AccountPageKit {
  whoAmI(ctx: Context): Promise<Me | undefined>;
  /** The signed-in user and a valid CSRF token; with `fresh`, a sign-in younger than five minutes (else: sign in again). */
  act(ctx: Context, section: string, fresh: boolean): Promise<{ me: Me; body: Record<string, unknown> } | undefined>;
  signIn(ctx: Context, tenant: Tenant, section: string, fresh: boolean): void;
  csrf(me: Me): string;
  actor(ctx: Context, user: User): { type: 'user'; id: string; ip: string; userAgent: string | null };
  /** The account page itself (/account) for `me` as whoAmI or act gave it, answered with `status` and `data` for its sections. */
  accountPage(ctx: Context, me: Me, status: number, data?: Record<string, unknown>): Promise<void>;
}

export function registerEmergencyRoutes(router: Router<TenantState>, deps: InteractionDeps, kit: AccountPageKit) {
  const base = (tenant: Tenant) => `/t/${tenant.slug}/account`;

  async function page(ctx: Context, me: Me, status: number, data: Record<string, unknown> = {}) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = deps.render('emergency', {
      title: 'Emergency access', tenant: me.tenant, base: base(me.tenant), csrf: kit.csrf(me),
      rules: await deps.emergency.rulesFor(me.tenant, me.user), at: clockOf(me.policy.timeZone), ...data,
    });
  }

  router.get('/account/emergency', async (ctx) => {
    const me = await kit.whoAmI(ctx);
    if (!me) return kit.signIn(ctx, ctx.state.tenant, 'emergency', false);
    await page(ctx, me, 200);
  });

  router.post('/account/emergency', async (ctx) => {
    // A sign-in older than five minutes is sent to sign in again (password and second step) first.
    const got = await kit.act(ctx, 'emergency', true);
    if (!got) return;
    const { me, body } = got;
    try {
      const granted = await deps.emergency.invoke(me.tenant, me.user, { rule: field(body, 'rule', 64), reason: field(body, 'reason', 2000) },
        { at: new Date((me.session.loginTs ?? 0) * 1000), amr: me.session.amr ?? [] }, kit.actor(ctx, me.user));
      await page(ctx, me, 201, { granted });
    } catch (error) {
      const e = error as CaregateError;
      if (!e.expose) throw error;
      if (e.status === 401) return kit.signIn(ctx, me.tenant, 'emergency', true);
      await page(ctx, me, e.status, { error: e.status === 400 ? 'Say why you need emergency access: the reason is required.' : e.message });
    }
  });
}
