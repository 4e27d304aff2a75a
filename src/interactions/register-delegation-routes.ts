// The account page's delegations at /t/{tenant}/account/delegations ("Acting Manager"): a person
// passes one of their own role assignments — or some of its permissions — to a colleague for a
// range of days, sees what they gave and hold, and ends what they gave. Dates are days on the
// tenant's clock (policy timeZone): a delegation starts at the start of its first day and ends at
// the end of its last. The delegation service decides and audits; this page only asks and shows.
// Giving access away needs a sign-in younger than five minutes, as a password change does.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { loadTenantPolicy } from '../accounts/index.ts';
import { startOfLocalDay, wallClock } from '../authz/index.ts';
import type { CaregateError } from '../errors.ts';
import { In, type Tenant } from '../storage/index.ts';
import { field, type InteractionDeps, type TenantState } from './interaction-kit.ts';
import type { AccountPageKit } from './register-emergency-routes.ts';

type Scope = { type: string; id: string | null };
type Me = NonNullable<Awaited<ReturnType<AccountPageKit['whoAmI']>>>;

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Today on the wall clock of `timeZone`, as a form's date ("2027-03-14"). */
const todayIn = (timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());

/** "2027-03-14" → the day after, as the same kind of string. */
const nextDay = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

export function registerDelegationRoutes(router: Router<TenantState>, deps: InteractionDeps, kit: AccountPageKit) {
  const { delegations } = deps.accounts;
  const base = (tenant: Tenant) => `/t/${tenant.slug}/account`;

  /** Names for the scopes on the page: "everywhere in the organisation", "location North clinic", … */
  async function scopeNames(tenant: Tenant, scopes: Scope[]): Promise<(scope: Scope) => string> {
    const ids = (type: string) => [...new Set(scopes.filter((s) => s.type === type && s.id).map((s) => s.id!))];
    const [locations, institutions, applications] = await Promise.all([
      ids('location').length ? deps.storage.locations.findBy({ tenantId: tenant.id, id: In(ids('location')) }) : [],
      ids('institution').length ? deps.storage.institutions.findBy({ tenantId: tenant.id, id: In(ids('institution')) }) : [],
      ids('application').length ? deps.storage.applications.findBy({ tenantId: tenant.id, id: In(ids('application')) }) : [],
    ]);
    const names = new Map<string, string>([...locations, ...institutions, ...applications].map((x) => [x.id, x.name]));
    return (scope) => (scope.type === 'tenant' ? 'everywhere in the organisation' : `${scope.type} ${names.get(scope.id ?? '') ?? 'no longer there'}`);
  }

  async function page(ctx: Context, me: Me, status: number, data: Record<string, unknown> = {}) {
    const actor = kit.actor(ctx, me.user);
    const [mine, delegable, policy] = await Promise.all([
      delegations.mine(me.tenant.slug, actor),
      delegations.delegable(me.tenant.slug, actor),
      loadTenantPolicy(deps, me.tenant.id),
    ]);
    const zone = policy.timeZone;
    const day = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric' });
    const clock = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
    const scopeName = await scopeNames(me.tenant, [...mine.given, ...mine.received, ...delegable].map((d) => d.scope));
    const when = (d: Date | null) => (d ? clock.format(d) : null);
    // A delegation given from this page ends at a midnight: say "the end of" the day before, as it was asked.
    const until = (d: Date | null) => (d && wallClock(d, zone).wallMs % DAY_MS === 0 ? `the end of ${day.format(new Date(d.getTime() - 1))}` : when(d));
    const shown = (d: (typeof mine.given)[number]) => ({ ...d, where: scopeName(d.scope), from: when(d.startsAt), until: until(d.expiresAt) });
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = deps.render('delegations', {
      title: 'Acting for a colleague', tenant: me.tenant, base: base(me.tenant), csrf: kit.csrf(me), zone,
      today: todayIn(zone),
      given: mine.given.map(shown),
      received: mine.received.map(shown),
      delegable: delegable.map((a) => ({ ...a, where: scopeName(a.scope), lastDay: a.expiresAt ? day.format(new Date(a.expiresAt.getTime() - 1)) : null })),
      ...data,
    });
  }

  router.get('/account/delegations', async (ctx) => {
    const me = await kit.whoAmI(ctx);
    if (!me) return kit.signIn(ctx, ctx.state.tenant, 'delegations', false);
    await page(ctx, me, 200, { done: ctx.query.done === 'ended' ? 'The delegation has ended.' : undefined });
  });

  router.post('/account/delegations', async (ctx) => {
    const got = await kit.act(ctx, 'delegations', true);
    if (!got) return;
    const { me, body } = got;
    const first = field(body, 'startsOn', 10);
    const last = field(body, 'lastDay', 10);
    const picked = ([] as unknown[]).concat(body.permissions ?? []).filter((p): p is string => typeof p === 'string' && p.length <= 200);
    const problem = !DATE.test(last) ? 'Give the last day of the delegation.' : first && !DATE.test(first) ? 'The first day must be a date.' : undefined;
    if (problem) return page(ctx, me, 400, { error: problem, failedAssignment: field(body, 'assignment', 64) });
    const { timeZone } = await loadTenantPolicy(deps, me.tenant.id);
    try {
      const startsAt = first && first > todayIn(timeZone) ? startOfLocalDay(first, timeZone) : undefined;
      const created = await delegations.create(me.tenant.slug, {
        assignment: field(body, 'assignment', 64),
        delegate: field(body, 'delegate', 128),
        expiresAt: startOfLocalDay(nextDay(last), timeZone),
        ...(startsAt ? { startsAt } : {}),
        ...(picked.length ? { permissions: picked } : {}),
        ...(field(body, 'reason', 500) ? { reason: field(body, 'reason', 500) } : {}),
      }, kit.actor(ctx, me.user), { as: 'delegator' });
      await page(ctx, me, 201, { done: `${created.delegate.username} now acts for you as ${created.role}${created.permissions ? ' (some of its permissions)' : ''}. It ends by itself.` });
    } catch (error) {
      const e = error as CaregateError & { issues?: Array<{ path: PropertyKey[]; message: string }> };
      if (e.name === 'ZodError' && e.issues) {
        return page(ctx, me, 400, { error: e.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('; '), failedAssignment: field(body, 'assignment', 64) });
      }
      if (!e.expose) throw error;
      await page(ctx, me, e.status, { error: e.message, failedAssignment: field(body, 'assignment', 64) });
    }
  });

  router.post('/account/delegations/end', async (ctx) => {
    const got = await kit.act(ctx, 'delegations', false);
    if (!got) return;
    const { me, body } = got;
    const id = field(body, 'delegation', 64);
    if (!UUID.test(id)) return page(ctx, me, 404, { error: 'That delegation does not exist.' });
    try {
      await delegations.end(me.tenant.slug, id, kit.actor(ctx, me.user), { as: 'delegator' });
    } catch (error) {
      const e = error as CaregateError;
      if (!e.expose) throw error;
      return page(ctx, me, e.status, { error: e.message });
    }
    ctx.status = 303;
    ctx.redirect(`${base(me.tenant)}/delegations?done=ended`);
  });
}
