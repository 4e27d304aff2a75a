// Authenticates an application by client id and secret at an endpoint oidc-provider does not serve
// (the decision endpoint), by the provider's own rules: a confidential client, its secret or the one
// a rotation replaced while the overlap lasts. Clients are read through the claims cache like the
// provider's (the same entries), so a new secret or a deleted application holds here at once.
import type { ClaimsCache } from '../accounts/index.ts';
import type { Config } from '../config/index.ts';
import type { SealedBox } from '../security/index.ts';
import type { Storage, Tenant } from '../storage/index.ts';
import { clientSecretMatches, createClientLoader } from './client-metadata.ts';
import { adminResource, issuerOf } from './issuer.ts';

export interface AuthenticatedClient {
  clientId: string;
  /** The application's id: the projection target of its questions. */
  applicationId: string;
  /** Its permission catalogue (what its tokens may carry). */
  catalogue: string[];
}

export type ClientAuthentication = { ok: true; client: AuthenticatedClient } | { ok: false; reason: 'unknown_client' | 'public_client' | 'wrong_secret' };

export interface ClientAuthDeps {
  config: Config;
  storage: Storage;
  box: SealedBox;
  claimsCache: ClaimsCache;
}

export function createClientAuthenticator({ config, storage, box, claimsCache }: ClientAuthDeps, tenant: Tenant) {
  const clients = createClientLoader(storage, box, tenant.id, claimsCache, adminResource(config), issuerOf(config, tenant));
  return async function authenticateClient(clientId: string, secret: string): Promise<ClientAuthentication> {
    const client = (await clients(clientId)) as (Record<string, unknown> & { client_secret?: string }) | undefined;
    // Caregate's own public clients (the account page, the console) have no application id either.
    if (!client || typeof client.caregate_app_id !== 'string') return { ok: false, reason: 'unknown_client' };
    if (client.token_endpoint_auth_method === 'none' || typeof client.client_secret !== 'string') return { ok: false, reason: 'public_client' };
    if (!clientSecretMatches(client, secret)) return { ok: false, reason: 'wrong_secret' };
    return { ok: true, client: { clientId, applicationId: client.caregate_app_id, catalogue: (client.caregate_permissions as string[] | undefined) ?? [] } };
  };
}
export type ClientAuthenticator = ReturnType<typeof createClientAuthenticator>;
