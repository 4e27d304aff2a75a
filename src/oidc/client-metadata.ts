// Turns an application row into oidc-provider client metadata. Caregate-specific facts travel as
// extra metadata so the claims projection knows the requesting application's catalogue, and the
// client authentication check knows a rotated-out secret that still works.
import { createHash, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import { CONSOLE_CLIENT_ID, secretContext, type ClaimsCache } from '../accounts/index.ts';
import type { SealedBox } from '../security/index.ts';
import type { Application, Storage } from '../storage/index.ts';

export type ClientLoader = (clientId: string) => Promise<AdapterPayload | undefined>;

export const EXTRA_CLIENT_METADATA = [
  'caregate_app_id', 'caregate_resource', 'caregate_resources', 'caregate_require_consent', 'caregate_permissions', 'caregate_service_user',
  'caregate_previous_secret', 'caregate_previous_secret_expires_at',
];

const epoch = (date: Date) => Math.floor(date.getTime() / 1000);

/** The secret a rotation replaced, while its overlap lasts (seconds since the epoch for its end). */
function previousSecret(app: Application, box: SealedBox): AdapterPayload {
  if (!app.previousSecretSealed || !app.previousSecretExpiresAt || app.previousSecretExpiresAt <= new Date()) return {};
  return {
    caregate_previous_secret: box.open(app.previousSecretSealed, secretContext(app.clientId)),
    caregate_previous_secret_expires_at: epoch(app.previousSecretExpiresAt),
  };
}

/**
 * `adminResource` is the admin API's resource indicator, granted to applications marked adminApi.
 * A SAML service provider signs its users in through the code flow back to the tenant's
 * /saml/continue (the code is never redeemed), so it is a client with that one redirect URI added.
 */
export function toClientMetadata(app: Application, box: SealedBox, adminResource: string, issuer: string): AdapterPayload {
  const saml = app.saml !== null && app.saml !== undefined;
  const codeFlow = app.grantTypes.includes('authorization_code') || saml;
  return {
    client_id: app.clientId,
    client_name: app.name,
    ...(app.clientSecretSealed ? { client_secret: box.open(app.clientSecretSealed, secretContext(app.clientId)), ...previousSecret(app, box) } : {}),
    token_endpoint_auth_method: app.public ? 'none' : 'client_secret_basic',
    grant_types: saml && !app.grantTypes.includes('authorization_code') ? [...app.grantTypes, 'authorization_code'] : app.grantTypes,
    response_types: codeFlow ? ['code'] : [],
    redirect_uris: saml ? [...app.redirectUris, `${issuer}/saml/continue`] : app.redirectUris,
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    ...(app.idTokenSignedResponseAlg ? { id_token_signed_response_alg: app.idTokenSignedResponseAlg as 'ES256' | 'RS256' } : {}),
    ...(app.backchannelLogoutUri ? { backchannel_logout_uri: app.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    caregate_app_id: app.id,
    caregate_resource: app.resource,
    // The admin API only through the flag, whatever an older row says of resource or allowedResources.
    caregate_resources: [...new Set([app.resource, ...app.allowedResources].filter((r) => r !== adminResource).concat(app.adminApi ? [adminResource] : []))],
    caregate_require_consent: app.requireConsent,
    caregate_permissions: app.permissions,
    caregate_service_user: app.serviceUserId,
  };
}

/** Equal strings, in time that depends on neither (digests of both are compared). */
const sameSecret = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

interface SecretHolder {
  caregate_previous_secret?: string;
  caregate_previous_secret_expires_at?: number;
}

/** True when `actual` is the client's secret, or the one a rotation replaced while its overlap lasts (for endpoints outside oidc-provider). */
export function clientSecretMatches(client: SecretHolder & { client_secret?: string }, actual: string): boolean {
  if (typeof client.client_secret === 'string' && sameSecret(client.client_secret, actual)) return true;
  const { caregate_previous_secret: previous, caregate_previous_secret_expires_at: until } = client;
  return typeof previous === 'string' && typeof until === 'number' && Date.now() / 1000 < until && sameSecret(previous, actual);
}

/**
 * Lets a client authenticate (client_secret_basic or _post, at the token, introspection and
 * revocation endpoints) with its previous secret until that secret's overlap ends. oidc-provider
 * compares one secret, in `Client#compareClientSecret`, and offers no option for a second: this wraps
 * that method on the provider's own Client class (each provider has its own), asking the original
 * first. The end is checked here, not only when the metadata is built, because client metadata is
 * cached for up to a minute.
 */
export function acceptPreviousSecret(provider: Provider): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret(this: SecretHolder, actual: string): Promise<boolean> | boolean };
  const compareCurrent = prototype.compareClientSecret;
  prototype.compareClientSecret = async function compareClientSecret(actual) {
    if (await compareCurrent.call(this, actual)) return true;
    return clientSecretMatches({ caregate_previous_secret: this.caregate_previous_secret, caregate_previous_secret_expires_at: this.caregate_previous_secret_expires_at }, actual);
  };
}

/**
 * Caregate's own account page, a public client of every tenant. Registered applications get
 * 16-character client ids, so this 7-character one cannot collide with them.
 */
export const ACCOUNT_CLIENT_ID = 'account';

export function accountClient(issuer: string): AdapterPayload {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your account',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${issuer}/account/callback`],
    post_logout_redirect_uris: [`${issuer}/account`],
    caregate_app_id: null,
    caregate_resource: null,
    caregate_resources: [],
    caregate_require_consent: false,
    caregate_permissions: [],
    caregate_service_user: null,
  };
}

/**
 * The admin console (src/console), a public client of every tenant: authorization code with PKCE in
 * the browser, for an access token to the admin API — which then decides from the signed-in
 * person's live roles, as for any other caller.
 */
export function consoleClient(issuer: string, adminResource: string): AdapterPayload {
  return {
    ...accountClient(issuer),
    client_id: CONSOLE_CLIENT_ID,
    client_name: 'Caregate console',
    redirect_uris: [`${issuer}/admin/callback`],
    post_logout_redirect_uris: [`${issuer}/admin/signed-out`],
    caregate_resources: [adminResource],
  };
}

export function createClientLoader(storage: Storage, box: SealedBox, tenantId: string, claimsCache: ClaimsCache, adminResource: string, issuer: string): ClientLoader {
  return async (clientId) => {
    if (clientId === ACCOUNT_CLIENT_ID) return accountClient(issuer);
    if (clientId === CONSOLE_CLIENT_ID) return consoleClient(issuer, adminResource);
    if (clientId.length > 128) return undefined; // ours are 16 characters; never look up junk
    return claimsCache.get(tenantId, `client:${clientId}`, async () => {
      const app = await storage.applications.findOneBy({ tenantId, clientId });
      return app ? toClientMetadata(app, box, adminResource, issuer) : undefined;
    });
  };
}
