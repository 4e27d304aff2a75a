export { registerInteractionRoutes, type InteractionDeps, type TenantState } from './register-interaction-routes.ts';
export { passwordLogin, type LoginResult } from './password-login.ts';
