// Two Caregate processes on the same PostgreSQL + Redis serve one tenant together, as nodes behind a
// load balancer: a session started on one is honoured on the other, codes and refresh tokens from
// one are redeemed on the other, and a key rotation made with the CLI reaches both.
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describeWithSharedStores, freePort } from '../support/caregate.ts';
import { runCaregateCli, spawnCaregate, type CaregateProcess } from '../support/caregate-process.ts';
import { createAgent, formOf, type Agent, type Page } from '../support/browser-agent.ts';
import { freshDatabaseUrl, tempDataDir, type FreshDatabase, type TempDataDir } from '../support/stores.ts';

// An embedded (PGlite) database belongs to one process by design, and the memory store to one
// process too, so several nodes need the production stores: this suite runs only when DATABASE_URL
// and REDIS_URL are set (production mode), and is skipped in embedded mode.

const REDIRECT = 'https://chart.example/cb';
const RESOURCE = 'https://chart.example/api';
const PASSWORD = 'first-long-password-of-tests';
/** How often each node looks for keys rotated elsewhere (CAREGATE_KEY_CHECK_INTERVAL), seconds. */
const KEY_CHECK_SECONDS = 1;

type NodeName = 'A' | 'B';

describeWithSharedStores('two Caregate processes on the same PostgreSQL + Redis serve one tenant together', () => {
  let db: FreshDatabase | undefined;
  let dir: TempDataDir | undefined;
  const nodes: Partial<Record<NodeName, CaregateProcess>> = {};
  const ports = {} as Record<NodeName, number>;
  let env: Record<string, string>;
  let baseUrl: string;
  let issuer: string;
  let chart: { client_id: string; client_secret: string };
  let aliceId: string;

  beforeAll(async () => {
    db = await freshDatabaseUrl();
    dir = await tempDataDir();
    ports.A = await freePort();
    ports.B = await freePort();
    // Every node gets the same public base URL; the test plays the load balancer (see `on`).
    baseUrl = `http://localhost:${ports.A}`;
    issuer = `${baseUrl}/t/demo`;
    env = {
      DATABASE_URL: db!.url,
      REDIS_URL: process.env.REDIS_URL!,
      CAREGATE_MASTER_KEY: process.env.CAREGATE_MASTER_KEY ?? randomBytes(32).toString('base64'),
      CAREGATE_BASE_URL: baseUrl,
      CAREGATE_DATA_DIR: dir.path,
      CAREGATE_BOOTSTRAP_PASSWORD: 'bootstrap-password-for-tests',
      CAREGATE_KEY_CHECK_INTERVAL: String(KEY_CHECK_SECONDS),
      CAREGATE_LOG_LEVEL: 'error',
      CAREGATE_MIGRATE_ON_START: 'false',
    };
    // Migrate once; then A bootstraps the empty database before B joins it.
    await runCaregateCli(['migrate'], env);
    nodes.A = await spawnCaregate(ports.A, env);
    nodes.B = await spawnCaregate(ports.B, env);
    chart = await runCaregateCli(['app', 'create', '--tenant', 'demo', '--name', 'Chart', '--redirect-uri', REDIRECT, '--resource', RESOURCE, '--permission', 'reports:read'], env);
    aliceId = (await runCaregateCli(['user', 'create', '--tenant', 'demo', '--username', 'alice', '--password', PASSWORD, '--role', 'report_viewer'], env)).id;
  });

  afterAll(async () => {
    await Promise.all(Object.values(nodes).map((node) => node.stop()));
    await db?.drop();
    await dir?.cleanup();
  });

  /** The load balancer: sends a request for the public base URL to one node; other URLs pass. */
  const on = (node: NodeName, url: string) => {
    const target = new URL(url);
    if (target.origin !== baseUrl && target.origin !== `http://localhost:${ports[node === 'A' ? 'B' : 'A']}`) return url;
    target.host = `localhost:${ports[node]}`;
    return target.href;
  };

  /** An OIDC client configuration whose every request goes to `node`. */
  const clientOn = (node: NodeName) =>
    oidc.discovery(new URL(issuer), chart.client_id, chart.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: (url: string, init: oidc.CustomFetchOptions) => fetch(on(node, url), init as RequestInit),
    });

  /** Follows redirects through `node` (keeping the agent's cookies) until the relying party's. */
  async function followOn(node: NodeName, agent: Agent, url: string): Promise<{ last: Page; pages: Page[] }> {
    const pages = [await agent.get(on(node, url))];
    while (pages.at(-1)!.location && !pages.at(-1)!.location!.startsWith(REDIRECT) && pages.length < 20) {
      pages.push(await agent.get(on(node, pages.at(-1)!.location!)));
    }
    return { last: pages.at(-1)!, pages };
  }

  /** Starts an authorization on `node`; returns the URL, the PKCE verifier and state. */
  async function authorization(config: oidc.Configuration) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile roles',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource: RESOURCE,
    });
    return { url: url.href, verifier, state };
  }

  /** Signs alice in on node A (password form); returns the browser, now holding A's session. */
  async function signInOnA(): Promise<{ agent: Agent; authTime: number }> {
    const agent = createAgent();
    const configA = await clientOn('A');
    const auth = await authorization(configA);
    const login = await followOn('A', agent, auth.url);
    expect(login.last.html).toContain('name="password"');
    const { action, fields } = formOf(login.last);
    const posted = await agent.postForm(on('A', action), { ...fields, username: 'alice', password: PASSWORD });
    const back = await followOn('A', agent, posted.location!);
    expect(back.last.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
    const tokens = await oidc.authorizationCodeGrant(configA, new URL(back.last.location!), { pkceCodeVerifier: auth.verifier, expectedState: auth.state }, { resource: RESOURCE });
    return { agent, authTime: decodeJwt(tokens.id_token!).auth_time as number };
  }

  /** With a session from A, authorizes on B without a password and exchanges the code on B. */
  async function tokensFromB(agent: Agent) {
    const configB = await clientOn('B');
    const auth = await authorization(configB);
    const { last, pages } = await followOn('B', agent, auth.url);
    const tokens = await oidc.authorizationCodeGrant(configB, new URL(last.location!), { pkceCodeVerifier: auth.verifier, expectedState: auth.state }, { resource: RESOURCE });
    return { tokens, pages, configB };
  }

  const jwksOf = async (node: NodeName) => {
    const res = await fetch(on(node, `${issuer}/jwks`));
    expect(res.status).toBe(200);
    return ((await res.json()) as { keys: Array<{ kid: string; alg: string }> }).keys;
  };

  it('honours on node B the sign-on session started on node A: the second authorization needs no password', async () => {
    const { agent, authTime } = await signInOnA();
    const { tokens, pages } = await tokensFromB(agent);

    expect(pages.every((page) => !page.html.includes('name="password"'))).toBe(true);
    expect(pages.at(-1)!.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
    // Tokens from B verify against the keys B publishes and carry A's sign-in (same session).
    const jwksB = createRemoteJWKSet(new URL(on('B', `${issuer}/jwks`)));
    const { payload: id } = await jwtVerify(tokens.id_token!, jwksB, { issuer, audience: chart.client_id });
    expect(id).toMatchObject({ sub: aliceId, tenant: 'demo', preferred_username: 'alice', auth_time: authTime });
    const { payload: at } = await jwtVerify(tokens.access_token, jwksB, { issuer, audience: RESOURCE });
    expect(at).toMatchObject({ sub: aliceId, permissions: ['reports:read'] });
  });

  it('redeems on node A a refresh token issued by node B, and refuses it on B once A has rotated it', async () => {
    const { agent } = await signInOnA();
    const { tokens, configB } = await tokensFromB(agent);
    const fromB = tokens.refresh_token!;
    expect(fromB).toBeDefined();

    const onA = await oidc.refreshTokenGrant(await clientOn('A'), fromB);
    expect(onA.refresh_token).toBeDefined();
    expect(onA.refresh_token).not.toBe(fromB);
    const jwksB = createRemoteJWKSet(new URL(on('B', `${issuer}/jwks`)));
    const { payload } = await jwtVerify(onA.id_token!, jwksB, { issuer, audience: chart.client_id });
    expect(payload.sub).toBe(aliceId);
    // The rotation A made is stored where B sees it: the used token is refused there.
    await expect(oidc.refreshTokenGrant(configB, fromB)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('serves a key rotation made with `caregate keys rotate` from both nodes within the key check interval', async () => {
    const { agent } = await signInOnA();
    const { tokens } = await tokensFromB(agent);
    const before = await jwksOf('B');
    const signedBefore = decodeProtectedHeader(tokens.id_token!).kid!;
    const nextBefore = before.find((k) => k.alg === 'ES256' && k.kid !== signedBefore)!.kid;
    expect(await jwksOf('A')).toEqual(before);

    const rotated = await runCaregateCli(['keys', 'rotate', '--tenant', 'demo'], env);
    expect(rotated.current).toContain(nextBefore);
    expect(rotated.retired).toContain(signedBefore);

    // Within the check interval both nodes publish the new next keys (and keep the retired ones).
    const published = [...rotated.current, ...rotated.next, ...rotated.retired].sort();
    for (const node of ['A', 'B'] as const) {
      const deadline = Date.now() + KEY_CHECK_SECONDS * 1000 + 5000;
      let kids: string[] = [];
      while (Date.now() < deadline) {
        kids = (await jwksOf(node)).map((k) => k.kid).sort();
        if (kids.join() === published.join()) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect({ node, kids }).toEqual({ node, kids: published });
    }

    // Both nodes now sign with the key that was published as next, and the old token still verifies.
    let refreshToken = tokens.refresh_token!;
    for (const node of ['A', 'B'] as const) {
      const refreshed = await oidc.refreshTokenGrant(await clientOn(node), refreshToken);
      refreshToken = refreshed.refresh_token!;
      expect({ node, kid: decodeProtectedHeader(refreshed.id_token!).kid }).toEqual({ node, kid: nextBefore });
    }
    const jwksB = createRemoteJWKSet(new URL(on('B', `${issuer}/jwks`)));
    await expect(jwtVerify(tokens.id_token!, jwksB, { issuer, audience: chart.client_id })).resolves.toBeDefined();
  });
});
