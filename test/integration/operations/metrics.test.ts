// Prometheus metrics as an operator scrapes them and as an attacker looks for them: served only on
// a listener of their own (127.0.0.1 unless configured; the token and start-up cases are in
// metrics-listener.test.ts), never on the public port; counting sign-ins by method and outcome, lockouts, token requests by grant type,
// tokens issued, request latency by route template and store health — with labels that stay
// bounded whatever paths, ids and names the traffic carries.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { loadConfig } from '../../../src/config/index.ts';
import { resolvePolicy } from '../../../src/accounts/index.ts';
import { passwordLogin } from '../../../src/interactions/index.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { createAgent, signIn } from '../../support/browser-agent.ts';

const REDIRECT = 'https://chart.example/cb';
const PASSWORD = 'metrics-long-password-of-tests';
const TOKEN = 'metrics-token-of-the-tests-0123456789';
const cli = { type: 'cli' as const, id: 'test' };

let cg: TestCaregate;
let chart: { client_id: string; client_secret?: string };
let service: { client_id: string; client_secret?: string };

beforeAll(async () => {
  cg = await startTestCaregate();
  chart = await cg.runtime.accounts.applications.create('demo', { name: 'Chart', redirectUris: [REDIRECT] }, cli);
  service = await cg.runtime.accounts.applications.create('demo', { name: 'Reports', grantTypes: ['client_credentials'] }, cli);
  await cg.runtime.accounts.users.create('demo', { username: 'alice', password: PASSWORD }, [], cli);
  await cg.runtime.accounts.users.create('demo', { username: 'mallory-target', password: PASSWORD }, [], cli);
});
afterAll(async () => cg?.close());

async function scrape(url = cg.metricsUrl!, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), headers: res.headers };
}

/** The value of one series, or undefined when it has not been written. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const found = Object.fromEntries([...(/\{(.*)\}/.exec(line)?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v) && Object.keys(found).length === Object.keys(labels).length) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

/** Every value one label takes across a metric's series. */
function labelValues(text: string, name: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const value = new RegExp(`${label}="([^"]*)"`).exec(line)?.[1];
    if (value !== undefined) values.add(value);
  }
  return values;
}

const discover = (client: { client_id: string; client_secret?: string }) =>
  oidc.discovery(new URL(cg.issuer()), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });

async function codeFlow(username = 'alice', password = PASSWORD) {
  const config = await discover(chart);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
  const agent = createAgent();
  const back = await signIn(agent, url.href, username, password, REDIRECT);
  return { config, verifier, back, agent };
}

