// The self-service account page at /t/{tenant}/account: a signed-in user sees their sessions and
// devices and ends any of them, changes their password, and manages their second factors and
// recovery codes; an approver of break-glass uses also approves or denies those waiting for them
// (register-approval-routes.ts). The page is Caregate's own OpenID client ("account"): whoever has
// no sign-on session is sent through the tenant's normal sign-in, and changes to the password or
// second factors need a sign-in younger than five minutes (prompt=login, so with the second factor too).
import { createHash, randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { PasswordPolicyError, canSignIn, policyRequiresMfa, loadAuthzSnapshot, loadTenantPolicy, type TenantPolicy } from '../accounts/index.ts';
import { generateRecoveryCodes } from '../mfa/index.ts';
import { ACCOUNT_CLIENT_ID } from '../oidc/index.ts';
import type { Tenant, User } from '../storage/index.ts';
import { csrfToken, csrfValid } from './csrf.ts';
import { clockOf, field, type InteractionDeps, type TenantState } from './interaction-kit.ts';
import { confirmTotp, totpEnrolment } from './totp-enrolment.ts';
import { registerDelegationRoutes } from './register-delegation-routes.ts';
import { registerEmergencyRoutes } from './register-emergency-routes.ts';
import { registerApprovalRoutes } from './register-approval-routes.ts';

/** A change to the password or second factors needs a sign-in at most this old. */
export const FRESH_SIGN_IN_SECONDS = 300;
const SECTIONS = new Set(['sessions', 'password', 'factors', 'approvals']);

type OidcSession = Awaited<ReturnType<TenantState['provider']['Session']['get']>>;
interface Me {
  session: OidcSession;
  user: User;
  tenant: Tenant;
  policy: TenantPolicy;
}

export function registerAccountRoutes(router: Router<TenantState>, deps: InteractionDeps) {
  const { storage, render, box, audit } = deps;
  const issuer = (tenant: Tenant) => `${deps.config.baseUrl}/t/${tenant.slug}`;
  const home = (tenant: Tenant) => `/t/${tenant.slug}/account`;
  const csrfKey = (tenant: Tenant) => box.derive(`csrf:account:${tenant.id}`);
  const actor = (ctx: Context, user: User) => ({ type: 'user' as const, id: user.id, ip: ctx.ip, userAgent: ctx.get('user-agent') || null });

  /** The signed-in user of this browser's sign-on session, if any (and still allowed in). */
  async function whoAmI(ctx: Context): Promise<Me | undefined> {
    const { provider, tenant } = ctx.state as TenantState;
    const session = await provider.Session.get(ctx);
    if (!session.accountId) return undefined;
    const user = await storage.users.findOneBy({ tenantId: tenant.id, id: session.accountId });
    if (!user || !canSignIn(user)) return undefined;
    return { session, user, tenant, policy: await loadTenantPolicy(deps, tenant.id) };
  }

  /** The tenant's sign-in for the account client; `fresh` makes it ask for the password again. */
  function signIn(ctx: Context, tenant: Tenant, section: string, fresh: boolean) {
    const params = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${issuer(tenant)}/account/callback`,
      // PKCE is required of every client; the page never redeems the code, so the verifier is dropped.
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
      code_challenge_method: 'S256',
      state: section,
      ...(fresh ? { prompt: 'login' } : {}),
    });
    ctx.status = 303;
    ctx.redirect(`${issuer(tenant)}/auth?${params}`);
  }

  async function show(ctx: Context, me: Me, status = 200, data: Record<string, unknown> = {}) {
    const { session, user, tenant } = me;
    const sessions = await deps.sessions.list(tenant.id, user.id);
    const factors = await deps.factors.confirmed(user.id);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = render('account', {
      title: 'Your account',
      tenant,
      user,
      base: home(tenant),
      csrf: csrfToken(csrfKey(tenant), session.uid),
      signOut: `${issuer(tenant)}/session/end?client_id=${ACCOUNT_CLIENT_ID}`,
      sessions: sessions.map((s) => ({ ...s, current: s.id === session.jti })),
      factors,
      canAddTotp: me.policy.mfa.methods.includes('totp') && !factors.some((f) => f.type === 'totp'),
      recoveryCodesLeft: await deps.factors.recoveryCodesLeft(user.id),
      minLength: me.policy.password.minLength,
      freshUntil: new Date(((session.loginTs ?? 0) + FRESH_SIGN_IN_SECONDS) * 1000),
      approvals: await deps.breakGlassApprovals.waitingFor(tenant, user),
      at: clockOf(me.policy.timeZone),
      ...data,
    });
  }

  /**
   * For every POST: the signed-in user and a valid CSRF token (403, audited, otherwise). With
   * `fresh`, a sign-in older than five minutes sends the browser to sign in again first.
   */
  async function act(ctx: Context, section: string, fresh: boolean): Promise<{ me: Me; body: Record<string, unknown> } | undefined> {
    const { tenant } = ctx.state as TenantState;
    const me = await whoAmI(ctx);
    if (!me) return void signIn(ctx, tenant, section, false);
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    if (!csrfValid(csrfKey(tenant), me.session.uid, body.csrf)) {
      await audit.record({ tenantId: tenant.id, actor: actor(ctx, me.user), action: 'account.csrf_rejected', outcome: 'failure', details: { path: ctx.path } });
      ctx.throw(403, 'This form has expired or was not sent by this site. Go back and try again.');
    }
    if (fresh && me.session.past(FRESH_SIGN_IN_SECONDS)) return void signIn(ctx, tenant, section, true);
    return { me, body };
  }

  /** Ends the user's sessions other than this browser's (and their refresh tokens); returns how many. */
  async function endOthers(me: Me): Promise<number> {
    let ended = 0;
    for (const s of await deps.sessions.list(me.tenant.id, me.user.id)) if (s.id !== me.session.jti) ended += await deps.security.endOne(me.tenant, me.user, s.id);
    return ended;
  }

  const back = (ctx: Context, tenant: Tenant, notice: string, section: string) => {
    ctx.status = 303;
    ctx.redirect(`${home(tenant)}?done=${notice}#${section}`);
  };

  router.get('/account', async (ctx) => {
    const me = await whoAmI(ctx);
    if (!me) return signIn(ctx, ctx.state.tenant, 'home', false);
    await show(ctx, me, 200, { done: NOTICES[String(ctx.query.done)] });
  });

  // Where the sign-in returns. The code is not needed: the sign-on session is what counts.
  router.get('/account/callback', async (ctx) => {
    const { tenant } = ctx.state;
    if (ctx.query.error) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = render('message', { title: 'Not signed in', tenant, problem: true, message: String(ctx.query.error_description ?? 'The sign-in did not complete.').slice(0, 200) });
      return;
    }
    const section = String(ctx.query.state ?? '');
    ctx.status = 303;
    if (section === 'emergency' || section === 'delegations') return ctx.redirect(`${home(tenant)}/${section}`);
    ctx.redirect(`${home(tenant)}${SECTIONS.has(section) ? `#${section}` : ''}`);
  });

  // ---- Sessions -------------------------------------------------------------------------------

  router.post('/account/sessions/end', async (ctx) => {
    const got = await act(ctx, 'sessions', false);
    if (!got) return;
    const { me, body } = got;
    const id = field(body, 'session', 64);
    const ended = await deps.security.endOne(me.tenant, me.user, id);
    await audit.record({ tenantId: me.tenant.id, actor: actor(ctx, me.user), action: 'user.sessions.end', target: { type: 'user', id: me.user.id }, details: { ended, sessionId: id, self: true } });
    back(ctx, me.tenant, ended ? 'session-ended' : 'session-gone', 'sessions');
  });

  router.post('/account/sessions/end-others', async (ctx) => {
    const got = await act(ctx, 'sessions', false);
    if (!got) return;
    const { me } = got;
    const ended = await endOthers(me);
    await audit.record({ tenantId: me.tenant.id, actor: actor(ctx, me.user), action: 'user.sessions.end', target: { type: 'user', id: me.user.id }, details: { ended, others: true, self: true } });
    back(ctx, me.tenant, 'others-ended', 'sessions');
  });

  // ---- Password ---------------------------------------------------------------------------------

  router.post('/account/password', async (ctx) => {
    const got = await act(ctx, 'password', true);
    if (!got) return;
    const { me, body } = got;
    const problem = (errors: string[], status = 400) => show(ctx, me, status, { passwordErrors: errors });
    const password = field(body, 'password');
    if (!me.user.passwordHash) return problem(['Your account has no password here; it is managed elsewhere.'], 409);
    // The current password is checked like a sign-in: wrong guesses count towards the lockout.
    const decision = await deps.lockout.begin(me.tenant.id, me.user.id, ctx.ip, me.policy.lockout, me.policy.addressThrottle);
    if (!decision.allowed) return problem(['Too many wrong passwords. Wait a while, or ask your administrator.'], 429);
    if (!(await deps.hasher.verify(me.user.passwordHash, field(body, 'current')))) {
      await decision.attempt.failed();
      await audit.record({ tenantId: me.tenant.id, actor: actor(ctx, me.user), action: 'user.password.change', outcome: 'failure', target: { type: 'user', id: me.user.id }, details: { reason: 'wrong_current_password' } });
      return problem(['Your current password is not right.'], 401);
    }
    await decision.attempt.succeeded();
    if (password !== field(body, 'confirm')) return problem(['The two new passwords are not the same.']);
    try {
      await deps.passwords.set(me.user, me.policy, password, { actor: actor(ctx, me.user), action: 'user.password.change' });
    } catch (error) {
      if (error instanceof PasswordPolicyError) return problem((error.details?.issues as string[]) ?? [error.message]);
      throw error;
    }
    // Whoever else knew the old password is signed out; this browser stays signed in.
    await endOthers(me);
    back(ctx, me.tenant, 'password-changed', 'password');
  });

  // ---- Second factors -------------------------------------------------------------------------

  router.post('/account/factors/remove', async (ctx) => {
    const got = await act(ctx, 'factors', true);
    if (!got) return;
    const { me, body } = got;
    const factors = await deps.factors.confirmed(me.user.id);
    const factor = factors.find((f) => f.id === field(body, 'factor', 64));
    if (!factor) return show(ctx, me, 404, { factorError: 'That sign-in method is already gone.' });
    if (factors.length === 1 && policyRequiresMfa(me.policy, await loadAuthzSnapshot(storage, me.user))) {
      await audit.record({ tenantId: me.tenant.id, actor: actor(ctx, me.user), action: 'mfa.remove', outcome: 'failure', target: { type: 'user', id: me.user.id }, details: { type: factor.type, reason: 'last_required_factor' } });
      return show(ctx, me, 409, { factorError: 'Your organisation requires a second step. Add another method before removing this one.' });
    }
    await deps.factors.remove(me.tenant, me.user.id, factor.id, actor(ctx, me.user));
    if (factors.length === 1) await deps.factors.replaceRecoveryCodes(me.user, [], actor(ctx, me.user));
    back(ctx, me.tenant, 'factor-removed', 'factors');
  });

  router.post('/account/recovery-codes', async (ctx) => {
    const got = await act(ctx, 'factors', true);
    if (!got) return;
    const { me } = got;
    if (!(await deps.factors.confirmed(me.user.id)).length) return show(ctx, me, 409, { factorError: 'Set up a second step first.' });
    const codes = generateRecoveryCodes();
    await deps.factors.replaceRecoveryCodes(me.user, codes, actor(ctx, me.user));
    await show(ctx, me, 200, { newCodes: codes });
  });

  /** Adding an authenticator app: a QR code and its key, confirmed by a first code. */
  async function totpPage(ctx: Context, me: Me, status: number, data: Record<string, unknown> = {}) {
    const totp = await totpEnrolment(deps, me.tenant, me.user);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = render('enrol', {
      title: 'Add an authenticator app', tenant: me.tenant, base: home(me.tenant), csrf: csrfToken(csrfKey(me.tenant), me.session.uid),
      lead: 'Add an authenticator app as a way to confirm it is you.', cancelHref: `${home(me.tenant)}#factors`,
      totp, ...data,
    });
  }

  router.post('/account/totp', async (ctx) => {
    const got = await act(ctx, 'factors', true);
    if (got) await totpPage(ctx, got.me, 200);
  });

  router.post('/account/enrol', async (ctx) => {
    const got = await act(ctx, 'factors', true);
    if (!got) return;
    const { me, body } = got;
    if (field(body, 'method', 16) !== 'totp' || !me.policy.mfa.methods.includes('totp')) ctx.throw(400, 'That method is not offered here.');
    const decision = await deps.lockout.begin(me.tenant.id, me.user.id, ctx.ip, me.policy.lockout, me.policy.addressThrottle);
    if (!decision.allowed) return totpPage(ctx, me, 429, { error: 'Too many wrong codes. Wait a while, then try again.' });
    if (!(await confirmTotp(deps, me.user, field(body, 'code', 16), actor(ctx, me.user)))) {
      await decision.attempt.failed();
      await audit.record({ tenantId: me.tenant.id, actor: actor(ctx, me.user), action: 'mfa.enrol', outcome: 'failure', target: { type: 'user', id: me.user.id }, details: { type: 'totp', reason: 'not_confirmed' } });
      return totpPage(ctx, me, 401, { error: 'That code is not right. Try again.' });
    }
    await decision.attempt.succeeded();
    if ((await deps.factors.recoveryCodesLeft(me.user.id)) > 0) return back(ctx, me.tenant, 'factor-added', 'factors');
    const codes = generateRecoveryCodes();
    await deps.factors.replaceRecoveryCodes(me.user, codes, actor(ctx, me.user));
    await show(ctx, me, 200, { newCodes: codes, done: NOTICES['factor-added'] });
  });

  const kit = { whoAmI, act, signIn, actor, csrf: (me: { tenant: Tenant; session: { uid: string } }) => csrfToken(csrfKey(me.tenant), me.session.uid), accountPage: show };
  registerEmergencyRoutes(router, deps, kit);
  registerDelegationRoutes(router, deps, kit);
  registerApprovalRoutes(router, deps, kit);
}

const NOTICES: Record<string, string> = {
  'session-ended': 'The session was ended.',
  'session-gone': 'That session had already ended.',
  'others-ended': 'You are now signed out everywhere else.',
  'password-changed': 'Your password was changed. Your other sessions were ended.',
  'factor-removed': 'The sign-in method was removed.',
  'factor-added': 'Your authenticator app is set up.',
  'use-granted': 'You approved the emergency access. It has started, and the person has been told.',
  'use-pending': 'You approved the emergency access. It starts when the other approval it needs arrives.',
  'use-rejected': 'You denied the emergency access. Nothing was granted, and the person has been told.',
};
