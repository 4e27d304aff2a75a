// Builds the oidc-provider instance of one tenant: its issuer, keys, adapter, claims and pages.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import { PAGE_CSP, type Render } from '../http/index.ts';
import type { SealedBox } from '../security/index.ts';
import type { Storage, Tenant } from '../storage/index.ts';
import { adminCatalogue, type ClaimsCache, type SessionIndex } from '../accounts/index.ts';
import { createAdapterFactory } from './adapter.ts';
import { adminResource, issuerOf } from './issuer.ts';
import { acceptPreviousSecret, createClientLoader, EXTRA_CLIENT_METADATA } from './client-metadata.ts';
import { createClaimsSource, createFindAccount, issuanceOf, type RequestNetwork } from './find-account.ts';
import { requestAddress } from './request-address.ts';
import type { AuditWriter } from '../audit/index.ts';
import { SCOPE_CLAIMS, SCOPE_OF_CLAIM, ACR_VALUES } from './scopes.ts';
import { loadExistingGrant } from './load-existing-grant.ts';
import { localSigningKeys, type PrivateJwk } from './local-signing-key.ts';
import { createInteractionPolicy } from './step-up-check.ts';
import { SAML_LOGOUT_PATH, samlParticipantsOf } from './saml-participants.ts';

export interface ProviderDeps {
  config: Config;
  storage: Storage;
  ephemeral: EphemeralStore;
  box: SealedBox;
  render: Render;
  claimsCache: ClaimsCache;
  sessions: SessionIndex;
  /** Records what network rules refuse at the token endpoints. */
  audit: AuditWriter;
}

/** The upper bound of the tenant policy's session limits (30 days). */
const MAX_SESSION_SECONDS = 2_592_000;


interface ResourceApp {
  applicationId: string | null;
  catalogue: string[];
}

