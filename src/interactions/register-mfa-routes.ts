// The second factor: verifying one the user has (authenticator code, passkey, email or SMS code,
// recovery code), and enrolling one when the policy or the application requires it. Wrong codes
// count towards the account's lockout like wrong passwords.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { generateRecoveryCodes } from '../mfa/index.ts';
import type { MfaFactor, Tenant, User } from '../storage/index.ts';
import { field, type InteractionKit, type TenantState } from './interaction-kit.ts';
import { advance, loadPolicy, requireState } from './sign-in-flow.ts';
import { confirmTotp, totpEnrolment } from './totp-enrolment.ts';
import type { SignInState } from './sign-in-state.ts';

const AMR: Record<string, string> = { totp: 'otp', email: 'otp', sms: 'sms', recovery: 'otp', webauthn: 'hwk' };

export const maskEmail = (email: string) => email.replace(/^(.)[^@]*(@.*)$/, '$1•••$2');
export const maskPhone = (phone: string) => `•••• ${phone.slice(-2)}`;

export function registerMfaRoutes(router: Router<TenantState>, kit: InteractionKit) {
  const { deps } = kit;
  const flow = (ctx: Context, purpose: string) => `${(ctx.state as TenantState).tenant.id}:${ctx.params.uid}:${purpose}`;
  const codeKey = (user: User, channel: string) => `${user.tenantId}:${user.id}:${channel}`;

  async function userOf(ctx: Context, state: SignInState): Promise<User> {
    const user = await deps.storage.users.findOneBy({ tenantId: (ctx.state as TenantState).tenant.id, id: state.userId });
    if (!user) return ctx.throw(400, 'This sign-in can no longer continue. Start again.');
    return user;
  }

  /** Sends a one-time code by email or SMS (rate-limited per user and channel). */
  async function sendCode(ctx: Context, user: User, channel: 'email' | 'sms'): Promise<string | undefined> {
    const to = channel === 'email' ? user.email : user.phone;
    if (!to) return 'There is no address to send a code to.';
    const issued = await deps.codes.issue(codeKey(user, channel));
    if (!issued.ok) return `Too many codes sent. Try again in ${Math.ceil(issued.retryAfterSeconds / 60)} minutes.`;
    const { tenant } = ctx.state as TenantState;
    await deps.sender.send({
      channel, to, tenant: tenant.slug, subject: `${tenant.name} sign-in code`,
      text: `Your ${tenant.name} sign-in code is ${issued.code}. It expires in 10 minutes. If you did not try to sign in, tell your administrator.`,
    });
    await deps.audit.record({ tenantId: tenant.id, actor: { ...kit.actorOf(ctx), type: 'user', id: user.id }, action: 'mfa.code.send', target: { type: 'user', id: user.id }, details: { channel } });
    return undefined;
  }

  /** Checks one answer for a method; true when it proves the factor. */
  async function verify(ctx: Context, user: User, factors: MfaFactor[], method: string, body: Record<string, unknown>): Promise<boolean> {
    const code = field(body, 'code', 64).replace(/\s/g, '');
    switch (method) {
      case 'totp': {
        const factor = factors.find((f) => f.type === 'totp');
        if (!factor || !(await deps.totp.verify(deps.factors.totpSecret(factor), code, `${user.tenantId}:${factor.id}`))) return false;
        await deps.factors.used(factor.id);
        return true;
      }
      case 'email':
      case 'sms': {
        const factor = factors.find((f) => f.type === method);
        if (!factor || (await deps.codes.verify(codeKey(user, method), code)) !== 'ok') return false;
        await deps.factors.used(factor.id);
        return true;
      }
      case 'recovery': {
        const left = await deps.factors.useRecoveryCode(user.id, field(body, 'code', 64));
        if (left < 0) return false;
        await deps.audit.record({ tenantId: user.tenantId, actor: { ...kit.actorOf(ctx), type: 'user', id: user.id }, action: 'mfa.recovery_code.use', target: { type: 'user', id: user.id }, details: { left } });
        return true;
      }
      case 'webauthn': {
        let response: unknown = null;
        try { response = JSON.parse(field(body, 'response', 65_536)); } catch { /* refused below */ }
        const mine = (id: string) => deps.factors.passkey(user.tenantId, id).then((p) => (p?.userId === user.id ? p : undefined));
        const ok = response === null ? null : (await deps.webauthn.verifyAuthentication(kit.relyingParty(ctx), flow(ctx, 'mfa'), response, mine));
        if (!ok) return false;
        const factor = await deps.factors.passkey(user.tenantId, ok.credentialId);
        if (factor) await deps.factors.used(factor.factorId, ok.newCounter);
        return true;
      }
      default:
        return false;
    }
  }

  async function mfaPage(ctx: Context, user: User, status: number, data: Record<string, unknown> = {}) {
    const factors = await deps.factors.confirmed(user.id);
    const passkeys = factors.filter((f) => f.type === 'webauthn');
    const passkeyOptions = passkeys.length
      ? JSON.stringify(await deps.webauthn.authenticationOptions(kit.relyingParty(ctx), passkeys.map((f) => ({ credentialId: f.credentialId!, publicKey: f.data.publicKey, counter: f.data.counter, transports: f.data.transports })), flow(ctx, 'mfa')))
      : null;
    kit.page(ctx, status, 'mfa', {
      title: 'Confirm it is you',
      totp: factors.some((f) => f.type === 'totp'),
      email: factors.some((f) => f.type === 'email') && user.email ? maskEmail(user.email) : null,
      sms: factors.some((f) => f.type === 'sms') && user.phone ? maskPhone(user.phone) : null,
      recovery: (await deps.factors.recoveryCodesLeft(user.id)) > 0,
      passkeyOptions,
      sent: ctx.query.sent,
      ...data,
    });
  }

  router.get('/interaction/:uid/mfa', async (ctx) => {
    const state = await requireState(kit, ctx);
    if (state) await mfaPage(ctx, await userOf(ctx, state), 200);
  });

  /** POST …/{step}/send: a code by email or SMS, then back to the step's page showing the code field. */
  function registerSend(step: 'mfa' | 'enrol', page: typeof mfaPage, allowed: (ctx: Context, user: User, channel: 'email' | 'sms') => Promise<boolean>) {
    router.post(`/interaction/:uid/${step}/send`, async (ctx) => {
      const body = await kit.requireCsrf(ctx);
      const state = await requireState(kit, ctx);
      if (!state) return;
      const user = await userOf(ctx, state);
      const channel = field(body, 'method') === 'sms' ? 'sms' : 'email';
      const problem = (await allowed(ctx, user, channel)) ? await sendCode(ctx, user, channel) : 'That method is not set up.';
      if (problem) return page(ctx, user, 429, { error: problem });
      ctx.status = 303;
      ctx.redirect(`${kit.base(ctx)}/${step}?sent=${channel}`);
    });
  }
  registerSend('mfa', mfaPage, async (_ctx, user, channel) => (await deps.factors.confirmed(user.id)).some((f) => f.type === channel));

  /** What a second-factor or enrolment POST starts from (after CSRF), or undefined when there is no sign-in. */
  async function stepPost(ctx: Context) {
    const body = await kit.requireCsrf(ctx);
    const interaction = await kit.details(ctx);
    const state = await requireState(kit, ctx);
    if (!state) return undefined;
    const { tenant } = ctx.state as TenantState;
    return { body, interaction, state, tenant, user: await userOf(ctx, state), policy: await loadPolicy(kit, tenant), method: field(body, 'method', 16) };
  }

  router.post('/interaction/:uid/mfa', async (ctx) => {
    const step = await stepPost(ctx);
    if (!step) return;
    const { body, interaction, state, tenant, user, policy, method } = step;
    const decision = await deps.lockout.begin(tenant.id, user.id, ctx.ip, policy.lockout, policy.addressThrottle);
    if (!decision.allowed) {
      await auditMfa(ctx, tenant, user, method, false, decision.reason);
      return mfaPage(ctx, user, 429, { error: 'Too many wrong codes. Wait a while, or ask your administrator to unlock your account.' });
    }
    const ok = await verify(ctx, user, await deps.factors.confirmed(user.id), method, body);
    await auditMfa(ctx, tenant, user, method, ok, ok ? undefined : 'wrong_code');
    if (!ok) {
      await decision.attempt.failed();
      return mfaPage(ctx, user, 401, { error: 'That code is not right, or it was already used. Try again.', ...(method === 'email' || method === 'sms' ? { sent: method } : {}) });
    }
    await decision.attempt.succeeded();
    await advance(kit, ctx, interaction, { ...state, mfa: true, amr: [...state.amr, AMR[method]!, 'mfa'] });
  });

  function auditMfa(ctx: Context, tenant: Tenant, user: User, method: string, ok: boolean, reason?: string) {
    return deps.audit.record({
      tenantId: tenant.id, actor: { ...kit.actorOf(ctx), type: 'user', id: user.id }, action: ok ? 'login.mfa.success' : 'login.mfa.failure',
      outcome: ok ? 'success' : 'failure', target: { type: 'user', id: user.id }, details: { method: method.slice(0, 16), ...(reason ? { reason } : {}) },
    });
  }

  // ---- Enrolment ----------------------------------------------------------------------------

  async function enrolPage(ctx: Context, user: User, status: number, data: Record<string, unknown> = {}) {
    const { tenant } = ctx.state as TenantState;
    const policy = await loadPolicy(kit, tenant);
    const methods = policy.mfa.methods;
    let totp: { svg: string; secret: string } | null = null;
    if (methods.includes('totp')) totp = await totpEnrolment(deps, tenant, user);
    const existing = (await deps.factors.confirmed(user.id)).filter((f) => f.type === 'webauthn');
    const passkeyOptions = methods.includes('webauthn')
      ? JSON.stringify(await deps.webauthn.registrationOptions(kit.relyingParty(ctx), { id: user.id, username: user.username, displayName: user.displayName }, existing.map((f) => ({ credentialId: f.credentialId!, publicKey: f.data.publicKey, counter: f.data.counter })), flow(ctx, 'enrol')))
      : null;
    kit.page(ctx, status, 'enrol', {
      title: 'Set up two-step sign-in',
      totp,
      passkeyOptions,
      email: methods.includes('email') && user.email ? maskEmail(user.email) : null,
      sms: methods.includes('sms') && user.phone ? maskPhone(user.phone) : null,
      sent: ctx.query.sent,
      ...data,
    });
  }

  router.get('/interaction/:uid/enrol', async (ctx) => {
    const state = await requireState(kit, ctx);
    if (state) await enrolPage(ctx, await userOf(ctx, state), 200);
  });

  registerSend('enrol', enrolPage, async (ctx, _user, channel) => (await loadPolicy(kit, (ctx.state as TenantState).tenant)).mfa.methods.includes(channel));

  router.post('/interaction/:uid/enrol', async (ctx) => {
    const step = await stepPost(ctx);
    if (!step) return;
    const { body, interaction, state, tenant, user, policy, method } = step;
    const actor = { ...kit.actorOf(ctx), type: 'user' as const, id: user.id };
    if (!policy.mfa.methods.includes(method as never)) ctx.throw(400, 'That method is not offered here.');
    const decision = await deps.lockout.begin(tenant.id, user.id, ctx.ip, policy.lockout, policy.addressThrottle);
    if (!decision.allowed) return enrolPage(ctx, user, 429, { error: 'Too many wrong codes. Wait a while, then try again.' });
    let ok = false;
    const code = field(body, 'code', 16).replace(/\s/g, '');
    if (method === 'totp') {
      ok = await confirmTotp(deps, user, code, actor);
    } else if (method === 'email' || method === 'sms') {
      ok = (await deps.codes.verify(codeKey(user, method), code)) === 'ok';
      if (ok) await deps.factors.addContactFactor(user, method, actor);
    } else if (method === 'webauthn') {
      let response: unknown = null;
      try { response = JSON.parse(field(body, 'response', 65_536)); } catch { /* refused below */ }
      const passkey = response ? await deps.webauthn.verifyRegistration(kit.relyingParty(ctx), flow(ctx, 'enrol'), response) : null;
      if (passkey) await deps.factors.addPasskey(user, passkey, field(body, 'name', 100) || 'Passkey', actor);
      ok = !!passkey;
    }
    if (!ok) {
      await decision.attempt.failed();
      await deps.audit.record({ tenantId: tenant.id, actor, action: 'mfa.enrol', outcome: 'failure', target: { type: 'user', id: user.id }, details: { type: method.slice(0, 16), reason: 'not_confirmed' } });
      return enrolPage(ctx, user, 401, { error: method === 'webauthn' ? 'The passkey could not be registered. Try again.' : 'That code is not right. Try again.', ...(method === 'email' || method === 'sms' ? { sent: method } : {}) });
    }
    await decision.attempt.succeeded();
    const next: SignInState = { ...state, mfa: true, amr: [...state.amr, AMR[method]!, 'mfa'] };
    if ((await deps.factors.recoveryCodesLeft(user.id)) === 0) {
      next.recoveryCodes = generateRecoveryCodes();
      await deps.factors.replaceRecoveryCodes(user, next.recoveryCodes, actor);
    }
    await advance(kit, ctx, interaction, next);
  });

  router.get('/interaction/:uid/recovery-codes', async (ctx) => {
    const state = await requireState(kit, ctx);
    if (!state) return;
    kit.page(ctx, 200, 'recovery-codes', { title: 'Save your recovery codes', codes: state.recoveryCodes ?? [] });
  });

  router.post('/interaction/:uid/recovery-codes', async (ctx) => {
    await kit.requireCsrf(ctx);
    const interaction = await kit.details(ctx);
    const state = await requireState(kit, ctx);
    if (state) await advance(kit, ctx, interaction, { ...state, recoveryCodes: undefined });
  });
}
