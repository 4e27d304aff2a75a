// The supported TLS setup: an https:// base URL behind a proxy that terminates TLS and says so in
// X-Forwarded-Proto, with CAREGATE_TRUST_PROXY. (Without trust proxy such a base URL cannot start:
// test/unit/config.test.ts.) A server of its own: embedded PGlite is one per process, so this
// cannot run beside another suite's server.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';

let cg: TestCaregate;
beforeAll(async () => {
  cg = await startTestCaregate({ overrides: { baseUrl: 'https://id.example.test', trustProxy: true } });
});
afterAll(async () => cg?.close());

it('serves the forgot-password page with its Secure form cookie, HSTS and no-store when the proxy says the browser used https', async () => {
  const res = await fetch(`${cg.baseUrl}/t/demo/forgot`, { headers: { 'x-forwarded-proto': 'https', accept: 'text/html' } });
  expect(res.status).toBe(200);
  expect(res.headers.getSetCookie().find((c) => c.startsWith('_forgot.demo='))).toMatch(/; secure/i);
  expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=/);
  expect(res.headers.get('cache-control')).toBe('no-store');
});
