// The tenant's SAML 2.0 IdP endpoints under /t/{tenant}/saml: metadata, SSO (Redirect and POST),
// IdP-initiated sign-in, the return from sign-in, Single Logout, and the OIDC logout hand-over.
import type Router from '@koa/router';
import type { InteractionDeps } from '../interactions/index.ts';
import { buildIdpMetadata, METADATA_VALIDITY_SECONDS } from '../saml/index.ts';
import { createSamlKit, type SamlState } from './saml-kit.ts';
import { createSlo } from './slo.ts';
import { createSso } from './sso.ts';

export function registerSamlRoutes(router: Router<SamlState>, deps: InteractionDeps) {
  const kit = createSamlKit(deps);
  const sso = createSso(kit);
  const slo = createSlo(kit);

  router.get('/saml/metadata', (ctx) => {
    const { tenant, samlKeys } = ctx.state;
    ctx.type = 'application/samlmetadata+xml';
    ctx.set('Cache-Control', `public, max-age=${Math.min(3600, METADATA_VALIDITY_SECONDS)}`);
    ctx.body = buildIdpMetadata(kit.issuer(tenant), { sso: kit.url(tenant, 'sso'), slo: kit.url(tenant, 'slo') }, samlKeys);
  });
  router.get('/saml/sso', (ctx) => sso.sso(ctx, 'redirect'));
  router.post('/saml/sso', (ctx) => sso.sso(ctx, 'post'));
  router.get('/saml/init', (ctx) => sso.idpInitiated(ctx));
  router.get('/saml/continue', (ctx) => sso.resume(ctx));
  router.get('/saml/slo', (ctx) => slo.slo(ctx, 'redirect'));
  router.post('/saml/slo', (ctx) => slo.slo(ctx, 'post'));
  router.post('/saml/logout', (ctx) => slo.oidcLogout(ctx));
  return kit;
}
