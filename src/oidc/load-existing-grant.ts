// Applications registered by a tenant admin are trusted by the tenant: their users are not asked
// to consent, the grant simply covers what was requested. Applications marked `requireConsent`
// keep oidc-provider's behaviour and show the consent page.
import type { KoaContextWithOIDC } from 'oidc-provider';

const NOT_FOR_RESOURCES = new Set(['openid', 'offline_access']);

export async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { client, params, session, provider } = ctx.oidc;
  if (!client || !session?.accountId) return undefined;
  const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  if ((client as unknown as { caregate_require_consent?: boolean }).caregate_require_consent) return existing;

  const grant = existing ?? new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  const scope = String(params?.scope ?? '');
  grant.addOIDCScope(scope);
  const resources = params?.resource === undefined ? [] : ([] as unknown[]).concat(params.resource);
  const resourceScope = scope.split(' ').filter((s) => s && !NOT_FOR_RESOURCES.has(s)).join(' ');
  for (const resource of resources) grant.addResourceScope(String(resource), resourceScope);
  await grant.save();
  return grant;
}
