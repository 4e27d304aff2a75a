// Login, consent and abort for oidc-provider interactions, at /t/{tenant}/interaction/{uid}.
// Each POST: check CSRF → load the interaction → act → hand the result back to the provider.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AuditWriter } from '../audit/index.ts';
import type { Render } from '../http/views.ts';
import type { PasswordHasher, SealedBox } from '../security/index.ts';
import type { Storage, Tenant } from '../storage/index.ts';
import { ACR } from '../oidc/index.ts';
import { csrfToken, csrfValid } from './csrf.ts';
import { passwordLogin } from './password-login.ts';

export interface InteractionDeps {
  storage: Storage;
  hasher: PasswordHasher;
  audit: AuditWriter;
  box: SealedBox;
  render: Render;
}

/** What the tenant middleware puts on ctx.state for every /t/{tenant} route. */
export interface TenantState {
  tenant: Tenant;
  provider: Provider;
}

const WRONG_CREDENTIALS = 'The username or password is incorrect.';
const SCOPE_TEXT: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'See your name and username',
  email: 'See your email address',
  phone: 'See your phone number',
  roles: 'See your roles and permissions',
  locations: 'See the locations where you work',
  institutions: 'See your institutions',
  teams: 'See your teams',
  offline_access: 'Stay signed in',
};

export function registerInteractionRoutes(router: Router<TenantState>, deps: InteractionDeps) {
  const { render, box, audit } = deps;
  const csrfKey = (tenant: Tenant) => box.derive(`csrf:${tenant.id}`);
  const base = (ctx: Context, uid: string) => `/t/${(ctx.state as TenantState).tenant.slug}/interaction/${uid}`;
  const actorOf = (ctx: Context) => ({ type: 'anonymous' as const, ip: ctx.ip, userAgent: ctx.get('user-agent') || null });

  async function details(ctx: Context) {
    const { provider } = ctx.state as TenantState;
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) ctx.throw(400, 'interaction mismatch');
    return interaction;
  }

  function page(ctx: Context, status: number, view: 'login' | 'consent', data: Record<string, unknown>) {
    const { tenant } = ctx.state as TenantState;
    const uid = ctx.params.uid as string;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = render(view, {
      tenant,
      csrf: csrfToken(csrfKey(tenant), uid),
      action: `${base(ctx, uid)}/${view === 'login' ? 'login' : 'confirm'}`,
      abortAction: `${base(ctx, uid)}/abort`,
      ...data,
    });
  }

  async function finish(ctx: Context, result: Record<string, unknown>) {
    const { provider } = ctx.state as TenantState;
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  /** Rejects a POST without this interaction's CSRF token (403, audited). */
  async function requireCsrf(ctx: Context) {
    const { tenant } = ctx.state as TenantState;
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    if (csrfValid(csrfKey(tenant), ctx.params.uid as string, body.csrf)) return body;
    await audit.record({ tenantId: tenant.id, actor: actorOf(ctx), action: 'interaction.csrf_rejected', outcome: 'failure', details: { path: ctx.path } });
    ctx.throw(403, 'This form has expired or was not sent by this site. Go back and try again.');
  }

  router.get('/interaction/:uid', async (ctx) => {
    const interaction = await details(ctx);
    const client = await ctx.state.provider.Client.find(String(interaction.params.client_id));
    if (interaction.prompt.name === 'login') {
      return page(ctx, 200, 'login', { title: 'Sign in', clientName: client?.clientName, username: interaction.params.login_hint });
    }
    const d = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
    const scopes = new Set([...(d.missingOIDCScope ?? []), ...Object.values(d.missingResourceScopes ?? {}).flat()]);
    page(ctx, 200, 'consent', { title: 'Allow access?', clientName: client?.clientName ?? 'An application', scopes: [...scopes].map((s) => SCOPE_TEXT[s] ?? s) });
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const body = await requireCsrf(ctx);
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'login') ctx.throw(400, 'This sign-in step is already complete.');
    const username = typeof body.username === 'string' ? body.username.trim().slice(0, 256) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const result = await passwordLogin(deps, ctx.state.tenant, username, password, actorOf(ctx));
    if (!result.ok) return page(ctx, 401, 'login', { title: 'Sign in', error: WRONG_CREDENTIALS, username });
    await finish(ctx, { login: { accountId: result.user.id, acr: ACR.password, amr: ['pwd'], remember: true } });
  });

  router.post('/interaction/:uid/confirm', async (ctx) => {
    await requireCsrf(ctx);
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'consent') ctx.throw(400, 'There is nothing to approve.');
    const { provider } = ctx.state;
    const accountId = interaction.session!.accountId;
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
    const d = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await audit.record({ tenantId: ctx.state.tenant.id, actor: { ...actorOf(ctx), type: 'user', id: accountId }, action: 'consent.grant', target: { type: 'application', id: String(interaction.params.client_id) }, details: d });
    await finish(ctx, { consent: { grantId } });
  });

  router.post('/interaction/:uid/abort', async (ctx) => {
    await requireCsrf(ctx);
    await details(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'The user cancelled the request.' });
  });
}
