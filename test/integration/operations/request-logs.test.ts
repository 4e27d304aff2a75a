// The log of a real run, as an operator reads it and as an attacker who gets hold of it would: one
// JSON line per request (method, route template, status, duration, request id, tenant), a line per
// sign-in decision, the request id in the response, the log lines and the audit event of the same
// request — and nowhere the password, the tokens, the code, the client secrets, the session
// cookies or an Authorization header, after a sign-in, a code exchange, a refresh, userinfo and
// admin API calls.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { createLogger } from '../../../src/logger.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { createAgent, formOf } from '../../support/browser-agent.ts';

const REDIRECT = 'https://chart.example/cb';
const PASSWORD = 'Correct-Horse-Battery-Staple-42';
const WRONG_PASSWORD = 'Wrong-Horse-Battery-Staple-17';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const cli = { type: 'cli' as const, id: 'test' };

/** Every line the server logged, and everything this process wrote to stdout and stderr meanwhile. */
const logged: string[] = [];
const written: string[] = [];
const restore: Array<() => void> = [];
let cg: TestCaregate;
let api: AdminApi;
let chart: { client_id: string; client_secret?: string };
/** What must never be logged, by name (so a failure says which). */
const secrets = new Map<string, string>();

function capture(stream: NodeJS.WriteStream) {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    written.push(String(chunk));
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
  restore.push(() => (stream.write = original));
}

const lines = () => logged.map((line) => JSON.parse(line) as Record<string, any>);

beforeAll(async () => {
  capture(process.stdout);
  capture(process.stderr);
  cg = await startTestCaregate({ log: createLogger('debug', (line) => logged.push(line)), overrides: { logLevel: 'debug' } });
  chart = await cg.runtime.accounts.applications.create('demo', { name: 'Chart', redirectUris: [REDIRECT] }, cli);
  await cg.runtime.accounts.users.create('demo', { username: 'alice', password: PASSWORD }, [], cli);
  api = await connectAdminApi(cg);
  secrets.set('password', PASSWORD).set('wrong password', WRONG_PASSWORD).set('client secret', chart.client_secret!)
    .set('admin client secret', api.admin.clientSecret).set('admin access token', api.admin.token)
    .set('client Basic credentials', Buffer.from(`${chart.client_id}:${chart.client_secret}`).toString('base64'));
});

afterAll(async () => {
  for (const undo of restore) undo();
  await cg?.close();
});

describe('a sign-in, a code exchange, a refresh and admin API calls', () => {
  let loginRequestId: string;

  beforeAll(async () => {
    const config = await oidc.discovery(new URL(cg.issuer()), chart.client_id, chart.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    secrets.set('PKCE verifier', verifier);
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st' });
    const agent = createAgent();
    const login = await agent.follow(await agent.get(url.href), REDIRECT);
    const { action, fields } = formOf(login);
    secrets.set('CSRF token', fields.csrf!);
    const refused = await agent.postForm(action, { ...fields, username: 'alice', password: WRONG_PASSWORD });
    expect(refused.status).toBe(401);
    const again = formOf(refused);
    const accepted = await agent.postForm(again.action, { ...again.fields, username: 'alice', password: PASSWORD });
    loginRequestId = accepted.headers.get('x-request-id')!;
    const back = await agent.follow(accepted, REDIRECT);
    const code = new URL(back.location!).searchParams.get('code')!;
    secrets.set('authorization code', code);
    for (const [name, value] of agent.jar) secrets.set(`cookie ${name}`, value);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 'st' });
    secrets.set('access token', tokens.access_token).set('ID token', tokens.id_token!).set('refresh token', tokens.refresh_token!);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    secrets.set('refreshed access token', refreshed.access_token).set('second refresh token', refreshed.refresh_token!);
    await oidc.fetchUserInfo(config, refreshed.access_token, oidc.skipSubjectCheck);
    expect((await api.call('GET', '/users')).status).toBe(200);
    expect((await api.call('GET', '/users', { token: 'forged-admin-token-0123456789' })).status).toBe(401);
    secrets.set('forged bearer token', 'forged-admin-token-0123456789');
  });

  it('logs none of the secrets that passed through: password, tokens, code, client secrets, cookies, Authorization', () => {
    expect(logged.length).toBeGreaterThan(10);
    const everything = [...logged, ...written].join('\n');
    for (const [name, value] of secrets) {
      expect(value.length).toBeGreaterThanOrEqual(8);
      expect([name, everything.includes(value)]).toEqual([name, false]);
    }
    expect(everything).not.toMatch(/authorization|cookie|bearer /i);
  });

  it('writes one JSON line per request: method, route template, status, duration, request id and tenant', () => {
    const requests = lines().filter((l) => l.msg === 'request');
    const routes = requests.map((l) => `${l.method} ${l.route} ${l.status}`);
    expect(routes).toEqual(expect.arrayContaining([
      'GET /t/:tenant/.well-known/openid-configuration 200', 'GET /t/:tenant/auth 303', 'POST /t/:tenant/interaction/:uid/login 401',
      'POST /t/:tenant/interaction/:uid/login 303', 'POST /t/:tenant/token 200', 'GET /t/:tenant/me 200',
      'GET /admin/api/v1/t/:tenant/users 200', 'GET /admin/api/v1/t/:tenant/users 401',
    ]));
    for (const line of requests) {
      expect(line).toEqual({ time: expect.any(String), level: 'info', msg: 'request', method: expect.any(String), route: expect.any(String), status: expect.any(Number), durationMs: expect.any(Number), requestId: expect.stringMatching(UUID), tenant: 'demo' });
    }
    expect(new Set(requests.map((l) => l.requestId)).size).toBe(requests.length);
  });

  it('follows the sign-in through its request id: the response header, the request line, the sign-in line and the audit event', async () => {
    expect(loginRequestId).toMatch(UUID);
    const ofRequest = lines().filter((l) => l.requestId === loginRequestId);
    expect(ofRequest.map((l) => l.msg)).toEqual(['sign-in', 'request']);
    const user = await cg.runtime.accounts.users.findUser('demo', 'alice');
    expect(ofRequest[0]).toMatchObject({ level: 'info', outcome: 'success', method: 'pwd', userId: user.id, ip: expect.any(String) });
    expect(ofRequest[1]).toMatchObject({ route: '/t/:tenant/interaction/:uid/login', status: 303 });
    const [event] = await cg.runtime.storage.query<{ details: Record<string, unknown> }>("SELECT details FROM audit_events WHERE action = 'login.success' AND details->>'requestId' = $1", [loginRequestId]);
    expect(event?.details).toMatchObject({ method: 'pwd', requestId: loginRequestId });
  });

  it('logs the refused sign-in with its reason, and not the login typed', () => {
    const failure = lines().find((l) => l.msg === 'sign-in' && l.outcome === 'failure');
    expect(failure).toMatchObject({ method: 'pwd', reason: 'bad_password', userId: expect.any(String), requestId: expect.stringMatching(UUID) });
    expect(JSON.stringify(failure)).not.toContain('alice');
  });
});
