// The first factor: the sign-in page, password sign-in, and passwordless sign-in with a passkey.
// A session that must step up to a second factor (acr_values, tenant policy) skips the password.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { canSignIn } from '../accounts/index.ts';
import { queries } from '../storage/index.ts';
import { field, type InteractionKit, type TenantState } from './interaction-kit.ts';
import { passwordLogin } from './password-login.ts';
import { advance, loadPolicy } from './sign-in-flow.ts';
import { registerFederationRoutes } from './register-federation-routes.ts';
import { admitAddress } from './network-check.ts';

const WRONG_CREDENTIALS = 'The username or password is incorrect.';

export function registerLoginRoutes(router: Router<TenantState>, kit: InteractionKit) {
  const { deps } = kit;
  const federated = registerFederationRoutes(router, kit);

  /** The sign-in page, with a passkey option (discoverable credentials, no username needed). */
  async function loginPage(ctx: Context, status: number, data: Record<string, unknown>) {
    const { tenant } = ctx.state as TenantState;
    const policy = await loadPolicy(kit, tenant);
    const passkeys = policy.mfa.mode !== 'off' && policy.mfa.methods.includes('webauthn');
    const passkeyOptions = passkeys ? await deps.webauthn.authenticationOptions(kit.relyingParty(ctx), [], `${tenant.id}:${ctx.params.uid}:passkey`) : null;
    // "Sign in with …" buttons for the connections that show one.
    const connections = (await deps.federation.connections.all(tenant.id))
      .filter((c) => c.row.enabled && c.settings.button)
      .map((c) => ({ name: c.row.name, action: `${kit.base(ctx)}/federate/${c.row.key}` }));
    kit.page(ctx, status, 'login', { title: 'Sign in', passkeyOptions: passkeyOptions && JSON.stringify(passkeyOptions), forgotUrl: `/t/${tenant.slug}/forgot`, connections, ...data });
  }

  router.get('/interaction/:uid', async (ctx, next) => {
    const interaction = await kit.details(ctx);
    if (interaction.prompt.name !== 'login') return next(); // consent: served by the consent routes
    // Outside the tenant's network: say so before asking for anything.
    if (!(await admitAddress(kit, ctx))) return;
    const client = await ctx.state.provider.Client.find(String(interaction.params.client_id));
    const reasons = interaction.prompt.reasons;
    // Step-up: the session is good, only its second factor is missing — no password again.
    if (interaction.session?.accountId && reasons.length === 1 && reasons[0] === 'mfa_required') {
      const state = { userId: interaction.session.accountId, amr: interaction.session.amr ?? ['pwd'], mfa: false };
      return advance(kit, ctx, interaction, state);
    }
    // Home-realm discovery from the application's login_hint: straight to the user's organisation.
    const hint = typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : undefined;
    const home = hint ? await deps.federation.connections.forLogin(ctx.state.tenant.id, hint) : undefined;
    if (home && hint) return federated.toUpstream(ctx, home.row.key, hint);
    await loginPage(ctx, 200, { clientName: client?.clientName, username: hint });
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const body = await kit.requireCsrf(ctx);
    const interaction = await kit.details(ctx);
    if (interaction.prompt.name !== 'login') ctx.throw(400, 'This sign-in step is already complete.');
    const username = field(body, 'username', 256).trim();
    const password = field(body, 'password');
    // Home-realm discovery: an email at a domain a connection claims signs in there, not here.
    const home = await deps.federation.connections.forLogin(ctx.state.tenant.id, username);
    if (home) return federated.toUpstream(ctx, home.row.key, username);
    const policy = await loadPolicy(kit, ctx.state.tenant);
    const result = await passwordLogin({ ...deps, passwordAllowed: deps.federation.connections.passwordAllowed, directoryLogin: deps.ldap.login }, ctx.state.tenant, policy, username, password, kit.actorOf(ctx));
    if (!result.ok && result.reason === 'directory_unavailable') {
      return loginPage(ctx, 503, { error: 'Your organisation’s directory could not be reached to check your password. Try again in a few minutes.', username });
    }
    if (!result.ok && result.reason === 'address_throttled') {
      ctx.set('Retry-After', String(result.retryAfterSeconds ?? 60));
      const minutes = Math.max(1, Math.ceil((result.retryAfterSeconds ?? 60) / 60));
      return loginPage(ctx, 429, { error: `Too many failed sign-ins from your network. Try again in ${minutes} minute${minutes > 1 ? 's' : ''}.`, username });
    }
    if (!result.ok) return loginPage(ctx, 401, { error: WRONG_CREDENTIALS, username });
    await advance(kit, ctx, interaction, { userId: result.user.id, amr: ['pwd'], mfa: false }, result.user);
  });

  // Passwordless: a passkey with user verification is two factors in one (possession + PIN or biometric).
  router.post('/interaction/:uid/passkey', async (ctx) => {
    const body = await kit.requireCsrf(ctx);
    const interaction = await kit.details(ctx);
    if (interaction.prompt.name !== 'login') ctx.throw(400, 'This sign-in step is already complete.');
    const { tenant } = ctx.state;
    let response: unknown;
    try {
      response = JSON.parse(field(body, 'response', 65_536));
    } catch {
      response = null;
    }
    const verified = response === null ? null : (await deps.webauthn.verifyAuthentication(kit.relyingParty(ctx), `${tenant.id}:${ctx.params.uid}:passkey`, response, (id) => deps.factors.passkey(tenant.id, id)));
    const user = verified ? await deps.storage.users.findOneBy({ tenantId: tenant.id, id: verified.userId }) : null;
    const active = user && canSignIn(user);
    // A federated-only connection's users sign in upstream: no local credential, passkeys included.
    const local = active && (await deps.federation.connections.passwordAllowed(tenant.id, user.id));
    await deps.audit.record({
      tenantId: tenant.id, actor: { ...kit.actorOf(ctx), type: user ? 'user' : 'anonymous', id: user?.id ?? null },
      action: local ? 'login.success' : 'login.failure', outcome: local ? 'success' : 'failure', target: user ? { type: 'user', id: user.id } : undefined,
      details: { method: 'webauthn', ...(local ? {} : { reason: !verified ? 'passkey_rejected' : !active ? 'not_active' : 'federated_only' }) },
    });
    if (!verified || !local) return loginPage(ctx, 401, { error: 'That passkey could not be used to sign in here. Use your password instead.' });
    const factor = await deps.factors.passkey(tenant.id, verified.credentialId);
    if (factor) await deps.factors.used(factor.factorId, verified.newCounter);
    await queries.users.recordSignIn(deps.storage, user.id);
    await advance(kit, ctx, interaction, { userId: user.id, amr: verified.userVerified ? ['hwk', 'user', 'mfa'] : ['hwk'], mfa: verified.userVerified }, user);
  });
}
