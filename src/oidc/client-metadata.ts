// Turns an application row into oidc-provider client metadata. Caregate-specific facts travel as
// extra metadata so the claims projection knows the requesting application's catalogue.
import type { AdapterPayload } from 'oidc-provider';
import { secretContext, type DirectoryCache } from '../accounts/index.ts';
import type { SealedBox } from '../security/index.ts';
import type { Application, Storage } from '../storage/index.ts';

export type ClientLoader = (clientId: string) => Promise<AdapterPayload | undefined>;

export const EXTRA_CLIENT_METADATA = ['caregate_app_id', 'caregate_resource', 'caregate_resources', 'caregate_require_consent', 'caregate_permissions', 'caregate_service_user'];

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
    ...(app.clientSecretSealed ? { client_secret: box.open(app.clientSecretSealed, secretContext(app.clientId)) } : {}),
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

export function createClientLoader(storage: Storage, box: SealedBox, tenantId: string, directory: DirectoryCache, adminResource: string, issuer: string): ClientLoader {
  return async (clientId) => {
    if (clientId === ACCOUNT_CLIENT_ID) return accountClient(issuer);
    if (clientId.length > 128) return undefined; // ours are 16 characters; never look up junk
    return directory.get(tenantId, `client:${clientId}`, async () => {
      const app = await storage.applications.findOneBy({ tenantId, clientId });
      return app ? toClientMetadata(app, box, adminResource, issuer) : undefined;
    });
  };
}
