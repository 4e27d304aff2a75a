// Input no store can hold, refused at the edge: a NUL character in the address, in an admin API
// JSON body or in a form answers 400 (JSON for APIs, the error page for people), a JSON body nested
// past the limit answers 400 naming it, and the bodies oidc-provider parses itself treat a value
// with a NUL as unknown (invalid_client, invalid_grant). Never a 500 from PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { createAgent, formOf } from '../../support/browser-agent.ts';

const REDIRECT = 'https://chart.example/cb';
const PASSWORD = 'a-long-enough-password-for-tests';
const cli = { type: 'cli' as const, id: 'test' };

let cg: TestCaregate;
let api: AdminApi;
let chart: { client_id: string; client_secret?: string };

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  chart = await cg.runtime.accounts.applications.create('demo', { name: 'Chart', redirectUris: [REDIRECT] }, cli);
  await cg.runtime.accounts.users.create('demo', { username: 'nora', password: PASSWORD }, [], cli);
});
afterAll(async () => cg?.close());

/** `{ a: { a: … } }`, `levels` objects deep, as JSON text (built as text: no recursion anywhere). */
const nestedJson = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

const expectRefusedJson = async (res: Response, description: RegExp) => {
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(description) });
};

describe('a NUL character in the address', () => {
  it('answers a person at the authorization endpoint with the 400 error page', async () => {
    const res = await fetch(`${cg.issuer()}/auth?client_id=%00&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('NUL character');
  });

  it.each([
    ['a tenant', '/admin/api/v1/t/acme%00/users'],
    ['a path parameter', '/admin/api/v1/t/demo/users/%00'],
    ['the query', '/admin/api/v1/t/demo/users?search=%00'],
  ])('answers the admin API with 400 invalid_request for one in %s', async (_where, path) => {
    const res = await fetch(`${cg.baseUrl}${path}`, { headers: { authorization: `Bearer ${api.admin.token}` } });
    await expectRefusedJson(res, /NUL character/);
  });

  it('answers 400 under every tenant page and provider endpoint, not only the ones tried above', async () => {
    for (const path of ['/t/demo/interaction/%00', '/t/demo/reset/ab%00cd', '/t/demo/token?x=%00', '/t/demo%00/.well-known/openid-configuration']) {
      const res = await fetch(`${cg.baseUrl}${path}`, { redirect: 'manual', headers: { accept: 'application/json' } });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
  });
});

describe('a NUL character in a body', () => {
  it('answers 400 invalid_request for one in an admin API JSON value or field name, and nothing is written', async () => {
    const value = await api.refused(() => fetch(`${api.url}/v1/t/demo/users`, { method: 'POST', headers: { authorization: `Bearer ${api.admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'mal\u0000lory', password: PASSWORD }) }));
    await expectRefusedJson(value, /request body contains a NUL character/);
    const key = await api.refused(() => fetch(`${api.url}/v1/t/demo/policy`, { method: 'PATCH', headers: { authorization: `Bearer ${api.admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ mfa: { 'mode\u0000': 'off' } }) }));
    await expectRefusedJson(key, /field name with a NUL character/);
  });

  it('answers the sign-in form with the 400 error page when the username carries one', async () => {
    const agent = createAgent();
    const url = `${cg.issuer()}/auth?client_id=${chart.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`;
    const login = await agent.follow(await agent.get(url));
    const { action, fields } = formOf(login);
    const page = await agent.postForm(action, { ...fields, username: 'nora\u0000', password: PASSWORD });
    expect(page.status).toBe(400);
    expect(page.html).toContain('NUL character');
  });
});

describe('a NUL character in what oidc-provider parses itself', () => {
  const token = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${cg.issuer()}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });

  it('answers invalid_client to a token request whose client_id carries one', async () => {
    const res = await token({ grant_type: 'client_credentials', client_id: '\u0000', client_secret: 'x' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('answers invalid_grant to a refresh token that carries one', async () => {
    const basic = `Basic ${Buffer.from(`${chart.client_id}:${chart.client_secret}`).toString('base64')}`;
    const res = await token({ grant_type: 'refresh_token', refresh_token: `${'r'.repeat(20)}\u0000${'r'.repeat(22)}` }, { authorization: basic });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('answers inactive to introspection of such a token', async () => {
    const config = await oidc.discovery(new URL(cg.issuer()), chart.client_id, chart.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    await expect(oidc.tokenIntrospection(config, 'abc\u0000def')).resolves.toMatchObject({ active: false });
  });
});

describe('a deeply nested JSON body', () => {
  it('refuses a policy change nested 5,000 levels deep with 400 naming the limit, and writes nothing', async () => {
    const res = await api.refused(() => fetch(`${api.url}/v1/t/demo/policy`, { method: 'PATCH', headers: { authorization: `Bearer ${api.admin.token}`, 'content-type': 'application/json' }, body: nestedJson(5000) }));
    await expectRefusedJson(res, /nested deeper than 32 levels/);
  });

  it('refuses one level past the limit, and lets a body at the limit reach validation', async () => {
    const past = await api.call('PATCH', '/policy', { raw: nestedJson(33) });
    expect(past.status).toBe(400);
    expect(past.body.error_description).toMatch(/nested deeper than 32 levels/);
    const at = await api.call('PATCH', '/policy', { raw: nestedJson(32) });
    expect(at.status).toBe(400);
    expect(at.body.error_description).not.toMatch(/nested/);
  });
});
