// Written as an attacker holding one small admin permission would try to turn it into full admin:
// grant themselves or everyone a bigger role, register an application whose service account is
// admin, reach the admin API through a resource setting, join a team that carries admin, map
// upstream users to admin, or take over the owner's account. Each attempt is refused with 403 (or
// 400 for input no one may send), the refusal is audited, and the tenant is left exactly as it was.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { adminCatalogue } from '../../../src/accounts/index.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi, type AdminReply } from '../../support/admin-api-client.ts';
import { tenantState } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;
let roleCount = 0;

interface Attacker {
  token: string;
  clientId: string;
  /** The username of the application's service account: the attacker's own user. */
  self: string;
}

/** A client_credentials application whose service account holds exactly `permissions` (a fresh role), and its admin token. */
async function attacker(permissions: string[], constraints: Record<string, { maxAmount: number }> = {}): Promise<Attacker> {
  const key = `attacker_${++roleCount}`;
  await cg.runtime.accounts.roles.create('demo', { key, name: `Attacker ${roleCount}`, permissions, constraints }, cli);
  const client = await api.serviceClient('demo', [key]);
  return { token: await api.token('demo', client), clientId: client.clientId, self: `svc-${client.clientId}` };
}

/** Sends a request that must be refused; checks nothing an admin manages changed and one refusal was audited. */
async function refusedAndAudited(by: Attacker, method: string, path: string, body?: unknown): Promise<AdminReply> {
  const before = await tenantState(cg);
  const head = await api.auditHead();
  const reply = await api.call(method, path, { token: by.token, body });
  expect(await tenantState(cg)).toEqual(before);
  const events = (await api.call('GET', '/audit?limit=20')).body.events.filter((e: any) => BigInt(e.seq) > BigInt(head));
  expect(events).toEqual([expect.objectContaining({ action: 'admin.forbidden', outcome: 'failure', actorType: 'client', actorId: by.clientId })]);
  return reply;
}

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  await accounts.users.create('demo', { username: 'alice', password: PASSWORD, email: 'alice@clinic.example' }, [], cli);
  await accounts.users.create('demo', { username: 'bob', password: PASSWORD }, [{ role: 'report_viewer' }], cli);
  await accounts.teams.create('demo', { key: 'admins', name: 'Administrators' }, cli);
  await accounts.assignments.assign('demo', { teamId: (await accounts.teams.get('demo', 'admins')).id }, { role: 'admin' }, cli);
  await accounts.teams.create('demo', { key: 'readers', name: 'Report readers' }, cli);
  await accounts.assignments.assign('demo', { teamId: (await accounts.teams.get('demo', 'readers')).id }, { role: 'report_viewer' }, cli);
  await accounts.locations.create('demo', { key: 'north', name: 'North clinic' }, cli);
});

afterAll(async () => cg?.close());

