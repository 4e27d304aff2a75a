export { registerInteractionRoutes } from './register-interaction-routes.ts';
export type { InteractionDeps, TenantState } from './interaction-kit.ts';
export { passwordLogin, type LoginResult, type PasswordLoginDeps } from './password-login.ts';
