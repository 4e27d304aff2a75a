// Fail closed and recover: when Redis or PostgreSQL cannot be reached, /health says which, no one
// signs in and no code or token is issued, nothing hangs; when the store returns, service resumes
// by itself. Each store is reached through a TCP proxy that the test cuts and restores.
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { createAgent, formOf, signIn, type Agent, type Page } from '../../support/browser-agent.ts';
import { startPrivateRedis, type PrivateRedis } from '../../support/redis-server.ts';
import { freshDatabaseUrl, type FreshDatabase } from '../../support/stores.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.ts';

// Embedded PGlite runs inside the Caregate process and cannot be cut off from it; the PostgreSQL
// outage is played only when the suite runs against PostgreSQL (DATABASE_URL set).
const describeWithPostgres = process.env.DATABASE_URL ? describe : describe.skip;

const REDIRECT = 'https://chart.example/cb';
const PASSWORD = 'first-long-password-of-tests';
const cli = { type: 'cli' as const, id: 'test' };
/** A request made while a store is down must be answered within this (no hanging), ms. */
const ANSWER_WITHIN_MS = 5000;
/** After the store returns, /health must be 200 again within this, ms. */
const RECOVER_WITHIN_MS = 10_000;

let cg: TestCaregate;
let privateRedis: PrivateRedis | undefined;
let redisProxy: TcpProxy;
let pgProxy: TcpProxy | undefined;
let db: FreshDatabase | undefined;
let chart: { client_id: string; client_secret?: string };
const cleanups: Array<() => Promise<unknown> | undefined> = [];

/** Points `url` at a local proxy port, keeping credentials, database and path. */
function through(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.href;
}

beforeAll(async () => {
  // Production mode: the shared Redis; embedded mode: a private redis-server for this suite.
  if (!process.env.REDIS_URL) {
    privateRedis = await startPrivateRedis();
    cleanups.push(() => privateRedis?.stop());
  }
  const redisUrl = process.env.REDIS_URL ?? privateRedis!.url;
  const redisTarget = new URL(redisUrl);
  redisProxy = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
  cleanups.push(() => redisProxy.close());

  let databaseUrl: string | undefined;
  if (process.env.DATABASE_URL) {
    db = await freshDatabaseUrl();
    cleanups.push(() => db?.drop());
    const pgTarget = new URL(db!.url);
    pgProxy = await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });
    cleanups.push(() => pgProxy?.close());
    databaseUrl = through(db!.url, pgProxy);
  }

  // The outages below make Caregate log errors on purpose; they would only clutter the output.
  cg = await startTestCaregate({ databaseUrl, overrides: { redisUrl: through(redisUrl, redisProxy), logLevel: 'silent' } });
  cleanups.push(() => cg.close());
  chart = await cg.runtime.accounts.applications.create('demo', { name: 'Chart', redirectUris: [REDIRECT] }, cli);
  await cg.runtime.accounts.users.create('demo', { username: 'alice', password: PASSWORD }, [], cli);
});

afterAll(async () => {
  // Last in, first out: Caregate before its proxies, the proxies before the stores behind them.
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((error) => console.error('cleanup failed', error));
});

/** fetch that gives up after ANSWER_WITHIN_MS, so a hanging request fails the test. */
const answered = (url: string, init: RequestInit = {}) => fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });

async function health() {
  const res = await answered(`${cg.baseUrl}/health`);
  return { status: res.status, body: (await res.json()) as { database: { status: string }; ephemeral: { status: string } } };
}

async function untilHealthy() {
  const deadline = Date.now() + RECOVER_WITHIN_MS;
  let last = await health().catch((error: Error) => ({ status: 0, body: error.message }));
  while (last.status !== 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await health().catch((error: Error) => ({ status: 0, body: error.message }));
  }
  expect(last).toMatchObject({ status: 200 });
}

/** The store monitor's last verdict on Redis, as its store-up gauge reads: '1' up, '0' down. */
const ephemeralUp = async () => /caregate_store_up\{store="ephemeral"\} (\d)/.exec(await (await fetch(cg.metricsUrl!)).text())?.[1];

