// The development outbox, /t/{tenant}/dev/outbox: messages that had no sender (reset links,
// sign-in codes), for the person at this machine only. Anything that hints at another party in
// between hides it, since a reverse proxy on the same host would otherwise pass as loopback.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config/index.ts';
import type { InteractionDeps, TenantState } from './interaction-kit.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via'];

/** Only without any sender configured, never behind a proxy, and only from the socket's own loopback peer. */
function devOutboxAllowed(ctx: Context, config: Pick<Config, 'smtpUrl' | 'smsWebhookUrl' | 'trustProxy'>): boolean {
  if (config.smtpUrl || config.smsWebhookUrl || config.trustProxy) return false;
  if (PROXY_HEADERS.some((name) => ctx.get(name) !== '')) return false;
  // The socket's peer address, never one a header claims.
  return LOOPBACK.has(ctx.req.socket.remoteAddress ?? '');
}

export function registerDevOutboxRoute(router: Router<TenantState>, deps: Pick<InteractionDeps, 'config' | 'outbox' | 'render'>) {
  router.get('/dev/outbox', (ctx) => {
    if (!devOutboxAllowed(ctx, deps.config)) ctx.throw(404, 'There is nothing here.');
    ctx.type = 'html';
    ctx.body = deps.render('outbox', { tenant: ctx.state.tenant, title: 'Development outbox', messages: deps.outbox.list(ctx.state.tenant.slug).slice().reverse() });
  });
}
