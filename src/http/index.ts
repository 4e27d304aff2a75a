// What every HTTP surface shares: page rendering, security headers, body and URL checks, the error
// handler and the health endpoint.
export { createViews, viewsDir, type Render } from './views.ts';
export { CONSOLE_CSP, koaSecurityHeaders, PAGE_CSP, securityHeaders } from './koa-security-headers.ts';
export { koaSafeBody } from './koa-safe-body.ts';
export { hasEncodedNul, koaRefuseNulInUrl } from './koa-refuse-nul-in-url.ts';
export { koaErrorHandler } from './koa-error-handler.ts';
export { createStoreMonitor, healthHandler, livenessHandler, readinessHandler } from './health.ts';
export { listenError } from './listen-error.ts';