/** Until the store monitor, whose verdict requests are refused on, has seen Redis go down. */
async function untilMonitorSeesRedisDown() {
  const deadline = Date.now() + RECOVER_WITHIN_MS;
  while ((await ephemeralUp()) !== '0') {
    if (Date.now() > deadline) throw new Error(`the store monitor did not see Redis down within ${RECOVER_WITHIN_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function client() {
  return oidc.discovery(new URL(cg.issuer()), chart.client_id, chart.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
}

async function authorizationUrl(config: oidc.Configuration) {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 's',
  });
  return { url: url.href, verifier };
}

/** A full sign-in through the login form and the code exchange; returns the token response. */
async function signInAndExchange(agent: Agent = createAgent()) {
  const config = await client();
  const { url, verifier } = await authorizationUrl(config);
  const back = await signIn(agent, url, 'alice', PASSWORD, REDIRECT);
  expect(back.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
  return oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
}

/** A raw token endpoint call (client_secret_basic), to see exactly what the endpoint answers. */
async function tokenRequest(params: Record<string, string>) {
  const res = await answered(`${cg.issuer()}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${chart.client_id}:${chart.client_secret}`).toString('base64')}`, accept: 'application/json' },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: await res.text() };
}

/** The token endpoint refused with a server error and issued nothing. */
function expectNoTokens(answer: { status: number; body: string }) {
  expect(answer.status).toBeGreaterThanOrEqual(500);
  expect(answer.body).not.toMatch(/access_token|id_token|refresh_token/);
}

/** Rejects when `request` is not answered within ANSWER_WITHIN_MS (a hanging request). */
function inTime<T>(request: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
  });
  return Promise.race([request, late]).finally(() => clearTimeout(timer));
}

/** Walks redirects (as a browser would) from `first`; each hop must be answered in time. */
async function walk(agent: Agent, first: Promise<Page>): Promise<Page> {
  let page = await inTime(first);
  for (let hops = 0; page.location && !page.location.startsWith(REDIRECT) && hops < 10; hops++) page = await inTime(agent.get(page.location));
  return page;
}

/** What the person sees: a refusal page (5xx) and never a redirect carrying a code. */
function expectRefused(page: Page) {
  expect(page.location).toBeUndefined();
  expect(page.status).toBeGreaterThanOrEqual(500);
}