describe('granting roles', () => {
  it('refuses a holder of caregate.assignments:create granting itself admin (403 self_change_refused), changing nothing', async () => {
    const me = await attacker(['caregate.assignments:create', 'caregate.users:read']);
    const reply = await refusedAndAudited(me, 'POST', `/users/${me.self}/assignments`, { role: 'admin' });
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('self_change_refused');
  });

  it('refuses granting admin to another user (403 escalation_refused naming what the caller lacks), audited with the reason', async () => {
    const me = await attacker(['caregate.assignments:create', 'caregate.users:read']);
    const reply = await refusedAndAudited(me, 'POST', '/users/alice/assignments', { role: 'admin' });
    expect(reply.status).toBe(403);
    expect(reply.body).toMatchObject({ error: 'escalation_refused', error_description: expect.stringContaining('role "admin"'), details: { reason: 'escalation', role: 'admin', missing: ['*'] } });
    const [event] = (await api.call('GET', '/audit?limit=1')).body.events;
    expect(event.details).toMatchObject({ reason: 'escalation', role: 'admin', code: 'escalation_refused', path: '/admin/api/v1/t/demo/users/alice/assignments' });
  });

  it('refuses granting admin to every user at once through the everyone team', async () => {
    const me = await attacker(['caregate.assignments:create']);
    const reply = await refusedAndAudited(me, 'POST', '/teams/everyone/assignments', { role: 'admin' });
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
  });

  it('refuses a role the caller holds only partly (an application permission it lacks)', async () => {
    const me = await attacker(['caregate.assignments:create', 'reports:read']);
    const reply = await refusedAndAudited(me, 'POST', '/users/alice/assignments', { role: 'reporting_user' });
    expect(reply.body.details.missing).toEqual(['dashboards:read']);
  });

  it('refuses creating a user who holds admin from the start, creating no user', async () => {
    const me = await attacker(['caregate.users:create', 'caregate.users:read']);
    const reply = await refusedAndAudited(me, 'POST', '/users', { username: 'backdoor', password: PASSWORD, assignments: [{ role: 'admin' }] });
    expect(reply.status).toBe(403);
    expect((await api.call('GET', '/users/backdoor')).status).toBe(404);
  });

  it('grants a role whose every permission the caller holds (201): the rule refuses escalation, not delegation', async () => {
    const me = await attacker(['caregate.assignments:create', 'reports:read']);
    const reply = await api.call('POST', '/users/alice/assignments', { token: me.token, body: { role: 'report_viewer', scope: { type: 'location', key: 'north' } } });
    expect(reply.status).toBe(201);
  });

  it('refuses taking away an admin\'s admin assignment, or one\'s own, to a holder of caregate.assignments:delete', async () => {
    const me = await attacker(['caregate.assignments:delete', 'caregate.assignments:read']);
    const [adminsAdmin] = (await api.call('GET', '/users/admin/assignments')).body;
    const removeAdmin = await refusedAndAudited(me, 'DELETE', `/assignments/${adminsAdmin.id}`);
    expect([removeAdmin.status, removeAdmin.body.error]).toEqual([403, 'escalation_refused']);
    const [own] = (await api.call('GET', `/users/${me.self}/assignments`)).body;
    const removeOwn = await refusedAndAudited(me, 'DELETE', `/assignments/${own.id}`);
    expect([removeOwn.status, removeOwn.body.error]).toEqual([403, 'self_change_refused']);
  });
});

describe('limits count: a permission held up to an amount is not held without it', () => {
  const UP_TO_500 = { 'billing:charges:approve': { maxAmount: 500 } };
  beforeAll(async () => {
    const { roles } = cg.runtime.accounts;
    await roles.create('demo', { key: 'charges_small', name: 'Approves small charges', permissions: ['billing:charges:approve'], constraints: { 'billing:charges:approve': { maxAmount: 200 } } }, cli);
    await roles.create('demo', { key: 'charges_large', name: 'Approves large charges', permissions: ['billing:charges:approve'], constraints: { 'billing:charges:approve': { maxAmount: 5000 } } }, cli);
    await roles.create('demo', { key: 'charges_any', name: 'Approves any charge', permissions: ['billing:charges:approve'] }, cli);
  });

  it.each(['charges_large', 'charges_any'])('refuses granting %s to someone (403 escalation_refused naming the limit), changing nothing', async (role) => {
    const me = await attacker(['caregate.assignments:create', 'caregate.users:read', 'billing:charges:approve'], UP_TO_500);
    const reply = await refusedAndAudited(me, 'POST', '/users/bob/assignments', { role });
    expect(reply.status).toBe(403);
    expect(reply.body).toMatchObject({ error: 'escalation_refused', error_description: expect.stringContaining('wider limits'), details: { reason: 'escalation', role, widerLimits: ['billing:charges:approve'] } });
  });

  it('allows granting the permission within the caller\'s own limit', async () => {
    const me = await attacker(['caregate.assignments:create', 'caregate.users:read', 'billing:charges:approve'], UP_TO_500);
    const reply = await api.call('POST', '/users/bob/assignments', { token: me.token, body: { role: 'charges_small' } });
    expect(reply.status).toBe(201);
    expect((await api.call('DELETE', `/assignments/${reply.body.id}`)).status).toBe(204);
  });

  it('refuses raising a role\'s limit above the caller\'s own, or lifting it, changing nothing', async () => {
    const me = await attacker(['caregate.roles:edit', 'caregate.roles:read', 'billing:charges:approve'], UP_TO_500);
    for (const constraints of [{ 'billing:charges:approve': { maxAmount: 600 } }, {}]) {
      const reply = await refusedAndAudited(me, 'PATCH', '/roles/charges_small', { constraints });
      expect([reply.status, reply.body.error, reply.body.details?.widerLimits]).toEqual([403, 'escalation_refused', ['billing:charges:approve']]);
    }
    expect((await api.call('PATCH', '/roles/charges_small', { token: me.token, body: { constraints: { 'billing:charges:approve': { maxAmount: 400 } } } })).status).toBe(200);
  });
});

