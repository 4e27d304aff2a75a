// What a tenant's oidc-provider does, from its own events rather than wrappers around its handlers:
// token endpoint grants by grant type and outcome, tokens and codes issued by kind, and the
// server errors it otherwise answers with a bare 500 and never logs.
import type Provider from 'oidc-provider';
import type { Logger } from '../logger.ts';
import type { Metrics } from './metrics.ts';

type OidcContext = { oidc?: { params?: Record<string, unknown>; route?: string } };

const ISSUED = ['access_token', 'client_credentials', 'refresh_token', 'authorization_code'] as const;

export function observeProvider(log: Logger, metrics?: Metrics): (provider: Provider) => void {
  return (provider) => {
    if (metrics) {
      provider.on('grant.success', (ctx: OidcContext) => metrics.tokenRequest(ctx.oidc?.params?.grant_type, 'success'));
      provider.on('grant.error', (ctx: OidcContext, error: { error?: string }) => metrics.tokenRequest(ctx.oidc?.params?.grant_type, 'failure', error.error));
      // Opaque tokens are saved; JWT access tokens are issued without being stored.
      const on = provider.on.bind(provider) as (event: string, listener: () => void) => unknown;
      for (const kind of ISSUED) {
        on(`${kind}.saved`, () => metrics.tokenIssued(kind));
        on(`${kind}.issued`, () => metrics.tokenIssued(kind));
      }
    }
    provider.on('server_error', (ctx: OidcContext, error: Error) => log.error('OpenID request failed', { endpoint: ctx.oidc?.route, error }));
  };
}
