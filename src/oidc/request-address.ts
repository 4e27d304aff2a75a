// The client address a token is issued to, which network rules are read against (issue 18).
// A code exchange is made by the application (often its server), so there the address is the
// browser's that signed in: the one its sign-on session was last used from — the authorization
// request that produced the code. Every other request (refresh, userinfo, the authorization
// endpoint itself) is judged by its own caller's address.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SessionIndex } from '../accounts/index.ts';

const memo = new WeakMap<object, Promise<string | undefined>>();

/** The address (undefined when unknown: outside every range) for the request `ctx` serves. */
export function requestAddress(ctx: KoaContextWithOIDC, sessions: SessionIndex, tenantId: string): Promise<string | undefined> {
  let found = memo.get(ctx);
  if (!found) memo.set(ctx, (found = resolve(ctx, sessions, tenantId)));
  return found;
}

async function resolve(ctx: KoaContextWithOIDC, sessions: SessionIndex, tenantId: string): Promise<string | undefined> {
  const code = ctx.oidc?.entities?.AuthorizationCode as { sessionUid?: string } | undefined;
  if (!code) return ctx.ip;
  const session = code.sessionUid ? await ctx.oidc.provider.Session.findByUid(code.sessionUid) : undefined;
  return session ? ((await sessions.device(tenantId, session.jti))?.ip ?? undefined) : undefined;
}
