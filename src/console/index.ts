export { registerConsoleRoutes } from './register-console-routes.ts';
export { loadConsoleAssets } from './console-assets.ts';
