// A person's tokens for an application's API, as the application gets them: authorization code +
// PKCE through the login page for the API's resource indicator (so the access token is a JWT with
// the projected claims), then refreshes. `claimsOf` reads a JWT's payload (the tests trust the
// issuer they just called; relying parties verify, see @caregate/client).
import * as oidc from 'openid-client';
import type { TestCaregate } from './caregate.ts';
import { createAgent, formOf, signIn } from './browser-agent.ts';

export interface AppClient {
  client_id: string;
  client_secret?: string;
  redirect: string;
  resource: string;
}

export async function appTokens(cg: TestCaregate, app: AppClient, username: string, password: string, scope = 'openid roles locations offline_access') {
  const config = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: app.redirect, scope, prompt: 'consent', state: 's', resource: app.resource,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const agent = createAgent();
  let back = await signIn(agent, url.href, username, password, app.redirect);
  if (!back.location?.startsWith(app.redirect)) {
    // offline_access asks the person (OIDC Core §11): approve on the consent page.
    const form = formOf(back);
    back = await agent.follow(await agent.postForm(form.action, form.fields), app.redirect);
  }
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' }, { resource: app.resource });
  return {
    tokens,
    refresh: (refreshToken = tokens.refresh_token!) => oidc.refreshTokenGrant(config, refreshToken, { resource: app.resource }),
  };
}

export function claimsOf(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
}
