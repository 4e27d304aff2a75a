// Security headers on every response (OWASP ASVS V3). The CSP allows only our own stylesheet and
// our own script files (the passkey helper): no inline script, no eval, nothing from elsewhere.
// Pages are never cached (they carry CSRF tokens, codes, secrets), unless a route says otherwise.
import type { Context, Next } from 'koa';

export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/** The console's page: the same, and it may call its own origin (the token endpoint, the admin API). */
export const CONSOLE_CSP = `${PAGE_CSP}; connect-src 'self'`;

export function koaSecurityHeaders({ https }: { https: boolean }) {
  return async (ctx: Context, next: Next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    ctx.set('Content-Security-Policy', PAGE_CSP);
    if (https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
    if (ctx.respond !== false && ctx.response.is('html') && !ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
  };
}
