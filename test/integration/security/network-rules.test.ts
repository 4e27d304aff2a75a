// Network rules, end to end against real stores and a real SMTP server. The server trusts
// X-Forwarded-For (CAREGATE_TRUST_PROXY, as behind a clinic's load balancer), so each request can
// come from any address: the browser from the clinic network (10.20.0.0/16, 2001:db8:5::/48) or
// from a café, the application's server always from outside — a code exchange is judged by the
// address the person signed in from, a refresh by the refresher's. A role that requires the clinic
// network is in tokens issued inside and left out outside (other roles unaffected); a tenant-wide
// rule refuses sign-in and refresh from outside with a page and an audit event; a holder of a PHI
// role is told by email of a sign-in from a new device or network. Every admin guard is attacked.
import '../../support/raw-sql.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { claimsOf, type AppClient } from '../../support/app-tokens.ts';
import { createAgent, formOf, signIn, type Page } from '../../support/browser-agent.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';
import { startSmtpServer, type SmtpTestServer } from '../notify/smtp-test-server.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const CLINIC_V4 = '10.20.3.4';
const CLINIC_V6 = '2001:db8:5::10';
const CAFE_V4 = '198.51.100.7';
const CAFE_V6 = '2001:db8:99::1';
/** The application's server: outside every clinic range. */
const APP_SERVER = '203.0.113.50';

let cg: TestCaregate;
let api: AdminApi;
let smtp: SmtpTestServer;
let app: AppClient;

async function until<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The application's view of the OIDC endpoints, calling from `address`. */
async function appConfig(address: string) {
  const config = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
  config[oidc.customFetch] = (url, options) => {
    const headers = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]);
    headers.set('x-forwarded-for', address);
    return fetch(url, { ...options, headers } as RequestInit);
  };
  return config;
}

/**
 * A person signs in from `browser.address` (a browser that keeps its cookies and may move), and
 * the application exchanges the code from its server. The refresh is made from `address`.
 */
async function signInFrom(browser: { agent: ReturnType<typeof createAgent>; headers: Record<string, string> }, address: string, username: string) {
  browser.headers['x-forwarded-for'] = address;
  // Signed out since the last time: the browser keeps only its device cookie.
  for (const name of browser.agent.jar.keys()) if (!name.startsWith('_device.')) browser.agent.jar.delete(name);
  const config = await appConfig(APP_SERVER);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: app.redirect, scope: 'openid roles offline_access', prompt: 'consent', state: 's', resource: app.resource,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const login = await browser.agent.follow(await browser.agent.get(url.href), app.redirect);
  // Refused before any password is asked for: the page says why.
  if (login.status === 403) return { refused: login };
  let back: Page = await signIn(browser.agent, url.href, username, PASSWORD, app.redirect);
  if (!back.location?.startsWith(app.redirect) && back.status === 200 && /consent|Allow/.test(back.html)) {
    const form = formOf(back);
    back = await browser.agent.follow(await browser.agent.postForm(form.action, form.fields), app.redirect);
  }
  if (!back.location?.startsWith(app.redirect)) return { refused: back };
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location), { pkceCodeVerifier: verifier, expectedState: 's' }, { resource: app.resource });
  return {
    tokens,
    refresh: async (from: string, refreshToken = tokens.refresh_token!) => oidc.refreshTokenGrant(await appConfig(from), refreshToken, { resource: app.resource }),
  };
}

const newBrowser = () => {
  const headers: Record<string, string> = {};
  return { headers, agent: createAgent('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', headers) };
};

async function tokensFrom(address: string, username: string) {
  const result = await signInFrom(newBrowser(), address, username);
  if (!('tokens' in result)) throw new Error(`sign-in from ${address} was refused: ${result.refused.status} ${result.refused.url} ${/class="alert"[^<]*/.exec(result.refused.html)?.[0]} ${result.refused.html.length}`);
  return result as Required<Pick<typeof result, 'tokens' | 'refresh'>>;
}

const rolesIn = (tokens: { access_token: string }) => claimsOf(tokens.access_token).roles as string[];

async function auditEvents(action: string) {
  return cg.runtime.storage.query<{ actor_id: string | null; ip: string | null; details: Record<string, any> }>(
    "SELECT actor_id, ip, details FROM audit_events WHERE action = $1 ORDER BY seq", [action]);
}

const ids: Record<string, string> = {};

