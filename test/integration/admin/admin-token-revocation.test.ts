// Admin API tokens can be taken back: they are opaque tokens in the store every node shares, so the
// issuing client revokes (RFC 7009) and introspects (RFC 7662) them at the tenant's issuer, and a
// user's admin token stops when an admin ends the user's sessions or disables them — at once, on
// every node.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { describeWithSharedStores, startSecondNode, startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi, type ServiceClient } from '../../support/admin-api-client.ts';
import { createAgent, formOf, signIn } from '../../support/browser-agent.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const REDIRECT = 'https://console.example/cb';

let cg: TestCaregate;
let api: AdminApi;
/** An application that signs people in for the admin API (a console). */
let consoleApp: { clientId: string; clientSecret: string };

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const app = await cg.runtime.accounts.applications.create('demo', { name: 'Admin console', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], adminApi: true }, cli);
  consoleApp = { clientId: app.client_id, clientSecret: app.client_secret! };
});

afterAll(async () => cg?.close());

/** GET /users on `base` (another node's address in the multi-node tests) with `token`. */
async function listUsers(token: string, base = cg.baseUrl) {
  const res = await fetch(`${base}/admin/api/v1/t/demo/users`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() };
}

async function expectStopped(token: string, base?: string) {
  const reply = await listUsers(token, base);
  expect([reply.status, reply.challenge]).toEqual([401, 'Bearer realm="caregate-admin", error="invalid_token"']);
}

/**
 * Whether the console application, introspecting `token` at `base`'s token introspection endpoint,
 * is told it is active. Introspection keeps grants in process (src/oidc/adapter.ts), so these
 * checks also show that a change deleting grants reaches that cache.
 */
