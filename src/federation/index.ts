// Federation with corporate identity providers (Okta, Entra ID, Google Workspace, any OIDC or SAML
// IdP): connections, the sign-in round trip, and the connection's own URLs.
export { createFederation, type Federation, type FederationDeps } from './federation.ts';
export { registerFederationRoutes, type FederationState } from './register-federation-routes.ts';
export { connectionSettings, connectionRequest, PRESETS, type ConnectionInput } from './connection-settings.ts';
export type { ConnectionService, PublicConnection, LoadedConnection } from './connection-service.ts';
