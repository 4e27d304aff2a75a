export { registerAdminApi } from './register-admin-api.ts';
export { buildOpenApi } from './openapi.ts';