async function introspectsActive(token: string, base = cg.baseUrl): Promise<boolean> {
  const res = await fetch(`${base}/t/demo/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${consoleApp.clientId}:${consoleApp.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { active: boolean }).active;
}

/** Polls until `check` holds, for at most `seconds` (another node follows a change within its cache's sync interval). */
async function eventually(check: () => Promise<boolean>, seconds = 20): Promise<boolean> {
  for (const end = Date.now() + seconds * 1000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
  return check();
}

/**
 * A user's admin API token through the console: authorization code + PKCE for resource
 * {base}/admin/api with the `roles` scope. `offline` adds offline_access, whose tokens outlive the
 * sign-on session (oidc-provider binds the others to it), so only the grant can stop them.
 */
async function userAdminTokens(username: string, { offline = false } = {}) {
  const config = await oidc.discovery(new URL(cg.issuer()), consoleApp.clientId, consoleApp.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: offline ? 'openid roles offline_access' : 'openid roles', ...(offline ? { prompt: 'consent' } : {}), state: 's',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', resource: api.url,
  });
  const agent = createAgent();
  const page = await signIn(agent, url.href, username, PASSWORD, REDIRECT);
  // offline_access always asks the user (OIDC Core §11): approve on the consent page.
  const back = page.location?.startsWith(REDIRECT) ? page : await agent.follow(await agent.postForm(formOf(page).action, formOf(page).fields), REDIRECT);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' }, { resource: api.url });
  // The premise of the tests below: an offline token is not bound to the session (oidc-provider's expiresWithSession).
  const stored = await (await cg.runtime.providers.get('demo'))!.provider.AccessToken.find(tokens.access_token);
  expect(Boolean(stored?.expiresWithSession)).toBe(!offline);
  return { config, tokens };
}
const userAdminToken = async (username: string, options?: { offline?: boolean }) => (await userAdminTokens(username, options)).tokens.access_token;

let users = 0;
/** A new active user holding the admin role. */
async function adminUser(): Promise<string> {
  const username = `console-admin-${++users}`;
  await cg.runtime.accounts.users.create('demo', { username, password: PASSWORD }, [{ role: 'admin' }], cli);
  return username;
}

describe('a client-credentials admin token', () => {
  let client: ServiceClient;
  beforeAll(async () => {
    client = await api.serviceClient('demo', ['admin']);
  });

  it('is revoked at /t/demo/token/revocation (200), and the next admin call answers 401 invalid_token', async () => {
    const token = await api.token('demo', client);
    expect((await listUsers(token)).status).toBe(200);
    expect(await api.revoke(client, token)).toBe(200);
    await expectStopped(token);
  });

  it('is introspected by its own client: active with its permissions, audience and client; inactive once revoked', async () => {
    const token = await api.token('demo', client);
    const active = await api.introspect(client, token);
    expect(active).toMatchObject({ active: true, iss: cg.issuer(), aud: api.url, client_id: client.clientId, tenant: 'demo', token_type: 'Bearer' });
    expect(active.permissions).toEqual(expect.arrayContaining(['caregate.users:read', 'caregate.users:edit', 'caregate.audit:read']));
    expect(await api.revoke(client, token)).toBe(200);
    expect(await api.introspect(client, token)).toEqual({ active: false });
  });

  it('cannot be introspected or revoked by another client of the tenant (inactive to it; the token keeps working)', async () => {
    const token = await api.token('demo', client);
    const other = await api.serviceClient('demo', ['admin']);
    expect(await api.introspect(other, token)).toEqual({ active: false });
    // RFC 7009 §2.2: the endpoint answers 200 whatever it did; the token must still work.
    expect(await api.revoke(other, token)).toBe(200);
    expect((await listUsers(token)).status).toBe(200);
    expect((await api.introspect(client, token)).active).toBe(true);
  });

  it('is refused when bound to a DPoP key and presented as a plain bearer token (401)', async () => {
    const config = await oidc.discovery(new URL(cg.issuer()), client.clientId, client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
    const { access_token: token, token_type: type } = await oidc.clientCredentialsGrant(config, { resource: api.url }, { DPoP });
    expect(type.toLowerCase()).toBe('dpop');
    expect(await api.introspect(client, token)).toMatchObject({ active: true, cnf: { jkt: expect.any(String) } });
    await expectStopped(token);
  });
});

describe("a user's admin token (authorization code + PKCE)", () => {
  it('carries the permissions of the roles scope and works on the admin API, with the user as actor', async () => {
    const username = await adminUser();
    const token = await userAdminToken(username);
    const created = await fetch(`${api.url}/v1/t/demo/locations`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ key: `loc-${username}`, name: 'Made by a person' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await api.call('GET', `/users/${username}`)).body;
    const [event] = (await api.call('GET', '/audit?limit=1')).body.events;
    expect(event).toMatchObject({ action: 'location.create', actorType: 'user', actorId: id });
  });

  it("is revoked by its own application (200): the next admin call is 401, and the sign-in's refresh token goes with it", async () => {
    const { config, tokens } = await userAdminTokens(await adminUser(), { offline: true });
    expect((await listUsers(tokens.access_token)).status).toBe(200);
    expect(await api.revoke(consoleApp, tokens.access_token)).toBe(200);
    await expectStopped(tokens.access_token);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: api.url })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('stops — bound to the session or offline — when an admin ends all of the user\'s sessions', async () => {
    const username = await adminUser();
    const [bound, offline] = [await userAdminToken(username), await userAdminToken(username, { offline: true })];
    expect([(await listUsers(bound)).status, (await listUsers(offline)).status]).toEqual([200, 200]);
    // Introspected once before, so the offline token's grant is in the introspection cache.
    expect([await introspectsActive(bound), await introspectsActive(offline)]).toEqual([true, true]);
    expect((await api.call('DELETE', `/users/${username}/sessions`)).status).toBe(200);
    await expectStopped(bound);
    await expectStopped(offline);
    expect([await introspectsActive(bound), await introspectsActive(offline)]).toEqual([false, false]);
  });

  it('stops when the user is disabled, and stays stopped when they are enabled again', async () => {
    const username = await adminUser();
    const token = await userAdminToken(username, { offline: true });
    expect((await listUsers(token)).status).toBe(200);
    expect(await introspectsActive(token)).toBe(true);
    expect((await api.call('POST', `/users/${username}/disable`)).status).toBe(200);
    await expectStopped(token);
    expect(await introspectsActive(token)).toBe(false);
    expect((await api.call('POST', `/users/${username}/enable`)).status).toBe(200);
    await expectStopped(token);
    expect(await introspectsActive(token)).toBe(false);
  });
});

// Two nodes on one PostgreSQL and one Redis (production mode only: see describeWithSharedStores).
describeWithSharedStores('on two nodes', () => {
  let nodeB: TestCaregate;
  beforeAll(async () => {
    nodeB = await startSecondNode(cg);
  });
  afterAll(async () => nodeB?.close());

  it('a revocation on node A stops the token on node B', async () => {
    const client = await api.serviceClient('demo', ['admin']);
    const token = await api.token('demo', client);
    expect((await listUsers(token, nodeB.baseUrl)).status).toBe(200);
    expect(await api.revoke(client, token)).toBe(200);
    await expectStopped(token, nodeB.baseUrl);
  });

  it("ending a user's sessions on node A stops their admin token on node B", async () => {
    const username = await adminUser();
    const token = await userAdminToken(username, { offline: true });
    expect((await listUsers(token, nodeB.baseUrl)).status).toBe(200);
    expect(await introspectsActive(token, nodeB.baseUrl)).toBe(true);
    expect((await api.call('DELETE', `/users/${username}/sessions`)).status).toBe(200);
    await expectStopped(token, nodeB.baseUrl);
    // Node B's introspection cache follows within its claims cache's sync interval (a second).
    expect(await eventually(async () => !(await introspectsActive(token, nodeB.baseUrl)))).toBe(true);
  });
});
