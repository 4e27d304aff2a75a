// The admin API token behind a bearer value: an opaque token the tenant's provider issued for the
// admin API and still holds. Tokens live in the ephemeral store every node shares, so a token
// revoked (RFC 7009), expired, or from another tenant is simply not found, on any node.
import type Provider from 'oidc-provider';

export interface AdminToken {
  clientId: string;
  /** The signed-in user of a user flow (authorization code); undefined for client credentials. */
  accountId?: string;
  /** The admin permissions projected when the token was issued (its stored `extra`). */
  permissions: string[];
}

/** Undefined unless the value is a live admin API token of this provider. */
export async function findAdminToken(provider: Provider, value: string, adminResource: string): Promise<AdminToken | undefined> {
  // A user flow stores an AccessToken, client credentials a ClientCredentials: one read each, in parallel.
  const [userToken, clientToken] = await Promise.all([provider.AccessToken.find(value), provider.ClientCredentials.find(value)]);
  const token = userToken ?? clientToken;
  if (!token?.clientId || token.isExpired || token.aud !== adminResource) return undefined;
  // A DPoP-bound token is not a bearer token: without its proof it is refused (RFC 9449 §7.1).
  if (token.isSenderConstrained()) return undefined;
  if (userToken) {
    // Ending a user's sessions, disabling them or revoking their token deletes the grant; a token
    // whose grant is gone stops at once (as oidc-provider's introspection judges it).
    const grant = userToken.grantId ? await provider.Grant.find(userToken.grantId) : undefined;
    if (!grant || grant.clientId !== userToken.clientId || grant.accountId !== userToken.accountId) return undefined;
  }
  // An application whose adminApi flag was cleared (PATCH /applications/{clientId}) stops reaching
  // the admin API at once, not when its tokens expire (client metadata comes from the claims cache).
  const client = (await provider.Client.find(token.clientId)) as unknown as { caregate_resources?: string[] } | undefined;
  if (!client?.caregate_resources?.includes(adminResource)) return undefined;
  const permissions = token.extra?.permissions;
  return {
    clientId: token.clientId,
    accountId: userToken?.accountId,
    permissions: Array.isArray(permissions) ? permissions.filter((p): p is string => typeof p === 'string') : [],
  };
}
