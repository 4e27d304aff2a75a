// Applications as administrators change them after registration, through the admin API on a real
// server: PATCH (redirect URIs, grants, catalogue, resources, admin API flag), checked whole like a
// new application and in force for the very next authorization or token; client secret rotation with
// an overlap during which the old and the new secret both work; and who may do each — a client-level
// admin edits its own application only, and never gets a secret that would act beyond its rights.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import type { AssignmentInput } from '../../../src/accounts/schemas.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { createAgent, signIn } from '../../support/browser-agent.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const OLD_REDIRECT = 'https://chart.example/cb';
const NEW_REDIRECT = 'https://chart.example/oidc/callback';
const REPORTS_API = 'https://reports.example/api';

let cg: TestCaregate;
let api: AdminApi;
let tenantId: string;

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  tenantId = (await cg.runtime.accounts.tenants.findBySlug('demo'))!.id;
  await cg.runtime.accounts.users.create('demo', { username: 'alice', password: PASSWORD }, [{ role: 'report_viewer' }], cli);
});

afterAll(async () => cg?.close());

/** A request that must be refused with `status`, leaving the tenant exactly as it was. */
async function refused(status: number, method: string, path: string, options: { body?: unknown; token?: string } = {}) {
  const reply = await leavesTenantUnchanged(cg, () => api.call(method, path, options));
  expect([method, path, reply.status]).toEqual([method, path, status]);
  return reply;
}

