// A real relying party (openid-client) against a running Caregate: discovery, authorization code +
// PKCE through the login form, tokens verified with jose against the published JWKS, userinfo,
// refresh rotation, revocation, introspection and logout.
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, formOf, signIn } from '../support/browser-agent.ts';
import { createClinicDirectory, NURSE_ROLES } from '../support/clinic-directory.ts';

const REDIRECT = 'https://chart.example/cb';
const RESOURCE = 'https://chart.example/api';
const PASSWORD = 'first-long-password-of-tests';
const cli = { type: 'cli' as const, id: 'test' };

let cg: TestCaregate;
let chart: { client_id: string; client_secret?: string };
let aliceId: string;

beforeAll(async () => {
  cg = await startTestCaregate();
  const a = cg.runtime.accounts;
  await createClinicDirectory(cg);
  chart = await a.applications.create('demo', {
    name: 'Chart',
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: ['https://chart.example/bye'],
    resource: RESOURCE,
    permissions: ['patients:read', 'notes:create', 'notes:edit', 'schedule:create', 'reports:read'],
  }, cli);
  const alice = await a.users.create('demo', { username: 'alice', email: 'alice@clinic.example', displayName: 'Alice Nurse', password: PASSWORD, phiAccess: true }, NURSE_ROLES, cli);
  aliceId = alice.id;
  await a.teamMembers.add('demo', 'study-coordinators', alice.id, cli);
});

afterAll(async () => cg?.close());

async function discover() {
  return oidc.discovery(new URL(cg.issuer()), chart.client_id, chart.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
}

/** Runs the code flow through the login form; returns the token response. */
async function codeFlow(config: oidc.Configuration, agent = createAgent(), params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid profile email roles locations institutions teams',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    resource: RESOURCE,
    ...params,
  });
  const back = await signIn(agent, url.href, 'alice', PASSWORD, REDIRECT);
  expect(back.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, { resource: RESOURCE });
  return { tokens, agent };
}

describe('discovery and keys', () => {
  it('publishes a per-tenant issuer with S256 PKCE, code flow only, and current + next keys for ES256 and RS256', async () => {
    const meta = (await discover()).serverMetadata();
    expect(meta.issuer).toBe(cg.issuer());
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    const jwks = (await (await fetch(meta.jwks_uri!)).json()) as { keys: Array<{ alg: string; d?: string }> };
    expect(jwks.keys.filter((k) => k.alg === 'ES256')).toHaveLength(2);
    expect(jwks.keys.filter((k) => k.alg === 'RS256')).toHaveLength(2);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });
});

