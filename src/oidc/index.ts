export { createProviderRegistry, type ProviderRegistry } from './provider-registry.ts';
export { createSigningKeys, checkMasterKey, type SigningKeys, SIGNING_ALGS } from './signing-keys.ts';
export { adminResource, issuerOf } from './issuer.ts';
export type { ProviderDeps } from './build-provider.ts';
export { SCOPE_CLAIMS, ACR, ACR_VALUES } from './scopes.ts';
export { ACCOUNT_CLIENT_ID } from './client-metadata.ts';
export { createClaimsSource, type ClaimsSource, type Issuance } from './find-account.ts';
export { samlParticipantsKey } from './saml-participants.ts';
export { createClientAuthenticator, type AuthenticatedClient, type ClientAuthentication, type ClientAuthenticator } from './authenticate-client.ts';