describe('where metrics are served', () => {
  it('listens on 127.0.0.1 at port 9464 unless configured, apart from the public port', () => {
    const config = loadConfig({});
    expect([config.metricsHost, config.metricsPort, config.metricsToken]).toEqual(['127.0.0.1', 9464, undefined]);
    expect(loadConfig({ CAREGATE_METRICS_PORT: 'off' }).metricsPort).toBe('off');
    expect(() => loadConfig({ CAREGATE_METRICS_PORT: 'sometimes' })).toThrow(/CAREGATE_METRICS_PORT/);
    expect(() => loadConfig({ CAREGATE_METRICS_TOKEN: 'short' })).toThrow(/CAREGATE_METRICS_TOKEN: must be at least 16 characters/);
    const url = new URL(cg.metricsUrl!);
    expect([url.hostname, url.pathname]).toEqual(['127.0.0.1', '/metrics']);
    expect(url.port).not.toBe(new URL(cg.url).port);
  });

  it('answers the Prometheus text format there', async () => {
    const { status, type, text, headers } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(text).toContain('# TYPE caregate_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it('refuses metrics on the public port, however they are asked for, without a token or with any', async () => {
    const paths = ['/metrics', '/metrics/', '/METRICS', '/metrics?format=prometheus', '//metrics', '/%6detrics', '/t/demo/metrics', '/admin/api/metrics', '/health/metrics'];
    const disguises: Array<Record<string, string>> = [
      {}, { authorization: `Bearer ${TOKEN}` }, { 'x-forwarded-for': '127.0.0.1' }, { host: '127.0.0.1:9464' }, { 'x-forwarded-host': 'localhost', 'x-forwarded-port': '9464' },
    ];
    for (const path of paths) {
      for (const headers of disguises) {
        const res = await fetch(`${cg.url}${path}`, { headers, redirect: 'manual' });
        const body = await res.text();
        expect([path, res.status]).toEqual([path, 404]);
        expect(body).not.toMatch(/caregate_|process_cpu|# TYPE/);
      }
    }
  });

  it('answers nothing but GET /metrics on the metrics listener', async () => {
    const base = new URL(cg.metricsUrl!).origin;
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/health`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});

describe('what they count', () => {
  it('counts password sign-ins by outcome and reason, and a lockout once, whichever attempt took it', async () => {
    const before = (await scrape()).text;
    const successes = sample(before, 'caregate_sign_ins_total', { method: 'password', outcome: 'success' }) ?? 0;
    const { back } = await codeFlow();
    expect(back.location).toMatch(/\?code=/);
    // Three wrong passwords at a threshold of 3 lock the account (the third attempt locks).
    const tenant = (await cg.runtime.accounts.tenants.findBySlug('demo'))!;
    const policy = { ...resolvePolicy({}), lockout: { threshold: 3, lockSeconds: 300, maxLockSeconds: 600, mode: 'timed' as const } };
    const actor = { type: 'anonymous' as const, ip: '203.0.113.9' };
    for (let i = 0; i < 4; i++) await passwordLogin(cg.runtime, tenant, policy, 'mallory-target', 'not-the-password', actor);
    await passwordLogin(cg.runtime, tenant, policy, 'nobody-here', 'not-the-password', actor);

    const after = (await scrape()).text;
    expect(sample(after, 'caregate_sign_ins_total', { method: 'password', outcome: 'success' })).toBe(successes + 1);
    expect(sample(after, 'caregate_sign_ins_total', { method: 'password', outcome: 'failure', reason: 'bad_password' })).toBe(3);
    expect(sample(after, 'caregate_sign_ins_total', { method: 'password', outcome: 'failure', reason: 'account_locked' })).toBe(1);
    expect(sample(after, 'caregate_sign_ins_total', { method: 'password', outcome: 'failure', reason: 'unknown_user' })).toBe(1);
    expect(sample(after, 'caregate_lockouts_total', { mode: 'timed' })).toBe(1);
    // No label carries who: the login typed, the account or the address.
    expect(after).not.toMatch(/mallory|nobody-here|alice|203\.0\.113\.9/);
  });

  it('counts token requests by grant type and outcome, and tokens issued by kind', async () => {
    const before = (await scrape()).text;
    const count = (text: string, name: string, labels: Record<string, string>) => sample(text, name, labels) ?? 0;
    const { config, verifier, back } = await codeFlow();
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
    await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, 'not-a-refresh-token')).rejects.toMatchObject({ error: 'invalid_grant' });
    await oidc.clientCredentialsGrant(await discover(service));
    // A grant type nobody supports is counted, without its name as a label value.
    await fetch(`${cg.issuer()}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}` }, body: new URLSearchParams({ grant_type: 'urn:evil:made-up-grant' }) });

    const after = (await scrape()).text;
    const delta = (name: string, labels: Record<string, string>) => count(after, name, labels) - count(before, name, labels);
    expect(delta('caregate_token_requests_total', { grant_type: 'authorization_code', outcome: 'success' })).toBe(1);
    expect(delta('caregate_token_requests_total', { grant_type: 'refresh_token', outcome: 'success' })).toBe(1);
    expect(delta('caregate_token_requests_total', { grant_type: 'refresh_token', outcome: 'failure', error: 'invalid_grant' })).toBe(1);
    expect(delta('caregate_token_requests_total', { grant_type: 'client_credentials', outcome: 'success' })).toBe(1);
    expect(delta('caregate_tokens_issued_total', { kind: 'authorization_code' })).toBe(1);
    expect(delta('caregate_tokens_issued_total', { kind: 'refresh_token' })).toBe(2);
    expect(delta('caregate_tokens_issued_total', { kind: 'access_token' })).toBe(2);
    expect(delta('caregate_tokens_issued_total', { kind: 'client_credentials' })).toBe(1);
    expect(after).not.toContain('made-up-grant');
  });

  it('times requests by route template: ids, slugs, tokens and made-up paths never become label values', async () => {
    const { back } = await codeFlow();
    expect(back.location).toMatch(/\?code=/);
    const noise = Array.from({ length: 40 }, (_, i) => `x${i}-${Math.random().toString(36).slice(2)}`);
    for (const word of noise) {
      await fetch(`${cg.baseUrl}/t/demo/${word}`);
      await fetch(`${cg.baseUrl}/t/demo/reset/${word}`);
      await fetch(`${cg.baseUrl}/t/${word}/auth`);
      await fetch(`${cg.baseUrl}/${word}`, { method: 'PROPFIND' });
    }
    const text = (await scrape()).text;
    const routes = labelValues(text, 'caregate_http_request_duration_seconds', 'route');
    expect([...routes]).toEqual(expect.arrayContaining(['/t/:tenant/auth', '/t/:tenant/interaction/:uid', '/t/:tenant/interaction/:uid/login', '/t/:tenant/reset/:token', '/t/:tenant/*', 'unmatched']));
    // Every value is a template: path segments of letters, or a :parameter, or * — never a value.
    for (const route of routes) expect(route).toMatch(/^(unmatched|(\/([a-z.][a-z0-9._-]*|:[a-zA-Z]+|\*[a-z]*))+)$/);
    for (const word of noise) expect(text).not.toContain(word);
    expect(labelValues(text, 'caregate_http_request_duration_seconds', 'method')).toEqual(new Set(['GET', 'POST', 'other']));
  });

  it('reports the store monitor: database and ephemeral store up', async () => {
    const text = (await scrape()).text;
    expect(sample(text, 'caregate_store_up', { store: 'database' })).toBe(1);
    expect(sample(text, 'caregate_store_up', { store: 'ephemeral' })).toBe(1);
  });
});