describe('authorization code + PKCE through the login form', () => {
  it('issues ID and access tokens whose claims carry tenant, roles, permissions, locations, institutions and teams', async () => {
    const config = await discover();
    const { tokens } = await codeFlow(config);
    const jwks = createRemoteJWKSet(new URL(`${cg.issuer()}/jwks`));

    const { payload: id, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: cg.issuer(), audience: chart.client_id });
    expect(protectedHeader.alg).toBe('ES256');
    const tenant = await cg.runtime.accounts.tenants.findBySlug('demo');
    expect(id).toMatchObject({
      sub: aliceId,
      tenant: 'demo',
      tenant_id: tenant!.id,
      preferred_username: 'alice',
      email: 'alice@clinic.example',
      roles: ['customizer', 'report_viewer'],
      permissions: ['reports:read'],
      locations: { 'region-east': ['provider'], 'loc-north': ['provider'], 'loc-south': ['front_desk', 'provider'] },
      location_permissions: { 'loc-south': ['notes:create', 'notes:edit:own', 'patients:read', 'schedule:create'] },
      institutions: ['site-boston'],
      teams: ['everyone', 'study-coordinators'],
      phi: true,
      amr: ['pwd'],
      acr: 'urn:caregate:acr:pwd',
    });

    const { payload: at, protectedHeader: atHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: cg.issuer(), audience: RESOURCE });
    expect(atHeader.typ).toBe('at+jwt');
    expect(at).toMatchObject({ sub: aliceId, tenant: 'demo', permissions: ['reports:read'], institutions: ['site-boston'], phi: true });
    expect((at.location_permissions as Record<string, string[]>)['loc-north']).toEqual(['notes:create', 'notes:edit:own', 'patients:read']);
  });

  it('rotates refresh tokens: a used refresh token is refused, its successor works, and userinfo answers', async () => {
    const config = await discover();
    const { tokens } = await codeFlow(config);
    const first = tokens.refresh_token!;
    const second = await oidc.refreshTokenGrant(config, first);
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(first);
    await expect(oidc.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Reuse of a rotated token revokes the whole grant (RFC 9700 §4.14.2).
    await expect(oidc.refreshTokenGrant(config, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it("refuses a user flow asking for another application's API or the admin API (invalid_target)", async () => {
    const config = await discover();
    for (const resource of [`${cg.baseUrl}/admin/api`, 'urn:caregate:app:someone-else']) {
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 's', resource });
      const res = await fetch(url, { redirect: 'manual' });
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
    }
  });

  it('reflects a role assigned after sign-in in the next token (claims are decided at issue time)', async () => {
    const config = await discover();
    const { tokens } = await codeFlow(config);
    expect(decodeJwt(tokens.access_token).roles).toEqual(['customizer', 'report_viewer']);
    const assignment = await cg.runtime.accounts.assignments.assign('demo', { userId: aliceId }, { role: 'manager' }, cli);
    try {
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: RESOURCE });
      expect(decodeJwt(refreshed.access_token).roles).toEqual(['customizer', 'manager', 'report_viewer']);
    } finally {
      await cg.runtime.accounts.assignments.remove('demo', assignment.id, cli);
    }
  });

  it('lets only one of two simultaneous redemptions of a refresh token succeed (no forked token family)', async () => {
    const config = await discover();
    const { tokens } = await codeFlow(config);
    const results = await Promise.allSettled([0, 1, 2].map(() => oidc.refreshTokenGrant(config, tokens.refresh_token!)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.error)).toEqual(['invalid_grant', 'invalid_grant']);
  });

  /** Signs alice in and stops at the callback: the code, and a function that redeems it. */
  async function codeToRedeem(config: oidc.Configuration) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, resource: RESOURCE });
    const callback = new URL((await signIn(createAgent(), url.href, 'alice', PASSWORD, REDIRECT)).location!);
    return () => oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource: RESOURCE });
  }

  it('refuses an authorization code redeemed again, and revokes what its first redemption issued', async () => {
    const config = await discover();
    const redeem = await codeToRedeem(config);
    const first = await redeem();
    await expect(redeem()).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('lets only one of two simultaneous redemptions of an authorization code succeed', async () => {
    const redeem = await codeToRedeem(await discover());
    const results = await Promise.allSettled([0, 1, 2].map(() => redeem()));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.error)).toEqual(['invalid_grant', 'invalid_grant']);
  });

  it('answers userinfo with an opaque token and introspects it', async () => {
    const config = await discover();
    const { tokens } = await codeFlow(config);
    // Without `resource`, the refreshed access token is for the userinfo endpoint.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    const info = await oidc.fetchUserInfo(config, refreshed.access_token, aliceId);
    expect(info).toMatchObject({ sub: aliceId, tenant: 'demo', roles: ['customizer', 'report_viewer'], teams: ['everyone', 'study-coordinators'] });
    const introspection = await oidc.tokenIntrospection(config, refreshed.access_token);
    expect(introspection).toMatchObject({ active: true, sub: aliceId, client_id: chart.client_id });
  });

  it('revokes a refresh token so it cannot be redeemed', async () => {
    const config = await discover();
    const { tokens } = await codeFlow(config);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('keeps the sign-on session: a second authorization needs no password', async () => {
    const config = await discover();
    const { agent } = await codeFlow(config);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const back = await agent.follow(await agent.get(url.href), REDIRECT);
    expect(back.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
  });

  it('ends the session on RP-initiated logout, so the next authorization asks for the password again', async () => {
    const config = await discover();
    const { tokens, agent } = await codeFlow(config);
    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://chart.example/bye' });
    const confirm = await agent.follow(await agent.get(logout.href));
    expect(confirm.html).toContain('sign out');
    const { action, fields } = formOf(confirm);
    const done = await agent.postForm(action, { ...fields, logout: 'yes' });
    const end = await agent.follow(done, 'https://chart.example/bye');
    expect(end.location).toBe('https://chart.example/bye');
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const again = await agent.follow(await agent.get(url.href), REDIRECT);
    expect(again.html).toContain('name="password"');
  });
});

describe('switching accounts', () => {
  it("signs in another user with prompt=login on the first try: the second user's password, the automatic sign-out of the first, then a code for the second", async () => {
    const config = await discover();
    const { agent } = await codeFlow(config);
    const carl = await cg.runtime.accounts.users.create('demo', { username: 'carl', password: PASSWORD }, [], cli);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', prompt: 'login', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const login = await agent.follow(await agent.get(url.href), REDIRECT);
    expect(login.html).toContain('name="password"');
    const { action, fields } = formOf(login);
    // oidc-provider first signs alice out, through a page that posts itself to the end-session endpoint.
    const signOut = await agent.follow(await agent.postForm(action, { ...fields, username: 'carl', password: PASSWORD }), REDIRECT);
    const logout = formOf(signOut);
    expect(new URL(logout.action).pathname).toBe('/t/demo/session/end/confirm');
    const back = await agent.follow(await agent.postForm(logout.action, logout.fields), REDIRECT);
    expect(back.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
    expect(decodeJwt(tokens.id_token!).sub).toBe(carl.id);
  });
});

describe('pages that must not be cached, and their CSP', () => {
  it('sends the sign-in page with Cache-Control: no-store and the script-free CSP', async () => {
    const config = await discover();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 's' });
    const agent = createAgent();
    const login = await agent.follow(await agent.get(url.href));
    expect(login.html).toContain('name="password"');
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self';/);
  });

  it('sends the response_mode=form_post page uncached, with a CSP that admits its own auto-submit script by hash and nothing else', async () => {
    const config = await discover();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', response_mode: 'form_post', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 's' });
    const page = await signIn(createAgent(), url.href, 'alice', PASSWORD, REDIRECT);
    expect(page.status).toBe(200);
    const { action, fields } = formOf(page);
    expect(action).toBe(REDIRECT);
    expect(fields).toMatchObject({ code: expect.any(String), state: 's' });
    expect(page.headers.get('cache-control')).toBe('no-store');
    const csp = page.headers.get('content-security-policy') ?? '';
    const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1]?.split(' ');
    const inline = /<script>([\s\S]*?)<\/script>/.exec(page.html)![1]!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(scriptSrc).toEqual(["'self'", `'sha256-${createHash('sha256').update(inline).digest('base64')}'`]);
  });
});

