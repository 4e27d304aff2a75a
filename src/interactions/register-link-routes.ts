// Pages reached from an email rather than from an application: forgot password, the reset link,
// and the invitation link. A reset never signs anyone in (so it cannot bypass a second factor): the
// user signs in afresh, from their application, with the new password.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { PasswordPolicyError } from '../accounts/index.ts';
import { queries, type ActionPurpose, type Tenant } from '../storage/index.ts';
import { field, type InteractionDeps, type TenantState } from './interaction-kit.ts';
import { loadPolicyFor } from './sign-in-flow.ts';

const SENT = 'If an account matches, we have sent a link to its email address. The link works once and expires soon.';
const LINK_PROBLEM: Record<string, string> = {
  unknown: 'This link is not valid. Check that you copied all of it, or ask for a new one.',
  expired: 'This link has expired. Ask for a new one.',
  used: 'This link has already been used. Ask for a new one if you still need it.',
};

export function registerLinkRoutes(router: Router<TenantState>, deps: InteractionDeps) {
  const { box, render, audit, ephemeral, links } = deps;
  const mac = (tenant: Tenant, value: string) => createHmac('sha256', box.derive(`csrf:${tenant.id}`)).update(value).digest('base64url');
  const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const actorOf = (ctx: Context) => ({ type: 'anonymous' as const, ip: ctx.ip, userAgent: ctx.get('user-agent') || null });

  function show(ctx: Context, status: number, view: string, data: Record<string, unknown>) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = render(view, { tenant: (ctx.state as TenantState).tenant, ...data });
  }

  // ---- Forgot password: same answer whether or not the account exists --------------------------

  router.get('/forgot', (ctx) => {
    const nonce = randomBytes(16).toString('base64url');
    ctx.cookies.set(`_forgot.${ctx.state.tenant.slug}`, nonce, { httpOnly: true, sameSite: 'strict', secure: deps.config.baseUrl.startsWith('https:'), maxAge: 3_600_000 });
    show(ctx, 200, 'forgot', { title: 'Reset your password', csrf: mac(ctx.state.tenant, `forgot:${nonce}`) });
  });

  router.post('/forgot', async (ctx) => {
    const { tenant } = ctx.state;
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const nonce = ctx.cookies.get(`_forgot.${tenant.slug}`) ?? '';
    if (!nonce || !same(field(body, 'csrf', 128), mac(tenant, `forgot:${nonce}`))) ctx.throw(403, 'This form has expired or was not sent by this site. Go back and try again.');
    const login = field(body, 'login', 256).trim();
    // Per address: at most 10 requests an hour, whatever they ask for.
    if ((await ephemeral.incr(`forgot:${tenant.id}:${ctx.ip}`, 3600)) > 10) {
      ctx.set('Retry-After', '3600');
      return show(ctx, 429, 'forgot', { title: 'Reset your password', csrf: mac(tenant, `forgot:${nonce}`), error: 'Too many requests from your network. Try again later.' });
    }
    // The lookup and the email happen after the answer, so the answer's timing tells nothing either.
    const actor = actorOf(ctx);
    setImmediate(() => void sendReset(tenant, login, actor).catch((error: Error) => deps.audit.record({ tenantId: tenant.id, actor, action: 'user.password_reset.request', outcome: 'failure', details: { reason: 'delivery_failed', error: error.message.slice(0, 200) } }).catch(() => {})));
    show(ctx, 200, 'message', { title: 'Check your email', message: SENT });
  });

  async function sendReset(tenant: Tenant, login: string, actor: ReturnType<typeof actorOf>) {
    const user = login ? await queries.users.findByLogin(deps.storage, tenant.id, login) : undefined;
    const reason = !user ? 'unknown_user' : !user.email ? 'no_email' : user.status !== 'active' ? 'not_active'
      // A user of a federated-only connection has no local password to reset (nor may get one).
      : !(await deps.federation.connections.passwordAllowed(tenant.id, user.id)) ? 'federated_only'
      // A directory user's password is the directory's: it is changed there.
      : (await deps.ldap.directoryManaged(tenant.id, user.id)) ? 'directory_managed' : undefined;
    // Per account: at most 3 links an hour.
    const limited = !reason && (await ephemeral.incr(`forgot:${tenant.id}:user:${user!.id}`, 3600)) > 3;
    if (reason || limited) {
      await audit.record({ tenantId: tenant.id, actor: { ...actor, id: user?.id ?? null, type: user ? 'user' : 'anonymous' }, action: 'user.password_reset.request', outcome: 'failure', target: user ? { type: 'user', id: user.id } : undefined, details: { reason: reason ?? 'rate_limited', login: login.slice(0, 256) } });
      return;
    }
    const policy = await loadPolicyFor(deps, tenant);
    const link = await links.issue(tenant, user!, 'reset', policy.accounts.resetLinkMinutes, { ...actor, type: 'user', id: user!.id });
    await deps.sender.send({
      channel: 'email', to: user!.email!, tenant: tenant.slug, subject: `Reset your ${tenant.name} password`,
      text: `Someone (hopefully you) asked to reset the password of ${user!.username} at ${tenant.name}.\n\nChoose a new password here: ${link.url}\n\nThe link works once and expires in ${policy.accounts.resetLinkMinutes} minutes. If you did not ask, ignore this email; your password stays as it is.`,
    });
  }

  // ---- Reset and invitation links ---------------------------------------------------------------

  for (const purpose of ['reset', 'invite'] as ActionPurpose[]) {
    const title = purpose === 'reset' ? 'Choose a new password' : 'Activate your account';
    const page = async (ctx: Context, status: number, token: string, extra: Record<string, unknown> = {}) => {
      const { tenant } = ctx.state as TenantState;
      const policy = await loadPolicyFor(deps, tenant);
      show(ctx, status, 'password-change', {
        title, reason: purpose === 'reset' ? 'Choose a new password for your account.' : 'Welcome. Choose a password to activate your account.',
        csrf: mac(tenant, `link:${token}`), action: ctx.path, minLength: policy.password.minLength, submitLabel: purpose === 'reset' ? 'Change password' : 'Activate', ...extra,
      });
    };

    router.get(`/${purpose}/:token`, async (ctx) => {
      const result = await links.check(ctx.state.tenant, purpose, ctx.params.token!);
      if (!result.ok) return show(ctx, result.reason === 'unknown' ? 404 : 410, 'message', { title: 'Link not usable', message: LINK_PROBLEM[result.reason], problem: true });
      await page(ctx, 200, ctx.params.token!);
    });

    router.post(`/${purpose}/:token`, async (ctx) => {
      const { tenant } = ctx.state;
      const token = ctx.params.token!;
      const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
      if (!same(field(body, 'csrf', 128), mac(tenant, `link:${token}`))) ctx.throw(403, 'This form has expired or was not sent by this site. Go back and try again.');
      const result = await links.check(tenant, purpose, token);
      if (!result.ok) {
        await audit.record({ tenantId: tenant.id, actor: actorOf(ctx), action: `user.${purpose === 'reset' ? 'password_reset' : 'invite'}.use`, outcome: 'failure', details: { reason: result.reason } });
        return show(ctx, result.reason === 'unknown' ? 404 : 410, 'message', { title: 'Link not usable', message: LINK_PROBLEM[result.reason], problem: true });
      }
      const password = field(body, 'password');
      if (password !== field(body, 'confirm')) return page(ctx, 400, token, { errors: ['The two passwords are not the same.'] });
      const policy = await loadPolicyFor(deps, tenant);
      const problems = await deps.passwords.problems(result.user, policy, password);
      if (problems.length) return page(ctx, 400, token, { errors: problems });
      const actor = { ...actorOf(ctx), type: 'user' as const, id: result.user.id };
      try {
        const used = await links.use(tenant, result.token, (tx) =>
          deps.passwords.set(result.user, policy, password, { actor, action: purpose === 'reset' ? 'user.password_reset.use' : 'user.invite.accept', skipPolicy: true, activate: purpose === 'invite' }, tx),
        );
        if (!used) return show(ctx, 410, 'message', { title: 'Link not usable', message: LINK_PROBLEM.used, problem: true });
      } catch (error) {
        if (error instanceof PasswordPolicyError) return page(ctx, 400, token, { errors: error.details?.issues ?? [error.message] });
        throw error;
      }
      show(ctx, 200, 'message', {
        title: purpose === 'reset' ? 'Password changed' : 'Account activated',
        message: purpose === 'reset'
          ? 'Your password has been changed and your other sessions were signed out. Sign in again from your application.'
          : 'Your account is ready. Sign in from your application; if your organisation requires a second step, you will set it up then.',
      });
    });
  }
}
