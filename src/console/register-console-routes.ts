// The admin console at /t/{tenant}/admin: one page (views/console.eta) that loads the console's
// script (console/*.js, served at /console/…). The script signs the person in through the tenant's
// ordinary sign-in as Caregate's built-in `console` client (authorization code with PKCE), gets an
// access token for the admin API, and does everything through the admin API — so each action is
// the person's own, decided from their live roles at their scope, and audited as theirs. The page
// itself holds no data and no secret: any path below /admin answers it (the script routes).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { CONSOLE_CLIENT_ID, loadTenantPolicy } from '../accounts/index.ts';
import { adminResource } from '../oidc/index.ts';
import { CONSOLE_CSP } from '../http/index.ts';
import type { InteractionDeps, TenantState } from '../interactions/index.ts';

export function registerConsoleRoutes(router: Router<TenantState>, deps: InteractionDeps) {
  const page = async (ctx: Context & { state: TenantState }) => {
    const { tenant } = ctx.state;
    const policy = await loadTenantPolicy(deps, tenant.id);
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    ctx.type = 'html';
    ctx.body = deps.render('console', {
      tenant,
      issuer: `${deps.config.baseUrl}/t/${tenant.slug}`,
      api: `${deps.config.baseUrl}/admin/api/v1/t/${tenant.slug}`,
      resource: adminResource(deps.config),
      clientId: CONSOLE_CLIENT_ID,
      timeZone: policy.timeZone,
    });
  };
  router.get('/admin', page);
  router.get('/admin/*path', page);
}
