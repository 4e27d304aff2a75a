// Who is asking: the application, by its client id and secret in HTTP Basic (client_secret_basic,
// RFC 6749 §2.3.1 — each part form-encoded). Checked before the body is read, so an anonymous
// caller costs no parse. Every failure is audited and answered 401 with a challenge naming the realm.
import type { Context, Next } from 'koa';
import type { AuditWriter } from '../audit/index.ts';
import type { AuthenticatedClient, ClientAuthenticator } from '../oidc/index.ts';
import type { Tenant } from '../storage/index.ts';
import { ClientAuthenticationError } from './access-errors.ts';

export interface AccessState {
  tenant: Tenant;
  client: AuthenticatedClient;
}

type Failure = 'no_credentials' | 'malformed_credentials' | 'unknown_client' | 'public_client' | 'wrong_secret';

const EXPLAIN: Record<Failure, string> = {
  no_credentials: "Authenticate as the application: HTTP Basic with its client id and secret.",
  malformed_credentials: 'The Authorization header is not HTTP Basic with a client id and secret.',
  unknown_client: 'Unknown client, or wrong client secret.',
  wrong_secret: 'Unknown client, or wrong client secret.',
  public_client: 'A public client has no secret to authenticate with; only confidential applications may ask.',
};

const formDecode = (part: string) => {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
};

/** Client id and secret from `Authorization: Basic …`, or why there are none. */
export function basicCredentials(header: string | undefined): { clientId: string; secret: string } | 'no_credentials' | 'malformed_credentials' {
  if (!header) return 'no_credentials';
  const match = /^Basic +([A-Za-z0-9+/]{1,1024}={0,2})$/i.exec(header.trim());
  if (!match) return 'malformed_credentials';
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const [clientId, secret] = colon < 1 ? [] : [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))];
  if (!clientId || !secret || clientId.includes('\u0000') || clientId.length > 128) return 'malformed_credentials';
  return { clientId, secret };
}

export function koaAuthenticateApplication(audit: AuditWriter, authenticatorOf: (tenant: Tenant) => ClientAuthenticator, realm: (tenant: Tenant) => string) {
  return async (ctx: Context, next: Next) => {
    const tenant = (ctx.state as AccessState).tenant;
    const credentials = basicCredentials(ctx.get('authorization') || undefined);
    const outcome = typeof credentials === 'string' ? { ok: false as const, reason: credentials } : await authenticatorOf(tenant)(credentials.clientId, credentials.secret);
    if (!outcome.ok) {
      const clientId = typeof credentials === 'string' ? null : credentials.clientId;
      await audit.record({
        tenantId: tenant.id,
        actor: { type: clientId ? 'client' : 'anonymous', id: clientId, ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 512) || null },
        action: 'access.unauthenticated', outcome: 'failure', details: { reason: outcome.reason, path: ctx.path },
      });
      ctx.set('WWW-Authenticate', `Basic realm="${realm(tenant)}", charset="UTF-8"`);
      throw new ClientAuthenticationError(EXPLAIN[outcome.reason]);
    }
    (ctx.state as AccessState).client = outcome.client;
    await next();
  };
}