beforeAll(async () => {
  // No STARTTLS: smtp:// then delivers in clear (smtp-server's built-in certificate has expired).
  smtp = await startSmtpServer({ disabledCommands: ['STARTTLS'] });
  cg = await startTestCaregate({ overrides: { trustProxy: true, smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Caregate <no-reply@test.example>' } });
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  const created = await accounts.applications.create('demo', {
    name: 'Charts', redirectUris: ['https://charts.example/cb'], grantTypes: ['authorization_code', 'refresh_token'], resource: 'https://charts.example/api',
    permissions: ['chart:read', 'chart:edit', 'schedule:read', 'lab:read'],
  }, cli);
  app = { ...created, redirect: 'https://charts.example/cb', resource: 'https://charts.example/api' };
  await accounts.roles.create('demo', { key: 'chart_editor', name: 'Chart editor', permissions: ['chart:read', 'chart:edit'] }, cli);
  await accounts.roles.create('demo', { key: 'senior_chart_editor', name: 'Senior chart editor', parent: 'chart_editor', permissions: [] }, cli);
  await accounts.roles.create('demo', { key: 'scheduler', name: 'Scheduler', permissions: ['schedule:read'] }, cli);
  await accounts.roles.create('demo', { key: 'lab_viewer', name: 'Lab viewer', permissions: ['lab:read'] }, cli);
  await accounts.roles.create('demo', { key: 'ward_nurse', name: 'Ward nurse', permissions: ['chart:read'], requiresPhi: true }, cli);
  await accounts.roles.create('demo', { key: 'role_keeper', name: 'Role keeper', permissions: ['caregate.roles:read', 'caregate.roles:edit', 'caregate.policy:read'] }, cli);
  await accounts.roles.create('demo', { key: 'policy_keeper', name: 'Policy keeper', permissions: ['caregate.policy:read', 'caregate.policy:edit'] }, cli);
  const people: Array<[string, string[], boolean]> = [
    ['nora', ['chart_editor', 'scheduler'], false],
    ['sam', ['senior_chart_editor'], false],
    ['lena', ['lab_viewer', 'scheduler'], false],
    ['pia', ['ward_nurse'], true],
    ['otto', ['scheduler'], false],
    ['rita', ['role_keeper'], false],
  ];
  for (const [username, roles, phiAccess] of people) {
    ids[username] = (await accounts.users.create('demo', { username, password: PASSWORD, email: `${username}@clinic.example`, phiAccess }, roles.map((role) => ({ role })), cli)).id;
  }
  expect((await api.call('PUT', '/roles/chart_editor/network-rule', { body: { ranges: ['10.20.0.0/16', '2001:db8:5::/48'], description: 'Main St clinic' } })).status).toBe(200);
  expect((await api.call('PUT', '/roles/lab_viewer/network-rule', { body: { ranges: ['2001:DB8:5:0::/48'] } })).status).toBe(200);
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
});

describe('a role that requires the clinic network', () => {
  it('is in tokens issued to a sign-in from inside (IPv4), even though the application exchanges the code from outside', async () => {
    const { tokens } = await tokensFrom(CLINIC_V4, 'nora');
    expect(rolesIn(tokens)).toEqual(['chart_editor', 'scheduler']);
    expect(claimsOf(tokens.access_token).permissions).toEqual(['chart:edit', 'chart:read', 'schedule:read']);
  });

  it('is left out of tokens for a sign-in from outside, while the person\'s other roles still work', async () => {
    const { tokens } = await tokensFrom(CAFE_V4, 'nora');
    expect(rolesIn(tokens)).toEqual(['scheduler']);
    expect(claimsOf(tokens.access_token).permissions).toEqual(['schedule:read']);
  });

  it('is dropped by a refresh from outside and comes back with a refresh from inside', async () => {
    const { tokens, refresh } = await tokensFrom(CLINIC_V4, 'nora');
    expect(rolesIn(tokens)).toContain('chart_editor');
    const outside = await refresh(CAFE_V4);
    expect(rolesIn(outside)).toEqual(['scheduler']);
    const inside = await refresh(CLINIC_V4, outside.refresh_token);
    expect(rolesIn(inside)).toEqual(['chart_editor', 'scheduler']);
  });

  it('matches IPv6 ranges, and an IPv4-mapped IPv6 address against the IPv4 range', async () => {
    expect(rolesIn((await tokensFrom(CLINIC_V6, 'lena')).tokens)).toEqual(['lab_viewer', 'scheduler']);
    expect(rolesIn((await tokensFrom(CAFE_V6, 'lena')).tokens)).toEqual(['scheduler']);
    // The lab role names only the IPv6 range: the clinic's IPv4 network does not open it.
    expect(rolesIn((await tokensFrom(CLINIC_V4, 'lena')).tokens)).toEqual(['scheduler']);
    expect(rolesIn((await tokensFrom(`::ffff:${CLINIC_V4}`, 'nora')).tokens)).toEqual(['chart_editor', 'scheduler']);
  });

  it('binds a role that inherits from it too', async () => {
    expect(rolesIn((await tokensFrom(CLINIC_V4, 'sam')).tokens)).toEqual(['senior_chart_editor']);
    expect(rolesIn((await tokensFrom(CAFE_V4, 'sam')).tokens)).toEqual([]);
  });

  it('shows the rules, normalised', async () => {
    const rules = await api.call('GET', '/network-rules');
    expect(rules.status).toBe(200);
    expect(rules.body.tenant).toBeNull();
    expect(rules.body.roles.map((r: { role: string; ranges: string[] }) => [r.role, r.ranges])).toEqual(expect.arrayContaining([
      ['chart_editor', ['10.20.0.0/16', '2001:db8:5::/48']],
      ['lab_viewer', ['2001:db8:5::/48']],
    ]));
  });

  it('refuses a malformed range or one with host bits set, naming it', async () => {
    const typo = await api.call('PUT', '/roles/scheduler/network-rule', { body: { ranges: ['10.20.0.0/33'] } });
    expect(typo.status).toBe(400);
    expect(typo.body.message ?? JSON.stringify(typo.body)).toMatch(/10\.20\.0\.0\/33/);
    const host = await api.call('PUT', '/roles/scheduler/network-rule', { body: { ranges: ['10.20.3.4/16'] } });
    expect(host.status).toBe(400);
    expect(JSON.stringify(host.body)).toMatch(/10\.20\.0\.0\/16/);
  });
});

describe('a tenant-wide network rule', () => {
  it('will not lock its author out by accident', async () => {
    const reply = await leavesTenantUnchanged(cg, () => api.call('PUT', '/network-rules/tenant', { body: { ranges: ['10.20.0.0/16'] } }));
    expect(reply.status).toBe(409);
    expect(JSON.stringify(reply.body)).toMatch(/127\.0\.0\.1/);
  });

  it('refuses sign-in from outside with a page naming the clinic network, audited; inside (IPv4 and IPv6) it works; a refresh from outside fails', async () => {
    const set = await api.call('PUT', '/network-rules/tenant', { body: { ranges: ['10.20.0.0/16', '2001:db8:5::/48'], description: 'Clinic LAN and VPN', allowOutsideCaller: true } });
    expect(set.status).toBe(200);
    try {
      const inside = await tokensFrom(CLINIC_V4, 'otto');
      expect(rolesIn(inside.tokens)).toEqual(['scheduler']);
      expect(rolesIn((await tokensFrom(CLINIC_V6, 'otto')).tokens)).toEqual(['scheduler']);

      for (const address of [CAFE_V4, CAFE_V6]) {
        const attempt = await signInFrom(newBrowser(), address, 'otto');
        expect('refused' in attempt).toBe(true);
        const page = (attempt as { refused: Page }).refused;
        expect(page.status).toBe(403);
        expect(page.html).toContain('only from the clinic network');
        expect(page.html).not.toMatch(/name="password"/);
      }
      const refusals = await auditEvents('login.network_refused');
      expect(refusals.map((e) => [e.ip, e.details.stage])).toEqual(expect.arrayContaining([[CAFE_V4, 'sign-in'], [CAFE_V6, 'sign-in']]));

      // The refresh token of the sign-in from inside, used from outside: refused, and audited against otto.
      await expect(inside.refresh(CAFE_V4)).rejects.toMatchObject({ error: 'invalid_grant' });
      const refreshRefusal = (await auditEvents('login.network_refused')).find((e) => e.details.stage === 'refresh_token');
      expect(refreshRefusal).toMatchObject({ actor_id: ids.otto, ip: CAFE_V4 });
    } finally {
      expect((await api.call('DELETE', '/network-rules/tenant')).status).toBe(204);
    }
    // Gone: sign-in from anywhere again.
    expect(rolesIn((await tokensFrom(CAFE_V4, 'otto')).tokens)).toEqual(['scheduler']);
  });
});

describe('sign-in from a new place', () => {
  // The body as read (quoted-printable soft line breaks joined).
  const mailsTo = (who: string) => smtp.received.filter((m) => m.to.includes(`${who}@clinic.example`) && /New sign-in/.test(m.data)).map((m) => ({ ...m, data: m.data.replace(/=\r?\n/g, '') }));

  it('emails a holder of a PHI role about a new network or device (not at the first sign-in), and audits it', async () => {
    const laptop = newBrowser();
    await signInFrom(laptop, CLINIC_V4, 'pia');
    await signInFrom(laptop, '10.20.3.99', 'pia'); // same device, same /24
    expect(mailsTo('pia')).toHaveLength(0);

    await signInFrom(laptop, CAFE_V4, 'pia'); // same device, new network
    const network = await until(() => mailsTo('pia')[0]);
    expect(network.data).toMatch(/from a new network/);
    expect(network.data).toContain('198.51.100.0/24');

    await signInFrom(newBrowser(), CAFE_V4, 'pia'); // new device, known network
    const device = await until(() => mailsTo('pia')[1]);
    expect(device.data).toMatch(/from a new device/);
    expect(device.data).toContain('Firefox 128');

    const events = (await auditEvents('login.new_place')).filter((e) => e.actor_id === ids.pia);
    expect(events.map((e) => [e.details.newDevice, e.details.newRange])).toEqual([[false, true], [true, false]]);
  });

  it('says nothing to someone without a PHI role', async () => {
    const laptop = newBrowser();
    await signInFrom(laptop, CLINIC_V4, 'lena');
    await signInFrom(laptop, CAFE_V4, 'lena');
    await signInFrom(newBrowser(), CAFE_V6, 'lena');
    expect(mailsTo('lena')).toHaveLength(0);
    expect((await auditEvents('login.new_place')).filter((e) => e.actor_id === ids.lena)).toHaveLength(0);
  });

  it('makes a new device take the second factor when the tenant says so', async () => {
    const laptop = newBrowser();
    await signInFrom(laptop, CLINIC_V4, 'otto'); // a known device from now on
    expect((await api.call('PATCH', '/policy', { body: { network: { newDeviceRequiresMfa: true } } })).status).toBe(200);
    try {
      // The known browser signs in as before; a new one is sent to set up a second factor.
      expect('tokens' in (await signInFrom(laptop, CLINIC_V4, 'otto'))).toBe(true);
      const fresh = await signInFrom(newBrowser(), CLINIC_V4, 'otto');
      expect('refused' in fresh && fresh.refused?.url).toMatch(/\/enrol$/);
    } finally {
      await api.call('PATCH', '/policy', { body: { network: { newDeviceRequiresMfa: false } } });
    }
  });
});

describe('who may change network rules', () => {
  it('refuses the tenant-wide rule to someone who may edit roles but not the policy, and changes nothing', async () => {
    const roleKeeper = await api.token('demo', await api.serviceClient('demo', ['role_keeper']));
    const put = await leavesTenantUnchanged(cg, () => api.call('PUT', '/network-rules/tenant', { token: roleKeeper, body: { ranges: ['0.0.0.0/0'], allowOutsideCaller: true } }));
    expect(put.status).toBe(403);
    const policyKeeper = await api.token('demo', await api.serviceClient('demo', ['policy_keeper']));
    expect((await leavesTenantUnchanged(cg, () => api.call('DELETE', '/roles/chart_editor/network-rule', { token: policyKeeper }))).status).toBe(403);
    // A role keeper may set a role's rule.
    expect((await api.call('PUT', '/roles/scheduler/network-rule', { token: roleKeeper, body: { ranges: ['10.0.0.0/8'] } })).status).toBe(200);
    expect((await api.call('DELETE', '/roles/scheduler/network-rule', { token: roleKeeper })).status).toBe(204);
  });

  it('refuses, in the service itself, a person without the permission (the CLI and every other door go through it)', async () => {
    const rita = { type: 'user' as const, id: ids.rita! };
    await expect(leavesTenantUnchanged(cg, () => cg.runtime.accounts.networkRules.setTenantRule('demo', { ranges: ['0.0.0.0/0'] }, rita))).rejects.toMatchObject({ status: 403 });
    const otto = { type: 'user' as const, id: ids.otto! };
    await expect(leavesTenantUnchanged(cg, () => cg.runtime.accounts.networkRules.removeRoleRule('demo', 'chart_editor', otto))).rejects.toMatchObject({ status: 403 });
    expect((await api.call('GET', '/network-rules')).body.roles.some((r: { role: string }) => r.role === 'chart_editor')).toBe(true);
  });

  it('audits every change with what it replaced', async () => {
    const sets = await cg.runtime.storage.query<{ target_type: string; before: unknown; after: { ranges: string[] } }>(
      "SELECT target_type, before, after FROM audit_events WHERE action = 'network_rule.set' ORDER BY seq");
    expect(sets[0]).toMatchObject({ target_type: 'role', before: null, after: { ranges: ['10.20.0.0/16', '2001:db8:5::/48'] } });
    expect(sets.some((e) => e.target_type === 'tenant')).toBe(true);
    const removals = await cg.runtime.storage.query("SELECT 1 FROM audit_events WHERE action = 'network_rule.remove'");
    expect(removals.length).toBeGreaterThanOrEqual(2);
  });
});