describe('while Redis is unreachable', () => {
  afterEach(async () => {
    await redisProxy.restore();
    await untilHealthy();
  });

  it('answers /health with 503, naming the ephemeral store down and the database up', async () => {
    await untilHealthy();
    await redisProxy.cut();
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'unavailable', database: { status: 'up' }, ephemeral: { kind: 'redis', status: 'down' } });
  });

  it('answers /health/ready 503 and the store-up metric 0 for Redis, while /health/live stays 200; all back once Redis is', async () => {
    await untilHealthy();
    await redisProxy.cut();
    const ready = await answered(`${cg.baseUrl}/health/ready`);
    expect([ready.status, await ready.json()]).toEqual([503, expect.objectContaining({ status: 'not_ready', ephemeral: { kind: 'redis', status: 'down' }, database: expect.objectContaining({ status: 'up' }) })]);
    expect((await answered(`${cg.baseUrl}/health/live`)).status).toBe(200);
    expect(await ephemeralUp()).toBe('0');
    await redisProxy.restore();
    await untilHealthy();
    expect((await answered(`${cg.baseUrl}/health/ready`)).status).toBe(200);
    expect(await ephemeralUp()).toBe('1');
  });

  it('issues no code or token: a sign-in begun before the outage, a new authorization and a session-bound refresh all fail', async () => {
    const config = await client();
    // Before the outage: a refresh token bound to a sign-on session, and a login form on screen.
    const { refresh_token: refreshToken } = await signInAndExchange();
    const agent = createAgent();
    const login = await agent.follow(await agent.get((await authorizationUrl(config)).url), REDIRECT);
    const { action, fields } = formOf(login);

    await redisProxy.cut();
    expectRefused(await walk(agent, agent.postForm(action, { ...fields, username: 'alice', password: PASSWORD })));
    const fresh = createAgent();
    expectRefused(await walk(fresh, fresh.get((await authorizationUrl(config)).url)));
    expectNoTokens(await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken! }));
  });

  it('does not redeem an offline refresh token either, though that grant needs only the database', async () => {
    const config = await client();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid offline_access', prompt: 'consent', state: 's',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const agent = createAgent();
    // offline_access always asks the user (OIDC Core §11): approve on the consent page.
    const consent = await signIn(agent, url.href, 'alice', PASSWORD, REDIRECT);
    const back = consent.location ? consent : await agent.follow(await agent.postForm(formOf(consent).action, formOf(consent).fields), REDIRECT);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
    expect(tokens.scope).toContain('offline_access');

    await redisProxy.cut();
    // The grant needs only the database; the refusal comes from the store monitor's verdict on Redis.
    await untilMonitorSeesRedisDown();
    const answer = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'store_unavailable' });
  });

  it('answers within seconds, and issues no code, when Redis stops answering but keeps its connections open (partition)', async () => {
    const config = await client();
    const agent = createAgent();
    const login = await agent.follow(await agent.get((await authorizationUrl(config)).url), REDIRECT);
    const { action, fields } = formOf(login);

    await redisProxy.stall();
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body).toMatchObject({ database: { status: 'up' }, ephemeral: { status: 'down' } });
    expectRefused(await walk(agent, agent.postForm(action, { ...fields, username: 'alice', password: PASSWORD })));
    const fresh = createAgent();
    expectRefused(await walk(fresh, fresh.get((await authorizationUrl(config)).url)));
  });

  it('recovers by itself when Redis returns: /health is 200 within seconds and a full sign-in issues tokens', async () => {
    await redisProxy.cut();
    expect((await health()).status).toBe(503);
    await redisProxy.restore();
    await untilHealthy();
    const tokens = await signInAndExchange();
    expect(tokens.id_token).toBeDefined();
  });
});

describeWithPostgres('while PostgreSQL is unreachable', () => {
  afterEach(async () => {
    await pgProxy!.restore();
    await untilHealthy();
  });

  it('answers /health with 503, naming the database down and the ephemeral store up', async () => {
    await untilHealthy();
    await pgProxy!.cut();
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'unavailable', database: { kind: 'postgresql', status: 'down' }, ephemeral: { status: 'up' } });
  });

  it('issues no code or token: password sign-in, a signed-in authorization, code exchange and refresh all fail', async () => {
    const config = await client();
    // Before the outage: a signed-in browser with a refresh token, an unused code, and a login form.
    const signedIn = createAgent();
    const tokens = await signInAndExchange(signedIn);
    const pending = await authorizationUrl(config);
    const code = await signedIn.follow(await signedIn.get(pending.url), REDIRECT);
    expect(code.location).toMatch(/^https:\/\/chart\.example\/cb\?code=/);
    const fresh = createAgent();
    const login = await fresh.follow(await fresh.get((await authorizationUrl(config)).url), REDIRECT);
    const { action, fields } = formOf(login);

    await pgProxy!.cut();
    expectRefused(await walk(fresh, fresh.postForm(action, { ...fields, username: 'alice', password: PASSWORD })));
    expectRefused(await walk(signedIn, signedIn.get((await authorizationUrl(config)).url)));
    const exchange = { grant_type: 'authorization_code', code: new URL(code.location!).searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: pending.verifier };
    expectNoTokens(await tokenRequest(exchange));
    expectNoTokens(await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }));
  });

  it('recovers by itself when PostgreSQL returns: /health is 200 within seconds, a refresh token from before redeems and a full sign-in works', async () => {
    const config = await client();
    const before = await signInAndExchange();
    await pgProxy!.cut();
    expect((await health()).status).toBe(503);
    await pgProxy!.restore();
    await untilHealthy();
    const refreshed = await oidc.refreshTokenGrant(config, before.refresh_token!);
    expect(refreshed.id_token).toBeDefined();
    expect((await signInAndExchange()).id_token).toBeDefined();
  });
});
