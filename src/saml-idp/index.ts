// Caregate as a SAML identity provider: the SSO, SLO and metadata endpoints of each tenant, built on
// the SAML toolkit (src/saml) and on the OIDC sign-in and session.
export { registerSamlRoutes } from './register-saml-routes.ts';
export type { SamlState } from './saml-kit.ts';
