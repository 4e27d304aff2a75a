// Security headers on every response (OWASP ASVS V3). The CSP allows only our own stylesheet and
// our own script files (the passkey helper): no inline script, no eval, nothing from elsewhere.
// Pages are never cached (they carry CSRF tokens, codes, secrets), unless a route says otherwise.
import type { Context, Next } from 'koa';

export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/** The console's page: the same, and it may call its own origin (the token endpoint, the admin API). */
export const CONSOLE_CSP = `${PAGE_CSP}; connect-src 'self'`;

/** The headers every response carries, in the order they are set. */
export function securityHeaders({ https }: { https: boolean }): ReadonlyArray<readonly [string, string]> {
  return [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()'],
    ['Content-Security-Policy', PAGE_CSP],
    ...(https ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as const] : []),
  ];
}

export function koaSecurityHeaders(options: { https: boolean }) {
  const headers = securityHeaders(options);
  return async (ctx: Context, next: Next) => {
    for (const [name, value] of headers) ctx.set(name, value);
    await next();
    if (ctx.respond !== false && ctx.response.is('html') && !ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
  };
}
