// @caregate/client's online check() against a running Caregate: the same question as can(), asked
// of the decision endpoint with the application's credentials — and, unlike can() over a token
// already issued, answered "no" the moment the user is disabled.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { createAgent, signIn } from '../../support/browser-agent.ts';
import { can, CheckError, createChecker, createVerifier, type CaregateClaims, type Checker } from '../../../packages/client/src/index.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const REDIRECT = 'https://notes.example/cb';

let cg: TestCaregate;
let app: { client_id: string; client_secret: string; resource: string };
let checker: Checker;
let erin: string;

beforeAll(async () => {
  cg = await startTestCaregate();
  const { accounts } = cg.runtime;
  await accounts.locations.create('demo', { key: 'north', name: 'North' }, cli);
  await accounts.roles.create('demo', { key: 'note_taker', name: 'Note taker', permissions: ['notes:read', 'notes:edit:own', 'billing:charges:approve'], constraints: { 'billing:charges:approve': { maxAmount: 500 } } }, cli);
  app = (await accounts.applications.create('demo', { name: 'Notes', redirectUris: [REDIRECT], permissions: ['notes:read', 'notes:edit:own', 'billing:charges:approve'] }, cli)) as typeof app;
  erin = (await accounts.users.create('demo', { username: 'erin', password: PASSWORD }, [{ role: 'note_taker' }], cli)).id;
  checker = createChecker({ issuer: cg.issuer(), clientId: app.client_id, clientSecret: app.client_secret });
});

afterAll(async () => cg?.close());

describe('check()', () => {
  it('answers what can() answers: permissions, own records, constraints', async () => {
    expect(await checker.check(erin, 'notes:read')).toBe(true);
    expect(await checker.check(erin, 'notes:edit', { ownerId: erin })).toBe(true);
    expect(await checker.check(erin, 'notes:edit', { ownerId: 'someone-else' })).toBe(false);
    expect(await checker.check(erin, 'billing:charges:approve', { amount: 400 })).toBe(true);
    expect(await checker.check(erin, 'billing:charges:approve', { amount: 600 })).toBe(false);
    expect(await checker.decide(erin, 'billing:charges:approve', { amount: 600, resource: { type: 'charge', id: 'c-1' } })).toEqual({ decision: false, context: { reason: 'amount_over_limit' } });
  });

  it('says no once the user is disabled, while the token issued before still says yes offline', async () => {
    const config = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid roles', resource: app.resource, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const back = await signIn(createAgent(), url.href, 'erin', PASSWORD, REDIRECT);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' }, { resource: app.resource });
    const claims: CaregateClaims = await createVerifier({ issuer: cg.issuer(), audience: app.resource })(tokens.access_token);
    expect(can(claims, 'notes:read')).toBe(true);
    expect(await checker.check(claims, 'notes:read')).toBe(true);

    await cg.runtime.accounts.users.setStatus('demo', 'erin', 'disabled', cli);
    expect(can(claims, 'notes:read')).toBe(true);
    expect(await checker.check(claims, 'notes:read')).toBe(false);
    await cg.runtime.accounts.users.setStatus('demo', 'erin', 'active', cli);
  });

  it('throws CheckError for a question it may not ask, and for wrong credentials', async () => {
    await expect(checker.check(erin, 'billing:refunds:issue')).rejects.toMatchObject({ name: 'CheckError', status: 403, code: 'outside_catalogue' });
    const wrong = createChecker({ issuer: cg.issuer(), clientId: app.client_id, clientSecret: 'not-the-secret' });
    const error = await wrong.check(erin, 'notes:read').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_client' });
  });
});