/** The authorization endpoint's answer to a code flow request for `clientId` with `redirectUri`. */
async function authorize(clientId: string, redirectUri: string) {
  const agent = createAgent();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = new URL(`${cg.issuer()}/auth`);
  url.search = new URLSearchParams({
    client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', state: 's',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).toString();
  return { agent, url: url.href, first: await agent.get(url.href) };
}

/** A client credentials token request with a secret (HTTP Basic): the status and the body. */
async function clientCredentials(clientId: string, secret: string, resource?: string) {
  const res = await fetch(`${cg.issuer()}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(resource ? { resource } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string; error_description?: string } };
}

/** An admin-API service account holding `role` at `scope` (tenant-wide without one), and its token. */
async function adminWith(role: string, scope?: AssignmentInput['scope']) {
  const client = await api.serviceClient('demo', []);
  const app = await cg.runtime.accounts.applications.get('demo', client.clientId);
  await cg.runtime.accounts.assignments.assign('demo', { userId: app.serviceUserId! }, { role, scope }, cli);
  return api.token('demo', client);
}

describe('PATCH /applications/{clientId}', () => {
  it('changes the redirect URIs for the next authorization at once: the old URI is refused, the new one signs in', async () => {
    const chart = await cg.runtime.accounts.applications.create('demo', { name: 'Chart', redirectUris: [OLD_REDIRECT] }, cli);
    // The client is read (and cached) before the change …
    expect((await authorize(chart.client_id, OLD_REDIRECT)).first.status).toBe(303);

    const reply = await api.call('PATCH', `/applications/${chart.client_id}`, { body: { redirectUris: [NEW_REDIRECT] } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ clientId: chart.client_id, redirectUris: [NEW_REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] });
    expect(reply.body).not.toHaveProperty('clientSecretSealed');

    // … and the next request sees the new metadata.
    const old = await authorize(chart.client_id, OLD_REDIRECT);
    expect(old.first.status).toBe(400);
    expect(old.first.html).toContain('redirect_uri');
    const fresh = await authorize(chart.client_id, NEW_REDIRECT);
    const back = await signIn(fresh.agent, fresh.url, 'alice', PASSWORD, NEW_REDIRECT);
    expect(new URL(back.location!).searchParams.get('code')).toBeTruthy();

    const [event] = await cg.runtime.storage.auditEvents.find({ where: { tenantId, action: 'application.update' }, order: { seq: 'DESC' }, take: 1 });
    expect(event).toMatchObject({ before: { redirectUris: [OLD_REDIRECT] }, after: { redirectUris: [NEW_REDIRECT] } });
  });

  it("reflects a catalogue change in the next token's permissions", async () => {
    const reports = await cg.runtime.accounts.applications.create('demo', {
      name: 'Reports job', grantTypes: ['client_credentials'], resource: REPORTS_API, permissions: ['reports:read'], serviceRoles: ['reporting_user'],
    }, cli);
    const permissions = async () => {
      const { status, body } = await clientCredentials(reports.client_id, reports.client_secret!, REPORTS_API);
      expect(status).toBe(200);
      return (decodeJwt(body.access_token!).permissions as string[]).sort();
    };
    expect(await permissions()).toEqual(['reports:read']);
    expect((await api.call('PATCH', `/applications/${reports.client_id}`, { body: { permissions: ['reports:read', 'dashboards:read'] } })).status).toBe(200);
    expect(await permissions()).toEqual(['dashboards:read', 'reports:read']);
  });

  it('removes a grant at once: client credentials refused, the service account and its roles gone (audited)', async () => {
    const sync = await cg.runtime.accounts.applications.create('demo', { name: 'Sync', redirectUris: [OLD_REDIRECT], grantTypes: ['authorization_code', 'client_credentials'], serviceRoles: ['report_viewer'] }, cli);
    expect((await clientCredentials(sync.client_id, sync.client_secret!)).status).toBe(200);
    const reply = await api.call('PATCH', `/applications/${sync.client_id}`, { body: { grantTypes: ['authorization_code'] } });
    expect([reply.status, reply.body.serviceUserId]).toEqual([200, null]);
    expect(await clientCredentials(sync.client_id, sync.client_secret!)).toMatchObject({ status: 400, body: { error_description: 'requested grant type is not allowed for this client' } });
    expect(await cg.runtime.storage.users.findOneBy({ id: sync.serviceUserId! })).toBeNull();
    expect(await cg.runtime.storage.auditEvents.findOneBy({ tenantId, action: 'assignment.delete', actorId: api.admin.clientId })).toBeTruthy();

    // Given back with a role, the application gets a new service account holding it.
    const again = await api.call('PATCH', `/applications/${sync.client_id}`, { body: { grantTypes: ['authorization_code', 'client_credentials'], serviceRoles: ['report_viewer'] } });
    expect(again.status).toBe(200);
    expect(await cg.runtime.accounts.assignments.list('demo', { userId: again.body.serviceUserId })).toHaveLength(1);
    expect((await clientCredentials(sync.client_id, sync.client_secret!)).status).toBe(200);
  });

  it('refuses an invalid edit with 400 naming the field, and changes nothing', async () => {
    const chart = await cg.runtime.accounts.applications.create('demo', { name: 'Chart 2', redirectUris: [OLD_REDIRECT] }, cli);
    const path = `/applications/${chart.client_id}`;
    const cases: Array<[unknown, RegExp]> = [
      [{ redirectUris: [] }, /^redirectUris: required for the authorization_code grant/],
      [{ redirectUris: ['http://chart.example/cb'] }, /^redirectUris\.0: /],
      [{ serviceRoles: ['report_viewer'] }, /^serviceRoles: only for applications with the client_credentials grant/],
      [{ grantTypes: ['implicit'] }, /^grantTypes\.0: /],
      [{ public: true }, /public/],
      [{ clientId: 'mine' }, /clientId/],
    ];
    for (const [body, message] of cases) {
      const reply = await refused(400, 'PATCH', path, { body });
      expect([body, reply.body.error_description]).toEqual([body, expect.stringMatching(message)]);
    }
    // A public application stays public: no client credentials for it.
    const spa = await cg.runtime.accounts.applications.create('demo', { name: 'SPA', public: true, redirectUris: [OLD_REDIRECT] }, cli);
    const publicCc = await refused(400, 'PATCH', `/applications/${spa.client_id}`, { body: { grantTypes: ['authorization_code', 'client_credentials'] } });
    expect(publicCc.body.error_description).toMatch(/^grantTypes: a public application cannot use client_credentials/);
    // Another application's resource is its own.
    const taken = await refused(409, 'PATCH', path, { body: { resource: REPORTS_API } });
    expect(taken.body.error_description).toContain(REPORTS_API);
    expect(await refused(404, 'PATCH', '/applications/nope', { body: { name: 'x' } })).toBeTruthy();
  });

  it('refuses to name the admin API as the resource or an allowed resource (400)', async () => {
    const chart = await cg.runtime.accounts.applications.create('demo', { name: 'Chart 3', redirectUris: [OLD_REDIRECT] }, cli);
    const own = await refused(400, 'PATCH', `/applications/${chart.client_id}`, { body: { resource: `${api.url}/` } });
    expect(own.body.error_description).toMatch(/^resource: the admin API/);
    const allowed = await refused(400, 'PATCH', `/applications/${chart.client_id}`, { body: { allowedResources: [REPORTS_API, api.url.toUpperCase().replace('HTTP://', 'http://')] } });
    expect(allowed.body.error_description).toMatch(/^allowedResources: the admin API/);
  });

  it('stops the admin tokens of an application whose adminApi flag is cleared, at once', async () => {
    const client = await api.serviceClient('demo', ['report_viewer']);
    const token = await api.token('demo', client);
    await cg.runtime.accounts.assignments.assign('demo', { userId: (await cg.runtime.accounts.applications.get('demo', client.clientId)).serviceUserId! }, { role: 'admin' }, cli);
    expect((await api.call('GET', '/roles', { token })).status).toBe(200);
    expect((await api.call('PATCH', `/applications/${client.clientId}`, { body: { adminApi: false } })).status).toBe(200);
    expect((await api.call('GET', '/roles', { token })).status).toBe(401);
  });
});

describe('who may edit an application', () => {
  let mine: { client_id: string };
  let other: { client_id: string };
  let appAdmin: string;

  beforeAll(async () => {
    const { accounts } = cg.runtime;
    mine = await accounts.applications.create('demo', { name: 'Analytics', redirectUris: ['https://analytics.example/cb'] }, cli);
    other = await accounts.applications.create('demo', { name: 'HR', redirectUris: ['https://hr.example/cb'] }, cli);
    await accounts.roles.create('demo', { key: 'app_admin', name: 'Application admin', permissions: ['caregate.applications:read', 'caregate.applications:edit', 'caregate.applications:delete'] }, cli);
    appAdmin = await adminWith('app_admin', { type: 'application', clientId: mine.client_id });
  });

  it('lets a client-level admin edit and rotate the secret of its own application', async () => {
    const edit = await api.call('PATCH', `/applications/${mine.client_id}`, { token: appAdmin, body: { redirectUris: ['https://analytics.example/cb', 'https://analytics.example/cb2'], permissions: ['dashboards:read'] } });
    expect(edit.status).toBe(200);
    expect(edit.body.permissions).toEqual(['dashboards:read']);
    const rotated = await api.call('POST', `/applications/${mine.client_id}/secret`, { token: appAdmin, body: { overlapMinutes: 5 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses it another application (403 out_of_scope), deleting its own, and opening the admin API', async () => {
    for (const [method, path, body] of [
      ['PATCH', `/applications/${other.client_id}`, { name: 'Mine now' }],
      ['POST', `/applications/${other.client_id}/secret`, {}],
    ] as const) {
      expect((await refused(403, method, path, { token: appAdmin, body })).body.error).toBe('out_of_scope');
    }
    await refused(403, 'DELETE', `/applications/${mine.client_id}`, { token: appAdmin });
    expect((await refused(403, 'PATCH', `/applications/${mine.client_id}`, { token: appAdmin, body: { adminApi: true } })).body.error).toBe('out_of_scope');
  });

  it('refuses a client-level admin the secret of an application whose service account holds more than it does (escalation)', async () => {
    const { accounts } = cg.runtime;
    const job = await accounts.applications.create('demo', { name: 'Billing job', grantTypes: ['client_credentials'], serviceRoles: ['billing_user'] }, cli);
    const jobAdmin = await adminWith('app_admin', { type: 'application', clientId: job.client_id });
    const reply = await refused(403, 'POST', `/applications/${job.client_id}/secret`, { token: jobAdmin, body: {} });
    expect(reply.body).toMatchObject({ error: 'escalation_refused', details: { role: 'billing_user' } });
    // Nor may it hand its application's service account a role.
    expect((await refused(403, 'PATCH', `/applications/${job.client_id}`, { token: jobAdmin, body: { serviceRoles: ['billing_user', 'report_viewer'] } })).body.error).toBe('out_of_scope');
  });

  it('leaves an application that reaches the admin API to someone holding every admin permission: its redirect URIs and secret decide whose admin tokens one gets', async () => {
    const adminConsole = await cg.runtime.accounts.applications.create('demo', { name: 'Admin console', redirectUris: ['https://console.example/cb'], adminApi: true }, cli);
    await cg.runtime.accounts.roles.create('demo', { key: 'app_manager', name: 'Application manager', permissions: ['caregate.applications:*'] }, cli);
    const manager = await adminWith('app_manager');
    const consoleAdmin = await adminWith('app_admin', { type: 'application', clientId: adminConsole.client_id });
    for (const token of [manager, consoleAdmin]) {
      const redirect = await refused(403, 'PATCH', `/applications/${adminConsole.client_id}`, { token, body: { redirectUris: ['https://evil.example/cb'] } });
      expect(redirect.body).toMatchObject({ error: 'escalation_refused', details: { missing: expect.arrayContaining(['caregate.users:edit']) } });
      expect((await refused(403, 'POST', `/applications/${adminConsole.client_id}/secret`, { token, body: {} })).body.error).toBe('escalation_refused');
    }
    expect((await refused(403, 'PATCH', `/applications/${mine.client_id}`, { token: manager, body: { adminApi: true } })).body.error).toBe('escalation_refused');
    expect((await refused(403, 'POST', '/applications', { token: manager, body: { name: 'Shadow console', redirectUris: ['https://evil.example/cb'], adminApi: true } })).body.error).toBe('escalation_refused');
    // The manager runs every other application, and a full administrator this one.
    expect((await api.call('PATCH', `/applications/${mine.client_id}`, { token: manager, body: { name: 'Analytics (EU)' } })).status).toBe(200);
    expect((await api.call('PATCH', `/applications/${adminConsole.client_id}`, { body: { redirectUris: ['https://console.example/callback'] } })).status).toBe(200);
  });

  it('refuses a caller without caregate.applications:edit (403)', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'app_reader', name: 'Application reader', permissions: ['caregate.applications:read'] }, cli);
    const reader = await adminWith('app_reader');
    expect((await api.call('GET', `/applications/${mine.client_id}`, { token: reader })).status).toBe(200);
    expect((await refused(403, 'PATCH', `/applications/${mine.client_id}`, { token: reader, body: { name: 'x' } })).body.error).toBe('insufficient_permissions');
    await refused(403, 'POST', `/applications/${mine.client_id}/secret`, { token: reader, body: {} });
  });
});

describe('POST /applications/{clientId}/secret', () => {
  let job: { client_id: string; client_secret?: string };

  beforeAll(async () => {
    job = await cg.runtime.accounts.applications.create('demo', { name: 'Nightly export', grantTypes: ['client_credentials'], serviceRoles: ['report_viewer'] }, cli);
  });

  const rotate = async (body: unknown) => {
    const reply = await api.call('POST', `/applications/${job.client_id}/secret`, { body });
    expect(reply.status).toBe(200);
    return reply.body as { client_id: string; client_secret: string; previousSecretExpiresAt: string | null };
  };
  const works = async (secret: string) => (await clientCredentials(job.client_id, secret)).status === 200;

  it('returns a new secret once; during the overlap the old and the new one both get tokens', async () => {
    const first = job.client_secret!;
    expect(await works(first)).toBe(true);
    const before = Date.now();
    const rotated = await rotate({ overlapMinutes: 30 });
    expect(rotated.client_id).toBe(job.client_id);
    expect(rotated.client_secret).not.toBe(first);
    expect(new Date(rotated.previousSecretExpiresAt!).getTime()).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1000);
    expect([await works(first), await works(rotated.client_secret)]).toEqual([true, true]);
    // The revocation endpoint (as introspection) authenticates the client the same way, in the body too.
    const revoke = (secret: string) => fetch(`${cg.issuer()}/token/revocation`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'not-a-token', client_id: job.client_id, client_secret: secret }),
    }).then((res) => res.status);
    expect([await revoke(first), await revoke(rotated.client_secret), await revoke('wrong')]).toEqual([200, 200, 401]);
    // The secret is never shown again.
    expect(JSON.stringify((await api.call('GET', `/applications/${job.client_id}`)).body)).not.toContain(rotated.client_secret);
    job.client_secret = rotated.client_secret;

    // When the overlap ends (here: moved into the past), only the new secret works.
    await cg.runtime.storage.query("UPDATE applications SET previous_secret_expires_at = now() - interval '1 second' WHERE client_id = $1", [job.client_id]);
    await cg.runtime.claimsCache.invalidate(tenantId);
    expect([await works(first), await works(rotated.client_secret)]).toEqual([false, true]);
    expect((await clientCredentials(job.client_id, first)).body.error).toBe('invalid_client');
  });

  it('with overlapMinutes 0 stops the old secret at once', async () => {
    const old = job.client_secret!;
    const rotated = await rotate({ overlapMinutes: 0 });
    expect(rotated.previousSecretExpiresAt).toBeNull();
    expect([await works(old), await works(rotated.client_secret)]).toEqual([false, true]);
    job.client_secret = rotated.client_secret;
  });

  it('keeps one previous secret: rotating again during an overlap ends the earlier one', async () => {
    const a = job.client_secret!;
    const b = (await rotate({})).client_secret; // default overlap, 60 minutes
    const c = (await rotate({ overlapMinutes: 10 })).client_secret;
    expect([await works(a), await works(b), await works(c)]).toEqual([false, true, true]);
    job.client_secret = c;
  });

  it('audits each rotation without either secret', async () => {
    const rotated = await rotate({ overlapMinutes: 15 });
    const events = await cg.runtime.storage.auditEvents.find({ where: { tenantId, action: 'application.secret.rotate', targetId: (await cg.runtime.accounts.applications.get('demo', job.client_id)).id }, order: { seq: 'ASC' } });
    expect(events).toHaveLength(5);
    expect(events.at(-1)).toMatchObject({ actorType: 'client', actorId: api.admin.clientId, details: { overlapMinutes: 15, previousSecret: 'accepted until previousSecretExpiresAt', earlierOverlapEnded: true } });
    expect(events[1]).toMatchObject({ details: { overlapMinutes: 0, previousSecret: 'revoked', previousSecretExpiresAt: null } });
    const [row] = await cg.runtime.storage.query<{ client_secret_sealed: string; previous_secret_sealed: string }>('SELECT client_secret_sealed, previous_secret_sealed FROM applications WHERE client_id = $1', [job.client_id]);
    const logged = JSON.stringify(events);
    for (const secret of [rotated.client_secret, job.client_secret!, row!.client_secret_sealed, row!.previous_secret_sealed]) expect(logged).not.toContain(secret);
    job.client_secret = rotated.client_secret;
  });

  it('refuses an overlap beyond 7 days (400) and a public application, which has no secret (409)', async () => {
    expect((await refused(400, 'POST', `/applications/${job.client_id}/secret`, { body: { overlapMinutes: 7 * 24 * 60 + 1 } })).body.error_description).toMatch(/^overlapMinutes: /);
    const spa = await cg.runtime.accounts.applications.create('demo', { name: 'SPA 2', public: true, redirectUris: [OLD_REDIRECT] }, cli);
    await refused(409, 'POST', `/applications/${spa.client_id}/secret`, { body: {} });
  });
});
