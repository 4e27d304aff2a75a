// The provider lane (src/app.ts): a request for a tenant's OpenID Provider goes straight to it once
// it is built and its keys were checked lately, and leaves with what the Koa app gives every
// response — the security headers, a request id, a log line. Whatever the lane is unsure of goes
// through the app, which looks the tenant up (`providers.get`): the spy on that lookup tells which
// way a request went.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createLogger } from '../../../src/logger.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SECURITY_HEADERS = ['x-content-type-options', 'referrer-policy', 'x-frame-options', 'cross-origin-opener-policy', 'permissions-policy', 'content-security-policy'];
/** Seconds between key checks here: the lane hands a request to the app again after that long. */
const KEY_CHECK_SECONDS = 2;

const logged: string[] = [];
let cg: TestCaregate;
let lookups: jest.SpiedFunction<TestCaregate['runtime']['providers']['get']>;

beforeAll(async () => {
  cg = await startTestCaregate({ log: createLogger('info', (line) => logged.push(line)), overrides: { logLevel: 'info', keyCheckInterval: KEY_CHECK_SECONDS } });
  lookups = jest.spyOn(cg.runtime.providers, 'get');
});

afterAll(async () => cg?.close());

/** A fresh provider for demo: the next request for it is built through the app. */
function forgetProvider() {
  cg.runtime.providers.invalidate('demo');
  lookups.mockClear();
}

async function answer(path: string, init: RequestInit = {}) {
  const res = await fetch(`${cg.issuer()}${path}`, { redirect: 'manual', ...init });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const securityHeadersOf = (headers: Headers) => Object.fromEntries(SECURITY_HEADERS.map((name) => [name, headers.get(name)]));

describe('a built provider', () => {
  it('answers its requests without the app, with the headers, request id and log line the app gives them', async () => {
    forgetProvider();
    const first = await answer('/.well-known/openid-configuration');
    expect(lookups).toHaveBeenCalledTimes(1);
    const rest = [await answer('/.well-known/openid-configuration'), await answer('/jwks'), await answer('/token', { method: 'POST' })];
    expect(lookups).toHaveBeenCalledTimes(1);

    expect(first.status).toBe(200);
    expect(rest.map((r) => r.status)).toEqual([200, 200, 400]);
    expect(rest[0]!.body).toBe(first.body);
    expect(securityHeadersOf(first.headers)).toEqual(expect.objectContaining({ 'content-security-policy': expect.stringContaining("default-src 'none'") }));
    for (const r of rest) expect(securityHeadersOf(r.headers)).toEqual(securityHeadersOf(first.headers));
    const ids = [first, ...rest].map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);

    const lines = logged.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request' && ids.includes(l.requestId as string));
    expect(lines.map((l) => `${l.method} ${l.route} ${l.status} ${l.tenant}`)).toEqual([
      'GET /t/:tenant/.well-known/openid-configuration 200 demo', 'GET /t/:tenant/.well-known/openid-configuration 200 demo',
      'GET /t/:tenant/jwks 200 demo', 'POST /t/:tenant/token 400 demo',
    ]);
  });

  it('goes through the app again once its keys are due a check, and then takes the lane again', async () => {
    await answer('/jwks');
    lookups.mockClear();
    const due = Date.now() + 30_000;
    // Within KEY_CHECK_SECONDS of the last check the lane answers; after it one request is the app's.
    while (lookups.mock.calls.length === 0 && Date.now() < due) {
      expect((await answer('/jwks')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(lookups).toHaveBeenCalledTimes(1);
    await answer('/jwks');
    expect(lookups).toHaveBeenCalledTimes(1);
  });

  it("leaves Caregate's own pages under the tenant, and an unknown tenant, to the app", async () => {
    await answer('/jwks');
    lookups.mockClear();
    expect((await answer('/forgot')).status).toBe(200);
    expect((await fetch(`${cg.issuer('nowhere')}/.well-known/openid-configuration`)).status).toBe(404);
    expect(lookups.mock.calls.map(([slug]) => slug)).toEqual(['demo', 'nowhere']);
  });

  it('refuses an encoded NUL in a provider address with 400, as the app does everywhere', async () => {
    await answer('/jwks');
    for (const path of ['/jwks?x=%00', '/token/introspection?%00', '/.well-known/openid-configuration?a=%00']) {
      expect({ path, status: (await answer(path, { headers: { accept: 'application/json' } })).status }).toEqual({ path, status: 400 });
    }
  });

  it('answers 500 and logs the error when a provider fails outside its own error handling, and the server lives on', async () => {
    await answer('/jwks');
    const entry = cg.runtime.providers.ready('demo')!;
    jest.spyOn(cg.runtime.providers, 'ready').mockReturnValueOnce({ ...entry, handle: async () => Promise.reject(new Error('provider exploded')) });
    expect((await answer('/jwks')).status).toBe(500);
    expect(logged.map((l) => JSON.parse(l) as Record<string, any>).find((l) => l.msg === 'request failed')).toMatchObject({ level: 'error', route: '/t/:tenant/jwks', error: { message: 'provider exploded' } });
    expect((await answer('/jwks')).status).toBe(200);
  });
});
