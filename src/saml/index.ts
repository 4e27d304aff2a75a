export { registerSamlRoutes } from './register-saml-routes.ts';
export type { SamlState } from './saml-kit.ts';
export { loadIdpKeys, type IdpKeys } from './idp-keys.ts';
export { samlSettingsSchema, type SamlSettings, type SamlSettingsInput } from './settings.ts';
export { SAML_LOGOUT_PATH, samlParticipantsOf } from './logout-hook.ts';
