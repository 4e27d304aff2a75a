// Back-channel logout (OIDC Back-Channel Logout 1.0): when a user signs out, every application of
// the session that registered a back-channel URI receives a signed logout token.
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { startBackchannelReceiver, type BackchannelReceiver } from '../support/backchannel-receiver.ts';
import { createAgent, formOf, signIn } from '../support/browser-agent.ts';

const REDIRECT = 'https://records.example/cb';
const PASSWORD = 'second-long-password-of-tests';
const cli = { type: 'cli' as const, id: 'test' };

let cg: TestCaregate;
let receiver: BackchannelReceiver;
let app: { client_id: string; client_secret?: string };

beforeAll(async () => {
  cg = await startTestCaregate();
  receiver = await startBackchannelReceiver();
  app = await cg.runtime.accounts.applications.create('demo', {
    name: 'Records',
    redirectUris: [REDIRECT],
    backchannelLogoutUri: receiver.url,
  }, cli);
  await cg.runtime.accounts.users.create('demo', { username: 'carol', password: PASSWORD }, [], cli);
});

afterAll(async () => {
  receiver?.close();
  await cg?.close();
});

it('sends a signed logout token with the session id to the application when the user signs out', async () => {
  const config = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
  const agent = createAgent();
  const back = await signIn(agent, url.href, 'carol', PASSWORD, REDIRECT);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
  const sid = tokens.claims()!.sid;
  expect(sid).toBeDefined();

  const confirm = await agent.follow(await agent.get(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }).href));
  const { action, fields } = formOf(confirm);
  await agent.follow(await agent.postForm(action, { ...fields, logout: 'yes' }));

  const received = await receiver.waitFor(1);
  expect(received).toHaveLength(1);
  const { payload, protectedHeader } = await jwtVerify(received[0]!, createRemoteJWKSet(new URL(`${cg.issuer()}/jwks`)), { issuer: cg.issuer(), audience: app.client_id });
  expect(protectedHeader.typ).toBe('logout+jwt');
  expect(payload.sid).toBe(sid);
  expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
});