describe('refusals', () => {
  it('shows the same message for a wrong password and an unknown user, and audits the real reason', async () => {
    const config = await discover();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 's' });
    const pages = [];
    for (const username of ['alice', 'nobody-here']) {
      const agent = createAgent();
      const login = await agent.follow(await agent.get(url.href));
      const { action, fields } = formOf(login);
      pages.push(await agent.postForm(action, { ...fields, username, password: 'wrong-password-123' }));
    }
    expect(pages.map((p) => p.status)).toEqual([401, 401]);
    const message = (html: string) => /role="alert"[^>]*>([^<]*)</.exec(html)?.[1];
    expect(message(pages[0]!.html)).toBe('The username or password is incorrect.');
    expect(message(pages[1]!.html)).toBe(message(pages[0]!.html));
    const events = await cg.runtime.storage.auditEvents.find({ where: { action: 'login.failure' } });
    expect(events.map((e) => e.details?.reason).sort()).toEqual(expect.arrayContaining(['bad_password', 'unknown_user']));
  });

  it('refuses a login form posted without its CSRF token', async () => {
    const config = await discover();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 's' });
    const agent = createAgent();
    const login = await agent.follow(await agent.get(url.href));
    const { action } = formOf(login);
    const page = await agent.postForm(action, { username: 'alice', password: PASSWORD });
    expect(page.status).toBe(403);
    expect(page.location).toBeUndefined();
  });

  it('does not redirect to an unregistered redirect URI', async () => {
    const res = await fetch(`${cg.issuer()}/auth?client_id=${chart.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('redirect_uri');
  });

  it('requires PKCE', async () => {
    const res = await fetch(`${cg.issuer()}/auth?client_id=${chart.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`, { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('answers an unknown tenant with a 404 page, not a stack trace', async () => {
    const res = await fetch(`${cg.baseUrl}/t/no-such-clinic/.well-known/openid-configuration`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('no organisation called');
    expect(html).not.toMatch(/at .*\.ts:\d+/);
  });

  it('stops issuing tokens for a disabled user at once', async () => {
    const config = await discover();
    const bob = await cg.runtime.accounts.users.create('demo', { username: 'bob', password: PASSWORD }, [], cli);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const back = await signIn(createAgent(), url.href, 'bob', PASSWORD, REDIRECT);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
    await cg.runtime.accounts.users.setStatus('demo', bob.id, 'disabled', cli);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(decodeJwt(tokens.id_token!).sub).toBe(bob.id);
  });
});
