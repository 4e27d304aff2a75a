// The pages of an oidc-provider interaction, at /t/{tenant}/interaction/{uid}: sign-in (password
// or passkey), second factor and enrolment, password change, consent, and cancel. Each POST checks
// CSRF, loads the interaction, acts, and hands the result back to the provider.
import type Router from '@koa/router';
import { createInteractionKit, type InteractionDeps, type TenantState } from './interaction-kit.ts';
import { registerLoginRoutes } from './register-login-routes.ts';
import { registerMfaRoutes } from './register-mfa-routes.ts';
import { registerPasswordRoutes } from './register-password-routes.ts';
import { registerLinkRoutes } from './register-link-routes.ts';
import { registerAccountRoutes } from './register-account-routes.ts';
import { registerDevOutboxRoute } from './register-dev-outbox-route.ts';
import { createSignInStates } from './sign-in-state.ts';

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
  const kit = createInteractionKit(deps, createSignInStates(deps.ephemeral));
  registerLoginRoutes(router, kit);
  registerMfaRoutes(router, kit);
  registerPasswordRoutes(router, kit);
  registerLinkRoutes(router, deps);
  registerAccountRoutes(router, deps);
  registerDevOutboxRoute(router, deps);

  // Consent (only for applications registered with --require-consent).
  router.get('/interaction/:uid', async (ctx) => {
    const interaction = await kit.details(ctx);
    const client = await ctx.state.provider.Client.find(String(interaction.params.client_id));
    const d = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
    const scopes = new Set([...(d.missingOIDCScope ?? []), ...Object.values(d.missingResourceScopes ?? {}).flat()]);
    kit.page(ctx, 200, 'consent', { title: 'Allow access?', action: `${kit.base(ctx)}/confirm`, clientName: client?.clientName ?? 'An application', scopes: [...scopes].map((s) => SCOPE_TEXT[s] ?? s) });
  });

  router.post('/interaction/:uid/confirm', async (ctx) => {
    await kit.requireCsrf(ctx);
    const interaction = await kit.details(ctx);
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
    await deps.audit.record({ tenantId: ctx.state.tenant.id, actor: { ...kit.actorOf(ctx), type: 'user', id: accountId }, action: 'consent.grant', target: { type: 'application', id: String(interaction.params.client_id) }, details: d });
    await kit.finish(ctx, { consent: { grantId } });
  });

  router.post('/interaction/:uid/abort', async (ctx) => {
    await kit.requireCsrf(ctx);
    await kit.details(ctx);
    await kit.finish(ctx, { error: 'access_denied', error_description: 'The user cancelled the request.' });
  });
}