describe('team membership counts as granting the team\'s roles', () => {
  it('refuses a holder of caregate.teams:edit joining a team that carries admin, or putting someone else in it', async () => {
    const me = await attacker(['caregate.teams:edit', 'caregate.users:read']);
    const self = await refusedAndAudited(me, 'POST', '/teams/admins/members', { user: me.self });
    expect([self.status, self.body.error]).toEqual([403, 'self_change_refused']);
    const other = await refusedAndAudited(me, 'POST', '/teams/admins/members', { user: 'alice' });
    expect([other.status, other.body.error]).toEqual([403, 'escalation_refused']);
  });

  it('refuses removing the owner from a team that carries admin', async () => {
    await cg.runtime.accounts.teamMembers.add('demo', 'admins', (await cg.runtime.accounts.users.findUser('demo', 'admin')).id, cli);
    const me = await attacker(['caregate.teams:edit']);
    const reply = await refusedAndAudited(me, 'DELETE', '/teams/admins/members/admin');
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
  });

  it('adds a user to a team whose roles the caller holds (204)', async () => {
    const me = await attacker(['caregate.teams:edit', 'reports:read']);
    expect((await api.call('POST', '/teams/readers/members', { token: me.token, body: { user: 'alice' } })).status).toBe(204);
  });
});

describe('applications', () => {
  it('refuses a holder of caregate.applications:create registering an admin-API application whose service account is admin, with no secret issued', async () => {
    const me = await attacker(['caregate.applications:create']);
    const reply = await refusedAndAudited(me, 'POST', '/applications', { name: 'x', grantTypes: ['client_credentials'], adminApi: true, serviceRoles: ['admin'] });
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
    expect(reply.body).not.toHaveProperty('client_secret');
  });

  it.each([
    ['allowedResources names the admin API', (u: string) => ({ allowedResources: [u] })],
    ['resource is the admin API', (u: string) => ({ resource: u })],
    ['allowedResources names it with a trailing slash', (u: string) => ({ allowedResources: [`${u}/`] })],
    ['resource names it with the host in capitals', (u: string) => ({ resource: u.replace('localhost', 'LOCALHOST') })],
  ])('refuses an application whose %s (400), registering nothing: the admin API is reached only through adminApi', async (_, fields) => {
    const before = await tenantState(cg);
    const reply = await api.call('POST', '/applications', { body: { name: 'Sneaky', grantTypes: ['client_credentials'], ...fields(api.url) } });
    expect(reply.status).toBe(400);
    expect(reply.body.error_description).toMatch(/resource|allowedResources/);
    expect(reply.body.error_description).toContain('adminApi');
    expect(await tenantState(cg)).toEqual(before);
  });

  it('issues no admin-API token to an older application that names the admin API among its resources but lacks adminApi', async () => {
    const app = await cg.runtime.accounts.applications.create('demo', { name: 'Legacy', grantTypes: ['client_credentials'], serviceRoles: ['admin'] }, cli);
    await cg.runtime.storage.query('UPDATE applications SET allowed_resources = $1, resource = $2 WHERE client_id = $3', [JSON.stringify([api.url]), api.url, app.client_id]);
    await cg.runtime.claimsCache.invalidate(app.tenantId);
    const config = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
    await expect(oidc.clientCredentialsGrant(config, { resource: api.url })).rejects.toMatchObject({ error: 'invalid_target' });
    await expect(oidc.clientCredentialsGrant(config)).rejects.toMatchObject({ error: 'invalid_target' });
  });
});