export function buildProvider(deps: ProviderDeps, tenant: Tenant, jwks: { keys: PrivateJwk[] }): Provider {
  const { config, storage, ephemeral, box, render, claimsCache, sessions, audit } = deps;
  const issuer = issuerOf(config, tenant);
  const clients = createClientLoader(storage, box, tenant.id, claimsCache, adminResource(config), issuer);
  const claims = createClaimsSource(storage, tenant, claimsCache, audit);
  const secure = config.baseUrl.startsWith('https:');
  const network: RequestNetwork = {
    addressOf: (ctx) => requestAddress(ctx, sessions, tenant.id),
    // Audited where a token was asked for; a browser refused at the authorization endpoint is
    // shown the sign-in page's refusal, which audits it there.
    async refused(ctx, user, address) {
      if (ctx.oidc.route !== 'token' && ctx.oidc.route !== 'userinfo') return;
      await audit.record({
        tenantId: tenant.id, actor: { type: 'user', id: user.id, ip: ctx.ip, userAgent: ctx.get('user-agent') || null }, action: 'login.network_refused', outcome: 'failure',
        target: { type: 'user', id: user.id }, details: { stage: ctx.oidc.params?.grant_type ?? ctx.oidc.route, address: address ?? null, client: ctx.oidc.client?.clientId ?? null },
      });
    },
  };

  /** The application that owns a resource indicator: its API is the access token audience. */
  function resourceApp(resource: string): Promise<ResourceApp | undefined> {
    if (resource === adminResource(config)) return Promise.resolve({ applicationId: null, catalogue: adminCatalogue });
    return claimsCache.get(tenant.id, `resource:${resource}`, async () => {
      const app = await storage.applications.findOneBy({ tenantId: tenant.id, resource });
      return app ? { applicationId: app.id, catalogue: app.permissions } : undefined;
    });
  }

  /** The user a token for `ctx` speaks for: the signed-in account, or (client credentials) the application's service account. */
  function tokenSubject(ctx: KoaContextWithOIDC): string | null | undefined {
    if (ctx.oidc.account) return ctx.oidc.account.accountId;
    if (ctx.oidc.params?.grant_type !== 'client_credentials') return undefined;
    return (ctx.oidc.client as unknown as { caregate_service_user?: string | null } | undefined)?.caregate_service_user;
  }

  /**
   * The access token's lifetime: the configured TTL, capped at the moment its claims stop being
   * true (a window closing, an assignment or delegation ending — claimsValidUntil, the evaluation
   * that builds them), so a token never outlives what it was issued for. A refresh re-evaluates.
   */
  async function accessTokenLifetime(ctx: KoaContextWithOIDC, app: ResourceApp): Promise<number> {
    const userId = tokenSubject(ctx);
    const user = userId ? await claims.findActiveUser(userId) : undefined;
    const issuance = issuanceOf(ctx);
    const address = await network.addressOf(ctx);
    const until = !user ? null : issuance ? await claims.validUntilForIssue(issuance, user, app, address) : await claims.validUntil(user, app, address);
    if (!until) return config.accessTokenTtl;
    return Math.max(1, Math.min(config.accessTokenTtl, Math.floor((until.getTime() - Date.now()) / 1000)));
  }

  const configuration: Configuration = {
    adapter: createAdapterFactory({ tenantId: tenant.id, storage, ephemeral, clients, sessions, claimsCache }),
    jwks: { keys: localSigningKeys(jwks.keys) },
    findAccount: createFindAccount(claims, network),
    // Standalone claims (null) are always available; the rest are requested by scope.
    claims: { acr: null, amr: null, auth_time: null, sid: null, iss: null, ...SCOPE_CLAIMS },
    acrValues: ACR_VALUES,
    conformIdTokenClaims: false,
    loadExistingGrant,
    responseTypes: ['code'],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    allowOmittingSingleRegisteredRedirectUri: false,
    extraClientMetadata: { properties: EXTRA_CLIENT_METADATA },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256'],
    },
    clientDefaults: { id_token_signed_response_alg: config.signingAlg, grant_types: ['authorization_code'], response_types: ['code'] },
    cookies: {
      // Per-tenant names: a session with one tenant never displaces the session with another.
      names: { session: `_session.${tenant.slug}`, interaction: `_interaction.${tenant.slug}`, resume: `_resume.${tenant.slug}` },
      keys: [box.derive(`cookies:${tenant.id}`).toString('base64url')],
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure },
    },
    ttl: {
      // An access token for an application's API lives no longer than the claims it carries: its
      // resource server's TTL is capped by getResourceServerInfo below (accessTokenLifetime).
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
      IdToken: config.idTokenTtl,
      RefreshToken: config.refreshTokenTtl,
      Grant: config.refreshTokenTtl,
      // The longest any policy allows: each session's own limits (tenant policy, the user's roles)
      // are applied by the adapter, which keeps it in the store only as long as they allow.
      Session: MAX_SESSION_SECONDS,
      Interaction: 3600,
      AuthorizationCode: 60,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // The signing keys are ExternalSigningKeys (local-signing-key.ts): signed with node:crypto.
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      // A client may introspect or revoke only the tokens issued to it.
      introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.set('Content-Security-Policy', PAGE_CSP);
          // With SAML applications in the session, "Sign out" first signs out of each of them.
          const saml = await samlParticipantsOf(ephemeral, tenant.id, ctx.oidc.session?.uid);
          ctx.body = render('logout', { tenant, form, title: 'Sign out', samlLogout: saml ? `${issuer}${SAML_LOGOUT_PATH}` : null });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.set('Content-Security-Policy', PAGE_CSP);
          ctx.body = render('logged-out', { tenant, title: 'Signed out', clientName: ctx.oidc.client?.clientName });
        },
      },
      resourceIndicators: {
        enabled: true,
        // Client credentials without `resource` get a token for the client's own API; user flows
        // without `resource` get an (opaque) token for the userinfo endpoint.
        defaultResource: async (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          if (ctx.oidc.params?.grant_type !== 'client_credentials') return undefined;
          return (client as unknown as { caregate_resource?: string }).caregate_resource;
        },
        useGrantedResource: async () => false,
        // An application may ask only for its own API, the APIs it was allowed, and the admin
        // API if it was registered for it — never silently for any API of the tenant.
        getResourceServerInfo: async (ctx, resource, client) => {
          const allowed = (client as unknown as { caregate_resources?: string[] }).caregate_resources ?? [];
          if (!allowed.includes(resource)) throw new errors.InvalidTarget('this application may not request tokens for that resource');
          const app = await resourceApp(resource);
          if (!app) throw new errors.InvalidTarget('unknown resource indicator');
          const scope = Object.keys(SCOPE_CLAIMS).filter((s) => s !== 'openid').join(' ');
          // Admin API tokens are opaque: they live in the shared ephemeral store, so a revocation
          // (RFC 7009) or the end of their grant stops them on every node at once, and the issuing
          // client can introspect them (RFC 7662). Application APIs verify JWTs offline.
          const accessTokenTTL = await accessTokenLifetime(ctx, app);
          if (resource === adminResource(config)) return { scope, audience: resource, accessTokenTTL, accessTokenFormat: 'opaque' };
          return { scope, audience: resource, accessTokenTTL, accessTokenFormat: 'jwt', jwt: { sign: { alg: config.signingAlg } } };
        },
      },
    },
    // Access tokens carry the tenant and the claims projected for the resource's application: in
    // the JWT, or (admin API) stored with the opaque token as its `extra`, which introspection shows.
    extraTokenClaims: async (ctx, token) => {
      const { resourceServer, accountId, scope } = token as { resourceServer?: { audience?: string }; accountId?: string; scope?: string };
      if (!resourceServer?.audience) return undefined;
      const app = await resourceApp(resourceServer.audience);
      if (!app) return undefined;
      // Client credentials: the claims of the application's service account.
      const userId = accountId ?? (ctx.oidc.client as unknown as { caregate_service_user?: string | null } | undefined)?.caregate_service_user;
      const user = userId ? await claims.findActiveUser(userId) : undefined;
      if (!user) return { tenant: tenant.slug, tenant_id: tenant.id };
      const issuance = issuanceOf(ctx);
      const address = await network.addressOf(ctx);
      const projected = issuance ? await claims.forIssue(issuance, user, app, address) : await claims.forUser(user, app, address);
      // Service accounts always carry their permissions; user tokens carry the claims of the
      // scopes they were granted.
      if (!accountId) return projected;
      const granted = new Set(String(scope ?? '').split(' '));
      return Object.fromEntries(Object.entries(projected).filter(([name]) => name === 'tenant' || name === 'tenant_id' || granted.has(SCOPE_OF_CLAIM[name] ?? '')));
    },
    interactions: {
      policy: createInteractionPolicy(storage, claimsCache, tenant),
      url: (_ctx: KoaContextWithOIDC, interaction) => `/t/${tenant.slug}/interaction/${interaction.uid}`,
    },
    renderError: async (ctx, out) => {
      ctx.set('Content-Security-Policy', PAGE_CSP);
      ctx.type = 'html';
      ctx.body = render('error', { tenant, title: 'Sign-in problem', error: out.error, description: out.error_description });
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = config.trustProxy;
  acceptPreviousSecret(provider);
  return provider;
}