describe('managing accounts', () => {
  it.each([
    ['sets a temporary password for', 'POST', '/users/admin/password/reset', { mode: 'temporary' }],
    ['emails a reset link to', 'POST', '/users/admin/password/reset', { mode: 'link' }],
    ['resets the second factors of', 'POST', '/users/admin/mfa/reset', undefined],
    ['disables', 'POST', '/users/admin/disable', undefined],
    ['edits', 'PATCH', '/users/admin', { email: 'attacker@evil.example' }],
    ['unlocks', 'POST', '/users/admin/unlock', undefined],
    ['ends the sessions of', 'DELETE', '/users/admin/sessions', undefined],
  ])('refuses a holder of caregate.users:edit who %s the tenant\'s admin (403 escalation_refused)', async (_, method, path, body) => {
    const me = await attacker(['caregate.users:edit', 'caregate.users:read']);
    const reply = await refusedAndAudited(me, method, path, body);
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
    expect(reply.body.details.missing).toEqual(['*']);
  });

  it('refuses a holder of caregate.users:delete deleting the tenant\'s admin', async () => {
    const me = await attacker(['caregate.users:delete']);
    const reply = await refusedAndAudited(me, 'DELETE', '/users/admin');
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
  });

  it('refuses an admin changing its own account (flags, status) through the admin API', async () => {
    const me = await attacker(['caregate.users:edit', 'caregate.users:read']);
    for (const [method, path, body] of [['PATCH', `/users/${me.self}`, { phiAccess: true }], ['POST', `/users/${me.self}/disable`]] as const) {
      const reply = await refusedAndAudited(me, method, path, body);
      expect([reply.status, reply.body.error]).toEqual([403, 'self_change_refused']);
    }
  });

  it('lets a help desk (caregate.users:edit) reset the password of a user without admin rights', async () => {
    const me = await attacker(['caregate.users:edit']);
    const reply = await api.call('POST', '/users/bob/password/reset', { token: me.token, body: { mode: 'temporary' } });
    expect(reply.status).toBe(200);
    expect(reply.body.password).toEqual(expect.any(String));
  });
});

describe('mapping rules grant what they name', () => {
  it('refuses a holder of caregate.connections:create mapping upstream users to admin', async () => {
    const me = await attacker(['caregate.connections:create']);
    const reply = await refusedAndAudited(me, 'POST', '/connections', {
      key: 'evil', type: 'oidc', name: 'Evil IdP', preset: 'generic', issuer: 'https://idp.evil.example', clientId: 'x', clientSecret: 'a-secret-of-the-attackers-own-idp',
      mappings: [{ claim: 'email', role: 'admin' }],
    });
    expect([reply.status, reply.body.error, reply.body.details.role]).toEqual([403, 'escalation_refused', 'admin']);
  });

  it('refuses a holder of caregate.directory:create mapping directory users into a team that carries admin', async () => {
    const me = await attacker(['caregate.directory:create']);
    const reply = await refusedAndAudited(me, 'POST', '/directory-sources', {
      key: 'evil', name: 'Evil directory', preset: 'openldap', urls: ['ldaps://ldap.evil.example'], bindDn: 'cn=svc,dc=evil', bindPassword: 'secret', baseDn: 'dc=evil',
      mappings: [{ claim: 'uid', team: 'admins' }],
    });
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
  });
});

describe('every admin write route', () => {
  // Real targets, so that without the permission check each request would have done something.
  async function targets() {
    const { body: [assignment] } = await api.call('GET', '/users/bob/assignments');
    const { body: apps } = await api.call('GET', '/applications');
    return { user: 'bob', key: 'readers', clientId: apps[0].clientId, id: assignment.id, session: 'some-session', run: '00000000-0000-4000-8000-000000000000' };
  }

  it('refuses (403, audited, nothing changed) a caller holding every admin permission but the route\'s own', async () => {
    const { body: openapi } = await api.call('GET', '/admin/api/openapi.json', { token: null });
    const values: Record<string, string> = await targets();
    const writes = Object.entries(openapi.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops)
        // Self-service routes (/me/…) need no admin permission: their own guards are tested with them.
        .filter(([method, op]) => method !== 'get' && op['x-required-permission'] !== null)
        .map(([method, op]) => ({ method: method.toUpperCase(), path, permission: op['x-required-permission'] as string })));
    expect(writes.length).toBeGreaterThan(30);
    const attackers = new Map<string, Attacker>();
    for (const { method, path, permission } of writes) {
      if (!attackers.has(permission)) attackers.set(permission, await attacker(adminCatalogue.filter((p) => p !== permission)));
      const concrete = path.replace('/v1/t/{tenant}', '').replace(/\{(\w+)\}/g, (_, name: string) => (name === 'key' && path.startsWith('/v1/t/{tenant}/roles') ? 'report_viewer' : name === 'key' && path.includes('/locations') ? 'north' : values[name]!));
      const reply = await refusedAndAudited(attackers.get(permission)!, method, concrete, {});
      expect([method, path, reply.status, reply.body.error]).toEqual([method, path, 403, 'insufficient_permissions']);
    }
  });
});
