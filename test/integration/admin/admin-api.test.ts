// The admin REST API against a running Caregate: a service account gets a token for the admin API
// resource through client credentials (openid-client), then manages users, roles, locations,
// institutions, teams, assignments and applications. Bad input gets the right status, a clear
// error body and changes nothing; every change is audited with its actor, before/after and IP.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { SAML } from '@node-saml/node-saml';
import { adminCatalogue } from '../../../src/accounts/index.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { selfSignedCertificate } from '../../support/self-signed-certificate.ts';
import { startUpstreamOidc, type UpstreamOidc } from '../../support/upstream-oidc.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let adminApi: string;
let admin: AdminApi['admin'];

/** The admin API client (test/support/admin-api-client.ts); these name its parts as the tests use them. */
let api: AdminApi;
const serviceClient = (tenant: string, roles: string[]) => api.serviceClient(tenant, roles);
const adminToken: AdminApi['token'] = (tenant, client) => api.token(tenant, client);
const call: AdminApi['call'] = (method, path, options) => api.call(method, path, options);
const refused: AdminApi['refused'] = (request) => api.refused(request);

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  ({ url: adminApi, admin } = api);
});

afterAll(async () => cg?.close());

describe('admin access token', () => {
  it('is an opaque token from the tenant issuer for the admin API audience, carrying the whole admin catalogue (its introspection says)', async () => {
    expect(admin.token).not.toContain('.');
    const payload = await api.introspect(admin, admin.token);
    expect(payload).toMatchObject({ active: true, iss: cg.issuer(), aud: adminApi });
    expect(payload.client_id).toBe(admin.clientId);
    expect(payload.tenant).toBe('demo');
    expect([...(payload.permissions as string[])].sort()).toEqual([...adminCatalogue].sort());
  });
});

// Every admin route with the permission it requires (the contract a console or script relies on).
const ROUTES: Array<[method: string, path: string, permission: string | null]> = [
  ['get', '/me', null],
  ['patch', '/locations/{key}', 'caregate.locations:edit'],
  ['patch', '/institutions/{key}', 'caregate.institutions:edit'],
  ['get', '/policy', 'caregate.policy:read'],
  ['patch', '/policy', 'caregate.policy:edit'],
  ['get', '/users/{user}/security', 'caregate.users:read'],
  ['post', '/users/{user}/unlock', 'caregate.users:edit'],
  ['post', '/users/{user}/mfa/reset', 'caregate.users:edit'],
  ['post', '/users/{user}/password/reset', 'caregate.users:edit'],
  ['post', '/users/{user}/invitation', 'caregate.users:edit'],
  ['get', '/users/{user}/sessions', 'caregate.users:read'],
  ['delete', '/users/{user}/sessions', 'caregate.users:edit'],
  ['delete', '/users/{user}/sessions/{session}', 'caregate.users:edit'],
  ['get', '/users', 'caregate.users:read'],
  ['post', '/users', 'caregate.users:create'],
  ['get', '/users/{user}', 'caregate.users:read'],
  ['patch', '/users/{user}', 'caregate.users:edit'],
  ['post', '/users/{user}/disable', 'caregate.users:edit'],
  ['post', '/users/{user}/enable', 'caregate.users:edit'],
  ['delete', '/users/{user}', 'caregate.users:delete'],
  ['get', '/users/{user}/assignments', 'caregate.assignments:read'],
  ['post', '/users/{user}/assignments', 'caregate.assignments:create'],
  ['post', '/teams/{key}/assignments', 'caregate.assignments:create'],
  ['delete', '/assignments/{id}', 'caregate.assignments:delete'],
  ['get', '/roles', 'caregate.roles:read'],
  ['post', '/roles', 'caregate.roles:create'],
  ['get', '/roles/{key}', 'caregate.roles:read'],
  ['patch', '/roles/{key}', 'caregate.roles:edit'],
  ['delete', '/roles/{key}', 'caregate.roles:delete'],
  ['get', '/owner', 'caregate.tenant:read'],
  ['post', '/owner/transfer', 'caregate.tenant:edit'],
  ['put', '/owner/backups', 'caregate.tenant:edit'],
  ['post', '/owner/claim', 'caregate.tenant:edit'],
  ['get', '/profile-schema', 'caregate.tenant:read'],
  ['put', '/profile-schema', 'caregate.tenant:edit'],
  ['post', '/users/bulk', 'caregate.users:edit'],
  ['get', '/users/{user}/overrides', 'caregate.assignments:read'],
  ['put', '/users/{user}/overrides', 'caregate.assignments:create'],
  ['delete', '/users/{user}/overrides/{id}', 'caregate.assignments:delete'],
  ['get', '/users/{user}/effective-permissions', 'caregate.users:read'],
  ['get', '/derived-roles', 'caregate.roles:read'],
  ['post', '/derived-roles', 'caregate.roles:edit'],
  ['delete', '/derived-roles/{id}', 'caregate.roles:edit'],
  ...(['locations', 'institutions', 'teams'] as const).flatMap((k): Array<[string, string, string]> => [
    ['get', `/${k}`, `caregate.${k}:read`],
    ['post', `/${k}`, `caregate.${k}:create`],
    ['get', `/${k}/{key}`, `caregate.${k}:read`],
    ['delete', `/${k}/{key}`, `caregate.${k}:delete`],
  ]),
  ['post', '/teams/{key}/members', 'caregate.teams:edit'],
  ['delete', '/teams/{key}/members/{user}', 'caregate.teams:edit'],
  ['patch', '/teams/{key}', 'caregate.teams:edit'],
  ['get', '/teams/{key}/members', 'caregate.teams:read'],
  ['get', '/teams/{key}/assignments', 'caregate.assignments:read'],
  ['get', '/applications', 'caregate.applications:read'],
  ['post', '/applications', 'caregate.applications:create'],
  ['get', '/applications/{clientId}', 'caregate.applications:read'],
  ['delete', '/applications/{clientId}', 'caregate.applications:delete'],
  ['patch', '/applications/{clientId}', 'caregate.applications:edit'],
  ['post', '/applications/{clientId}/secret', 'caregate.applications:edit'],
  ['put', '/applications/{clientId}/saml', 'caregate.applications:edit'],
  ['delete', '/applications/{clientId}/saml', 'caregate.applications:edit'],
  ['get', '/connections', 'caregate.connections:read'],
  ['post', '/connections', 'caregate.connections:create'],
  ['get', '/connections/{key}', 'caregate.connections:read'],
  ['patch', '/connections/{key}', 'caregate.connections:edit'],
  ['delete', '/connections/{key}', 'caregate.connections:delete'],
  ['post', '/connections/{key}/test', 'caregate.connections:read'],
  ['get', '/directory-sources', 'caregate.directory:read'],
  ['post', '/directory-sources', 'caregate.directory:create'],
  ['get', '/directory-sources/{key}', 'caregate.directory:read'],
  ['patch', '/directory-sources/{key}', 'caregate.directory:edit'],
  ['delete', '/directory-sources/{key}', 'caregate.directory:delete'],
  ['post', '/directory-sources/{key}/test', 'caregate.directory:read'],
  ['post', '/directory-sources/{key}/sync', 'caregate.directory:sync'],
  ['get', '/directory-sources/{key}/runs', 'caregate.directory:read'],
  ['get', '/directory-sources/{key}/runs/{run}', 'caregate.directory:read'],
  ['get', '/service-accounts', 'caregate.service_accounts:read'],
  ['post', '/service-accounts', 'caregate.service_accounts:create'],
  ['delete', '/service-accounts/{account}', 'caregate.service_accounts:delete'],
  ['post', '/service-accounts/{account}/keys', 'caregate.service_accounts:edit'],
  ['get', '/api-keys', 'caregate.service_accounts:read'],
  ['post', '/api-keys/{id}/rotate', 'caregate.service_accounts:edit'],
  ['delete', '/api-keys/{id}', 'caregate.service_accounts:edit'],
  ['get', '/network-rules', 'caregate.policy:read'],
  ['put', '/network-rules/tenant', 'caregate.policy:edit'],
  ['delete', '/network-rules/tenant', 'caregate.policy:edit'],
  ['put', '/roles/{key}/network-rule', 'caregate.roles:edit'],
  ['delete', '/roles/{key}/network-rule', 'caregate.roles:edit'],
  ['delete', '/delegations/{id}', 'caregate.assignments:delete'],
  ['delete', '/emergency-access/rules/{key}', 'caregate.policy:edit'],
  ['delete', '/me/delegations/{id}', null],
  ['get', '/access-requests', null],
  ['get', '/access-requests/choices', null],
  ['get', '/access-reviews', 'caregate.reviews:decide'],
  ['get', '/access-reviews/{id}/my-items', 'caregate.reviews:decide'],
  ['get', '/access-reviews/{id}/report', 'caregate.reviews:manage'],
  ['get', '/delegations', 'caregate.assignments:read'],
  ['get', '/emergency-access/rules', 'caregate.policy:read'],
  ['get', '/emergency-access/settings', 'caregate.policy:read'],
  ['get', '/emergency-access/uses', 'caregate.access:review'],
  ['get', '/me/delegable', null],
  ['get', '/me/delegations', null],
  ['post', '/access-requests', null],
  ['post', '/access-requests/{id}/approve', 'caregate.access:approve'],
  ['post', '/access-requests/{id}/reject', 'caregate.access:approve'],
  ['post', '/access-reviews', 'caregate.reviews:manage'],
  ['post', '/access-reviews/{id}/close', 'caregate.reviews:manage'],
  ['post', '/access-reviews/{id}/items/{item}/decision', 'caregate.reviews:decide'],
  ['post', '/delegations', 'caregate.assignments:create'],
  ['post', '/emergency-access/rules', 'caregate.policy:edit'],
  ['post', '/emergency-access/uses/{id}/approve', null],
  ['post', '/emergency-access/uses/{id}/reject', null],
  ['post', '/emergency-access/uses/{id}/review', 'caregate.access:review'],
  ['post', '/me/delegations', null],
  ['put', '/emergency-access/settings', 'caregate.policy:edit'],
  ['get', '/audit', 'caregate.audit:read'],
  ['get', '/audit/export', 'caregate.audit:export'],
  ['get', '/audit/verify', 'caregate.audit:read'],
];

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every route with its required permission and bearer security', async () => {
    const { status, body: doc } = await call('GET', '/admin/api/openapi.json', { token: null });
    expect(status).toBe(200);
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.servers[0].url).toBe(adminApi);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const listed = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => [method, path, op['x-required-permission']]),
    );
    expect(listed.sort()).toEqual(ROUTES.map(([m, p, perm]) => [m, `/v1/t/{tenant}${p}`, perm]).sort());
    for (const ops of Object.values(doc.paths as Record<string, Record<string, any>>)) {
      for (const op of Object.values(ops)) expect(op.security).toEqual([{ bearer: [] }]);
    }
  });

  it('generates request bodies from the input validation (required fields, formats)', async () => {
    const { body: doc } = await call('GET', '/admin/api/openapi.json', { token: null });
    const schema = doc.paths['/v1/t/{tenant}/users'].post.requestBody.content['application/json'].schema;
    expect(schema.required).toContain('username');
    expect(schema.properties.email.format).toBe('email');
    expect(schema.properties.password.minLength).toBe(12);
  });

  it('serves every documented operation: without a token each answers 401, none 404', async () => {
    const sample: Record<string, string> = { session: 'none', user: 'nobody', key: 'nothing', id: '00000000-0000-4000-8000-000000000000', run: '00000000-0000-4000-8000-000000000000', item: '00000000-0000-4000-8000-000000000000', clientId: 'nope' };
    for (const [method, path] of ROUTES) {
      const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => sample[name]!);
      const reply = await call(method.toUpperCase(), concrete, { token: null });
      expect([method, path, reply.status]).toEqual([method, path, 401]);
    }
  });
});

describe('users', () => {
  let aliceId: string;

  it('creates a user (201), returns it without the password hash, and lists and gets it by username or id', async () => {
    const created = await call('POST', '/users', { body: { username: 'alice', email: 'Alice@Clinic.example', displayName: 'Alice', password: PASSWORD, phiAccess: true } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'alice', email: 'alice@clinic.example', status: 'active', phiAccess: true, hasPassword: true });
    expect(created.body).not.toHaveProperty('passwordHash');
    aliceId = created.body.id;

    const list = await call('GET', '/users?limit=500');
    expect(list.status).toBe(200);
    expect(list.body.map((u: any) => u.username)).toContain('alice');
    expect(list.body.every((u: any) => !('passwordHash' in u))).toBe(true);
    expect((await call('GET', '/users/alice')).body.id).toBe(aliceId);
    expect((await call('GET', `/users/${aliceId}`)).body.username).toBe('alice');
    expect((await call('GET', '/users/nobody')).status).toBe(404);
  });

  it('edits a user with PATCH and audits the change with the client as actor, before, after and IP', async () => {
    const patched = await call('PATCH', '/users/alice', { body: { displayName: 'Alice Nurse', phone: '+15551234567' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ displayName: 'Alice Nurse', phone: '+15551234567' });
    expect((await call('GET', '/users/alice')).body.displayName).toBe('Alice Nurse');

    const { body: { events } } = await call('GET', '/audit?limit=50');
    const create = events.find((e: any) => e.action === 'user.create' && e.targetId === aliceId);
    expect(create).toMatchObject({ actorType: 'client', actorId: admin.clientId, outcome: 'success', before: null, after: { username: 'alice' } });
    expect(create.ip).toEqual(expect.stringMatching(/127\.0\.0\.1|::1/));
    expect(create.after).not.toHaveProperty('passwordHash');
    const update = events.find((e: any) => e.action === 'user.update' && e.targetId === aliceId);
    expect(update).toMatchObject({ actorType: 'client', actorId: admin.clientId, before: { displayName: 'Alice' }, after: { displayName: 'Alice Nurse', phone: '+15551234567' } });
    expect(update.ip).toEqual(expect.stringMatching(/127\.0\.0\.1|::1/));
  });

  it('disables and re-enables a user, auditing each status change', async () => {
    const disabled = await call('POST', '/users/alice/disable');
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect((await call('GET', '/users/alice')).body.status).toBe('disabled');
    const enabled = await call('POST', '/users/alice/enable');
    expect(enabled.body.status).toBe('active');
    expect((await call('GET', '/users/alice')).body.status).toBe('active');
    const { body: { events } } = await call('GET', '/audit?limit=5');
    expect(events.slice(0, 2).map((e: any) => [e.action, e.before, e.after])).toEqual([
      ['user.enable', { status: 'disabled' }, { status: 'active' }],
      ['user.disable', { status: 'active' }, { status: 'disabled' }],
    ]);
  });

  it('deletes a user (204): it is gone from get and list, and the deletion is audited', async () => {
    const temp = await call('POST', '/users', { body: { username: 'temp-user', invite: true } });
    expect(temp.body.status).toBe('invited');
    const deleted = await call('DELETE', '/users/temp-user');
    expect(deleted.status).toBe(204);
    expect((await call('GET', '/users/temp-user')).status).toBe(404);
    expect((await call('GET', '/users?limit=500')).body.map((u: any) => u.username)).not.toContain('temp-user');
    const [last] = (await call('GET', '/audit?limit=1')).body.events;
    expect(last).toMatchObject({ action: 'user.delete', targetId: temp.body.id, before: { username: 'temp-user' } });
  });
});

describe('roles, locations, institutions, teams', () => {
  it('creates a custom role whose effective permissions inherit its parent\'s', async () => {
    const created = await call('POST', '/roles', { body: { key: 'senior_reporter', name: 'Senior reporter', parent: 'report_viewer', permissions: ['dashboards:read'] } });
    expect(created.status).toBe(201);
    const parent = (await call('GET', '/roles/report_viewer')).body;
    expect(created.body.parentId).toBe(parent.id);
    const role = await call('GET', '/roles/senior_reporter');
    expect(role.body.effectivePermissions).toEqual(['dashboards:read', 'reports:read']);
    const listed = (await call('GET', '/roles')).body.find((r: any) => r.key === 'senior_reporter');
    expect(listed.effectivePermissions).toEqual(['dashboards:read', 'reports:read']);
  });

  it('refuses a role whose parent does not exist with 404, creating nothing', async () => {
    const reply = await refused(() => call('POST', '/roles', { body: { key: 'orphan', name: 'Orphan', parent: 'no_such_role' } }));
    expect(reply.status).toBe(404);
    expect(reply.body).toMatchObject({ error: 'not_found', error_description: expect.stringContaining('no_such_role') });
    expect((await call('GET', '/roles/orphan')).status).toBe(404);
  });

  it('creates locations in a hierarchy (a site under its region)', async () => {
    const region = await call('POST', '/locations', { body: { key: 'region-east', name: 'East region' } });
    expect(region.status).toBe(201);
    const site = await call('POST', '/locations', { body: { key: 'loc-north', name: 'North clinic', parent: 'region-east' } });
    expect(site.status).toBe(201);
    expect(site.body.parentId).toBe(region.body.id);
    expect((await call('GET', '/locations/loc-north')).body).toMatchObject({ key: 'loc-north', parentId: region.body.id });
    expect((await call('GET', '/locations')).body.map((l: any) => l.key)).toEqual(['loc-north', 'region-east']);
  });

  it('creates, lists, gets and deletes institutions', async () => {
    expect((await call('POST', '/institutions', { body: { key: 'site-boston', name: 'Boston site' } })).status).toBe(201);
    expect((await call('POST', '/institutions', { body: { key: 'site-temp', name: 'Temporary site' } })).status).toBe(201);
    expect((await call('GET', '/institutions/site-boston')).body.name).toBe('Boston site');
    expect((await call('DELETE', '/institutions/site-temp')).status).toBe(204);
    expect((await call('GET', '/institutions/site-temp')).status).toBe(404);
    expect((await call('GET', '/institutions')).body.map((i: any) => i.key)).toEqual(['site-boston']);
  });

  it('refuses a duplicate institution key with 409, creating nothing', async () => {
    const reply = await refused(() => call('POST', '/institutions', { body: { key: 'site-boston', name: 'Again' } }));
    expect(reply.status).toBe(409);
    expect(reply.body.error_description).toContain('site-boston');
  });

  it('creates a team, adds a member, and gives the team a role', async () => {
    const team = await call('POST', '/teams', { body: { key: 'coordinators', name: 'Study coordinators' } });
    expect(team.status).toBe(201);
    expect((await call('POST', '/teams/coordinators/members', { body: { user: 'alice' } })).status).toBe(204);
    const alice = (await call('GET', '/users/alice')).body;
    expect(await cg.runtime.storage.teamMembers.findOneBy({ teamId: team.body.id, userId: alice.id })).not.toBeNull();
    const granted = await call('POST', '/teams/coordinators/assignments', { body: { role: 'customizer', scope: { type: 'institution', key: 'site-boston' } } });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ teamId: team.body.id, userId: null, scopeType: 'institution' });
    expect((await call('GET', '/audit?limit=2')).body.events.map((e: any) => e.action)).toEqual(['assignment.create', 'team.member.add']);

    expect((await call('DELETE', '/teams/coordinators/members/alice')).status).toBe(204);
    expect(await cg.runtime.storage.teamMembers.findOneBy({ teamId: team.body.id, userId: alice.id })).toBeNull();
  });
});

describe('assignments', () => {
  it('assigns roles tenant-wide and at a location, and lists them', async () => {
    const wide = await call('POST', '/users/alice/assignments', { body: { role: 'report_viewer' } });
    expect(wide.status).toBe(201);
    expect(wide.body).toMatchObject({ scopeType: 'tenant', scopeId: null, origin: 'manual' });
    const atNorth = await call('POST', '/users/alice/assignments', { body: { role: 'provider', scope: { type: 'location', key: 'loc-north' } } });
    expect(atNorth.status).toBe(201);
    const north = (await call('GET', '/locations/loc-north')).body;
    expect(atNorth.body).toMatchObject({ scopeType: 'location', scopeId: north.id });
    const listed = await call('GET', '/users/alice/assignments');
    expect(listed.body.map((a: any) => a.id).sort()).toEqual([wide.body.id, atNorth.body.id].sort());
    // Each names its role, for an administrator who may not read the role catalogue.
    const provider = (await call('GET', '/roles')).body.find((r: any) => r.key === 'provider');
    expect(listed.body.find((a: any) => a.id === atNorth.body.id)).toMatchObject({ role: 'provider', roleName: provider.name });
  });

  it('removes an assignment by id', async () => {
    const temp = await call('POST', '/users/alice/assignments', { body: { role: 'inventory' } });
    expect((await call('DELETE', `/assignments/${temp.body.id}`)).status).toBe(204);
    expect((await call('GET', '/users/alice/assignments')).body.map((a: any) => a.id)).not.toContain(temp.body.id);
  });

  it('answers an unknown role with 404 naming it, assigning nothing', async () => {
    const reply = await refused(() => call('POST', '/users/alice/assignments', { body: { role: 'no_such_role' } }));
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ error: 'not_found', error_description: expect.stringContaining('"no_such_role"') });
  });

  it('answers an unknown location in the scope with 404 naming it, assigning nothing', async () => {
    const reply = await refused(() => call('POST', '/users/alice/assignments', { body: { role: 'report_viewer', scope: { type: 'location', key: 'loc-nowhere' } } }));
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ error: 'not_found', error_description: expect.stringContaining('location "loc-nowhere"') });
  });

  it('refuses a PHI role for a user without PHI access with 422 phi_access_required', async () => {
    await call('POST', '/users', { body: { username: 'bob', password: PASSWORD } });
    const reply = await refused(() => call('POST', '/users/bob/assignments', { body: { role: 'provider' } }));
    expect(reply.status).toBe(422);
    expect(reply.body).toEqual({ error: 'phi_access_required', error_description: expect.stringContaining('provider') });
    expect((await call('GET', '/users/bob/assignments')).body).toEqual([]);
  });

  it('refuses to create a user with a PHI role but no PHI access, creating neither user nor assignment', async () => {
    const reply = await refused(() => call('POST', '/users', { body: { username: 'carl', password: PASSWORD, assignments: [{ role: 'front_desk' }] } }));
    expect(reply.status).toBe(422);
    expect(reply.body.error).toBe('phi_access_required');
    expect((await call('GET', '/users/carl')).status).toBe(404);
  });

  it('removes a user\'s PHI-role assignments when PATCH clears phiAccess, keeping the others', async () => {
    const patched = await call('PATCH', '/users/alice', { body: { phiAccess: false } });
    expect(patched.status).toBe(200);
    expect(patched.body.phiAccess).toBe(false);
    const left = (await call('GET', '/users/alice/assignments')).body;
    const roles = (await call('GET', '/roles')).body as Array<{ id: string; key: string }>;
    expect(left.map((a: any) => roles.find((r) => r.id === a.roleId)!.key)).toEqual(['report_viewer']);
    const [removal] = (await call('GET', '/audit?limit=1')).body.events;
    expect(removal).toMatchObject({ action: 'assignment.delete', details: { reason: 'phi_access_cleared', assignments: [expect.objectContaining({ role: 'provider' })] } });
  });
});

describe('refused input changes nothing', () => {
  it('answers a duplicate username with 409 naming "username"', async () => {
    const reply = await refused(() => call('POST', '/users', { body: { username: 'ALICE', password: PASSWORD } }));
    expect(reply.status).toBe(409);
    expect(reply.body).toEqual({ error: 'conflict', error_description: expect.stringContaining('username') });
  });

  it('answers a duplicate email (any case) with 409 naming "email"', async () => {
    const reply = await refused(() => call('POST', '/users', { body: { username: 'alice2', email: 'ALICE@clinic.example', password: PASSWORD } }));
    expect(reply.status).toBe(409);
    expect(reply.body).toEqual({ error: 'conflict', error_description: expect.stringContaining('email') });
    expect((await call('GET', '/users/alice2')).status).toBe(404);
  });

  it('answers an email taken by another user in PATCH with 409, leaving the user as it was', async () => {
    await call('PATCH', '/users/bob', { body: { email: 'bob@clinic.example' } });
    const reply = await refused(() => call('PATCH', '/users/bob', { body: { email: 'alice@clinic.example' } }));
    expect(reply.status).toBe(409);
    expect(reply.body.error).toBe('conflict');
    expect((await call('GET', '/users/bob')).body.email).toBe('bob@clinic.example');
  });

  it('answers malformed JSON with 400 and a JSON error body', async () => {
    const reply = await refused(() => call('POST', '/users', { raw: '{"username": "dave", ' }));
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    expect((await call('GET', '/users/dave')).status).toBe(404);
  });

  it('answers an invalid email with 400 naming the field', async () => {
    const reply = await refused(() => call('POST', '/users', { body: { username: 'dave', email: 'not-an-email', password: PASSWORD } }));
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
    expect(reply.body.error_description).toMatch(/^email: /);
    expect(reply.body.details.issues).toEqual([expect.stringMatching(/^email: /)]);
    expect((await call('GET', '/users/dave')).status).toBe(404);
  });

  it('answers a short password and a malformed phone with 400 naming both fields', async () => {
    const reply = await refused(() => call('POST', '/users', { body: { username: 'dave', phone: '555-1234', password: 'short' } }));
    expect(reply.status).toBe(400);
    expect(reply.body.error_description).toContain('phone:');
    expect(reply.body.error_description).toContain('password:');
  });
});

describe('applications', () => {
  it('returns client_secret once at creation; list and get never show it', async () => {
    const created = await call('POST', '/applications', { body: { name: 'Chart', redirectUris: ['https://chart.example/cb'], permissions: ['patients:read'] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Chart', client_id: expect.any(String), client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), grantTypes: ['authorization_code', 'refresh_token'] });
    expect(created.body).not.toHaveProperty('clientSecretSealed');
    const { client_id: clientId, client_secret: secret } = created.body;

    const list = await call('GET', '/applications');
    const got = await call('GET', `/applications/${clientId}`);
    expect(list.body.map((a: any) => a.clientId)).toContain(clientId);
    expect(got.body).toMatchObject({ clientId, name: 'Chart' });
    for (const text of [JSON.stringify(list.body), JSON.stringify(got.body), JSON.stringify((await call('GET', '/audit?limit=50')).body.events)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toMatch(/client_?secret/i);
    }
  });

  it('refuses a redirect URI that is not https with 400 naming redirectUris, registering nothing', async () => {
    const before = (await call('GET', '/applications')).body.length;
    const reply = await refused(() => call('POST', '/applications', { body: { name: 'Leaky', redirectUris: ['http://leaky.example/cb'] } }));
    expect(reply.status).toBe(400);
    expect(reply.body.error_description).toMatch(/^redirectUris\.0: /);
    expect((await call('GET', '/applications')).body).toHaveLength(before);
  });
});

describe('SAML service providers', () => {
  const LAB = 'https://lab.example/saml';
  let labMetadata: string;
  let encryptionBody: string;

  beforeAll(async () => {
    const [signing, encryption] = await Promise.all([selfSignedCertificate('lab-signing'), selfSignedCertificate('lab-encryption')]);
    encryptionBody = encryption.body;
    // The SP's own library writes its metadata: signed requests, encrypted assertions, SLO.
    const sp = new SAML({ issuer: LAB, callbackUrl: `${LAB}/acs`, logoutCallbackUrl: `${LAB}/slo`, idpCert: signing.cert, privateKey: signing.key, decryptionPvk: encryption.key });
    labMetadata = sp.generateServiceProviderMetadata(encryption.cert, signing.cert);
  });

  it('registers a SAML-only application from SP metadata with overrides: no secret, no OIDC grant, no service account, audited', async () => {
    const created = await call('POST', '/applications', { body: { name: 'Lab portal', samlMetadata: labMetadata, saml: { nameIdFormat: 'transient', encryptAssertion: true } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Lab portal', public: true, grantTypes: [], redirectUris: [], serviceUserId: null,
      saml: {
        entityId: LAB, acs: [{ url: `${LAB}/acs`, index: 1, isDefault: true }], slo: { url: `${LAB}/slo`, binding: 'post' },
        encryptionCertificate: encryptionBody, encryptAssertion: true, nameIdFormat: 'transient', requireSignedRequests: true, signResponse: true,
      },
    });
    expect(created.body).not.toHaveProperty('client_secret');
    expect((await call('GET', `/applications/${created.body.client_id}`)).body.saml.entityId).toBe(LAB);
    const { body: { events } } = await call('GET', '/audit?limit=5');
    expect(events.find((e: any) => e.action === 'application.create' && e.targetId === created.body.id)).toMatchObject({ actorId: admin.clientId, after: { saml: { entityId: LAB } } });
  });

  it('refuses a second application with the same entity ID with 409 naming it, even two at once', async () => {
    const again = await refused(() => call('POST', '/applications', { body: { name: 'Lab again', samlMetadata: labMetadata } }));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: 'conflict', error_description: `another application of this tenant already uses the SAML entity ID "${LAB}"` });

    const settings = { entityId: 'https://twin.example', acs: [{ url: 'https://twin.example/acs', index: 0 }] };
    const both = await Promise.all([1, 2].map((n) => call('POST', '/applications', { body: { name: `Twin ${n}`, saml: settings } })));
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('refuses unusable SAML input with 400 saying why, registering nothing', async () => {
    const cases: Array<[body: object, why: RegExp]> = [
      [{ name: 'X', samlMetadata: '<html/>' }, /^samlMetadata: not SAML metadata/],
      [{ name: 'X', samlMetadata: labMetadata.replace(/urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST" Location="https:\/\/lab\.example\/saml\/acs/, 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://lab.example/saml/acs') }, /HTTP-POST/],
      [{ name: 'X', samlMetadata: `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${labMetadata}` }, /document type declarations are not allowed/],
      [{ name: 'X', saml: { entityId: 'https://x.example', acs: [{ url: 'http://x.example/acs', index: 0 }] } }, /^saml\.acs\.0\.url: must be https/],
      [{ name: 'X', saml: { entityId: 'https://x.example', acs: [{ url: 'https://x.example/acs', index: 0 }], encryptAssertion: true } }, /encryptAssertion needs an encryptionCertificate/],
      [{ name: 'X', saml: { nameIdFormat: 'kerberos' } }, /^saml\.nameIdFormat: /],
      [{ name: 'X', saml: { entityId: 'https://x.example' } }, /^saml\.acs: /],
    ];
    for (const [body, why] of cases) {
      const reply = await refused(() => call('POST', '/applications', { body }));
      expect([reply.status, reply.body.error_description]).toEqual([400, expect.stringMatching(why)]);
    }
  });

  it('adds SAML to an OIDC application with PUT (settings, then metadata), and removes it with DELETE; each audited before/after', async () => {
    const chart = (await call('POST', '/applications', { body: { name: 'Chart SP', redirectUris: ['https://chart.example/cb'] } })).body;
    const settings = { entityId: 'https://chart.example/saml', acs: [{ url: 'https://chart.example/saml/acs', index: 0 }] };
    const put = await call('PUT', `/applications/${chart.client_id}/saml`, { body: settings });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ clientId: chart.client_id, grantTypes: ['authorization_code', 'refresh_token'], saml: { ...settings, nameIdFormat: 'persistent' } });

    const fromMetadata = await call('PUT', `/applications/${chart.client_id}/saml`, { body: { metadata: labMetadata.replaceAll(LAB, 'https://chart.example/saml'), allowIdpInitiated: false } });
    expect(fromMetadata.status).toBe(200);
    expect(fromMetadata.body.saml).toMatchObject({ entityId: 'https://chart.example/saml', slo: { url: 'https://chart.example/saml/slo' }, allowIdpInitiated: false, requireSignedRequests: true });

    const removed = await call('DELETE', `/applications/${chart.client_id}/saml`);
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ clientId: chart.client_id, saml: null, grantTypes: ['authorization_code', 'refresh_token'] });
    expect((await call('DELETE', `/applications/${chart.client_id}/saml`)).status).toBe(404);

    const { body: { events } } = await call('GET', '/audit?limit=10');
    const updates = events.filter((e: any) => e.action === 'application.update' && e.targetId === chart.id).reverse();
    expect(updates.map((e: any) => [e.before.saml?.entityId ?? null, e.after.saml?.entityId ?? null])).toEqual([
      [null, 'https://chart.example/saml'], ['https://chart.example/saml', 'https://chart.example/saml'], ['https://chart.example/saml', null],
    ]);
    expect(updates[0]).toMatchObject({ actorType: 'client', actorId: admin.clientId });
  });

  it('refuses to strip SAML from a SAML-only application (400: delete it), to take another\'s entity ID (409), or to change an unknown one (404)', async () => {
    const lab = (await call('GET', '/applications')).body.find((a: any) => a.saml?.entityId === LAB);
    const strip = await refused(() => call('DELETE', `/applications/${lab.clientId}/saml`));
    expect(strip.status).toBe(400);
    expect(strip.body.error_description).toContain('SAML-only: delete the application');

    const chart = (await call('POST', '/applications', { body: { name: 'Thief', redirectUris: ['https://thief.example/cb'] } })).body;
    const taken = await refused(() => call('PUT', `/applications/${chart.client_id}/saml`, { body: { metadata: labMetadata } }));
    expect(taken.status).toBe(409);
    expect(taken.body.error_description).toContain(LAB);

    const unknown = await refused(() => call('PUT', '/applications/nope/saml', { body: { entityId: 'https://n.example', acs: [{ url: 'https://n.example/acs', index: 0 }] } }));
    expect([unknown.status, unknown.body.error_description]).toEqual([404, 'application "nope" does not exist']);
    const unknownField = await refused(() => call('PUT', `/applications/${lab.clientId}/saml`, { body: { metadata: labMetadata, entityID: 'typo' } }));
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error_description).toMatch(/entityID/);
  });

  it('documents the SAML bodies in the OpenAPI document', async () => {
    const { body: doc } = await call('GET', '/admin/api/openapi.json', { token: null });
    const post = doc.paths['/v1/t/{tenant}/applications'].post.requestBody.content['application/json'].schema;
    expect(post.properties.samlMetadata.type).toBe('string');
    expect(Object.keys(post.properties.saml.properties)).toEqual(expect.arrayContaining(['entityId', 'acs', 'nameIdFormat', 'encryptAssertion']));
    const put = doc.paths['/v1/t/{tenant}/applications/{clientId}/saml'].put.requestBody.content['application/json'].schema;
    expect(Object.keys(put.properties)).toEqual(expect.arrayContaining(['metadata', 'entityId', 'acs']));
  });
});

describe('federation connections', () => {
  const SECRET = 'upstream-client-secret-of-northwell-0123456789';
  let upstream: UpstreamOidc;
  let connectionId: string;

  const oidcBody = () => ({
    key: 'northwell', type: 'oidc', name: 'Northwell Okta', preset: 'okta', issuer: upstream.issuer, clientId: 'caregate-demo', clientSecret: SECRET,
    domains: ['northwell.example'], mappings: [{ claim: 'groups', equals: 'ER Nurses', role: 'report_viewer' }],
  });

  /** The audit events of one connection, oldest first. */
  async function connectionEvents(id: string) {
    const { body: { events } } = await call('GET', '/audit?limit=100');
    return (events as any[]).filter((e) => e.targetId === id && String(e.action).startsWith('connection.')).reverse();
  }

  beforeAll(async () => {
    upstream = await startUpstreamOidc();
  });

  afterAll(async () => upstream?.stop());

  it('creates an OIDC connection (201) with the URL to register upstream and without its client secret, audited without it', async () => {
    const created = await call('POST', '/connections', { body: oidcBody() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      key: 'northwell', type: 'oidc', preset: 'okta', issuer: upstream.issuer, clientId: 'caregate-demo', hasClientSecret: true, enabled: true,
      domains: ['northwell.example'], mappings: [{ claim: 'groups', equals: 'ER Nurses', role: 'report_viewer' }],
      urls: { redirectUri: `${cg.baseUrl}/t/demo/federation/northwell/callback` },
    });
    expect(created.body).not.toHaveProperty('clientSecret');
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    connectionId = created.body.id;

    const [create] = await connectionEvents(connectionId);
    expect(create).toMatchObject({ action: 'connection.create', actorType: 'client', actorId: admin.clientId, before: null, after: { key: 'northwell', hasClientSecret: true } });
    expect(JSON.stringify(create)).not.toContain(SECRET);
    expect(create.after).not.toHaveProperty('clientSecret');
  });

  it('lists connections and gets one by key, never with the secret; an unknown key is 404', async () => {
    const list = await call('GET', '/connections');
    expect(list.status).toBe(200);
    expect(list.body.map((c: any) => c.key)).toEqual(['northwell']);
    const got = await call('GET', '/connections/northwell');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: connectionId, key: 'northwell', urls: { redirectUri: `${cg.baseUrl}/t/demo/federation/northwell/callback` } });
    for (const text of [JSON.stringify(list.body), JSON.stringify(got.body)]) expect(text).not.toContain(SECRET);
    const missing = await call('GET', '/connections/nowhere');
    expect(missing).toMatchObject({ status: 404, body: { error: 'not_found', error_description: 'connection "nowhere" does not exist' } });
  });

  it('refuses a second connection with the same key, or claiming the same domain, with 409 naming the other', async () => {
    const again = await refused(() => call('POST', '/connections', { body: { ...oidcBody(), domains: ['other.example'] } }));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: 'conflict', error_description: 'connection "northwell" already exists' });
    const sameDomain = await refused(() => call('POST', '/connections', { body: { ...oidcBody(), key: 'northwell-two' } }));
    expect(sameDomain.status).toBe(409);
    expect(sameDomain.body.error_description).toMatch(/northwell\.example.*"northwell"/);
    expect((await call('GET', '/connections/northwell-two')).status).toBe(404);
  });

  it('refuses unusable connection input with 400 naming the field, creating nothing', async () => {
    const cases: Array<[body: object, why: RegExp]> = [
      [{ ...oidcBody(), key: 'bad-preset', domains: [], preset: 'ping' }, /^preset: /],
      [{ ...oidcBody(), key: 'google-any', domains: [], preset: 'google' }, /hostedDomains/],
      [{ ...oidcBody(), key: 'no-role', domains: [], mappings: [{ claim: 'groups', equals: 'x', role: 'no_such_role' }] }, /no_such_role/],
      [{ ...oidcBody(), key: 'no-secret', domains: [], clientSecret: undefined }, /clientSecret/],
      [{ ...oidcBody(), key: 'plain-http', domains: [], issuer: 'http://idp.example' }, /^issuer: /],
    ];
    for (const [body, why] of cases) {
      const reply = await refused(() => call('POST', '/connections', { body }));
      expect([reply.status, reply.body.error_description]).toEqual([400, expect.stringMatching(why)]);
    }
    expect((await call('GET', '/connections')).body.map((c: any) => c.key)).toEqual(['northwell']);
  });

  it('changes domains and mappings with PATCH, audited before/after without the secret', async () => {
    const patched = await call('PATCH', '/connections/northwell', {
      body: { domains: ['northwell.example', 'nw-health.example'], mappings: [{ claim: 'groups', equals: 'ER Nurses', role: 'report_viewer' }, { claim: 'groups', equals: 'Coordinators', team: 'coordinators' }] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ domains: ['northwell.example', 'nw-health.example'], hasClientSecret: true, mappings: [{ role: 'report_viewer' }, { team: 'coordinators' }] });
    expect(JSON.stringify(patched.body)).not.toContain(SECRET);
    expect((await call('GET', '/connections/northwell')).body.domains).toEqual(['northwell.example', 'nw-health.example']);

    const update = (await connectionEvents(connectionId)).at(-1);
    expect(update).toMatchObject({
      action: 'connection.update', actorId: admin.clientId, details: { secretChanged: false },
      before: { domains: ['northwell.example'] }, after: { domains: ['northwell.example', 'nw-health.example'] },
    });
    expect(update.before.mappings).toHaveLength(1);
    expect(update.after.mappings).toHaveLength(2);
    expect(JSON.stringify(update)).not.toContain(SECRET);
  });

  it('validates a PATCH whole: an invalid preset, a missing role, another key or type is 400 and changes nothing', async () => {
    const before = (await call('GET', '/connections/northwell')).body;
    const cases: Array<[body: object, why: RegExp]> = [
      [{ preset: 'ping', domains: ['changed.example'] }, /^preset: /],
      [{ preset: 'google' }, /hostedDomains/],
      [{ mappings: [{ claim: 'groups', equals: 'x', role: 'no_such_role' }] }, /no_such_role/],
      [{ key: 'renamed' }, /^key: /],
      [{ type: 'saml' }, /^type: /],
      [{ issuer: 'ftp://idp.example' }, /^issuer: /],
    ];
    for (const [body, why] of cases) {
      const reply = await refused(() => call('PATCH', '/connections/northwell', { body }));
      expect([reply.status, reply.body.error_description]).toEqual([400, expect.stringMatching(why)]);
    }
    expect((await call('GET', '/connections/northwell')).body).toEqual(before);
    expect((await refused(() => call('PATCH', '/connections/nowhere', { body: { name: 'x' } }))).status).toBe(404);
  });

  it('tests a connection against the live upstream: 200 with ok and the findings; a wrong secret is a failed finding', async () => {
    const redirectUri = `${cg.baseUrl}/t/demo/federation/northwell/callback`;
    upstream.addClient({ client_id: 'caregate-demo', client_secret: SECRET, redirect_uris: [redirectUri] });
    const passed = await call('POST', '/connections/northwell/test');
    expect(passed.status).toBe(200);
    expect(passed.body.ok).toBe(true);
    expect(passed.body.findings.map((f: any) => f.check)).toEqual(expect.arrayContaining(['enabled', 'mapping rules', 'discovery', 'scopes', 'pkce', 'client authentication', 'client credentials']));
    expect(passed.body.findings.every((f: any) => f.ok === true && typeof f.detail === 'string')).toBe(true);

    upstream.addClient({ client_id: 'caregate-demo', client_secret: 'not-the-secret-caregate-holds', redirect_uris: [redirectUri] });
    const failed = await call('POST', '/connections/northwell/test');
    expect(failed.status).toBe(200);
    expect(failed.body.ok).toBe(false);
    expect(failed.body.findings.find((f: any) => f.check === 'client credentials')).toMatchObject({ ok: false, detail: expect.stringContaining('invalid_client') });
    expect(JSON.stringify(failed.body)).not.toContain(SECRET);
    expect((await call('POST', '/connections/nowhere/test')).status).toBe(404);
  });

  it('answers 401 without a token and 403 to a token without caregate.connections:*, changing nothing', async () => {
    for (const [method, path, body] of [['GET', '/connections'], ['POST', '/connections', oidcBody()], ['GET', '/connections/northwell'], ['PATCH', '/connections/northwell', { name: 'x' }], ['DELETE', '/connections/northwell'], ['POST', '/connections/northwell/test']] as Array<[string, string, object?]>) {
      const reply = await refused(() => call(method, path, { token: null, body }));
      expect([method, path, reply.status, reply.body.error]).toEqual([method, path, 401, 'invalid_token']);
    }

    await cg.runtime.accounts.roles.create('demo', { key: 'directory_reader', name: 'Directory reader', permissions: ['caregate.users:read'] }, cli);
    const reader = await serviceClient('demo', ['directory_reader']);
    const token = await adminToken('demo', reader);
    expect((await api.introspect(reader, token)).permissions).toEqual(['caregate.users:read']);
    expect((await call('GET', '/users', { token })).status).toBe(200);
    for (const [method, path, permission, body] of [
      ['GET', '/connections', 'caregate.connections:read'], ['GET', '/connections/northwell', 'caregate.connections:read'],
      ['POST', '/connections', 'caregate.connections:create', { ...oidcBody(), key: 'sneaky', domains: [] }],
      ['PATCH', '/connections/northwell', 'caregate.connections:edit', { domains: [] }], ['DELETE', '/connections/northwell', 'caregate.connections:delete'],
      ['POST', '/connections/northwell/test', 'caregate.connections:read'],
    ] as Array<[string, string, string, object?]>) {
      const reply = await call(method, path, { token, body });
      expect([method, path, reply.status, reply.body]).toEqual([method, path, 403, { error: 'insufficient_permissions', error_description: expect.stringContaining(permission) }]);
    }
    expect((await call('GET', '/connections')).body.map((c: any) => [c.key, c.domains])).toEqual([['northwell', ['northwell.example', 'nw-health.example']]]);
  });

  it('deletes a connection (204): GET is then 404, the deletion audited with what it was, never the secret', async () => {
    const deleted = await call('DELETE', '/connections/northwell');
    expect(deleted.status).toBe(204);
    expect((await call('GET', '/connections/northwell')).status).toBe(404);
    expect((await call('GET', '/connections')).body).toEqual([]);
    expect((await refused(() => call('DELETE', '/connections/northwell'))).status).toBe(404);

    const events = await connectionEvents(connectionId);
    expect(events.map((e) => e.action)).toEqual(['connection.create', 'connection.update', 'connection.delete']);
    expect(events.at(-1)).toMatchObject({ actorId: admin.clientId, before: { key: 'northwell', domains: ['northwell.example', 'nw-health.example'] }, after: null, details: { assignmentsRemoved: 0, membershipsRemoved: 0 } });
    expect(JSON.stringify(events)).not.toContain(SECRET);
    // Nor anywhere in the audit log, and nowhere in the stored connection rows in clear.
    expect(JSON.stringify((await call('GET', '/audit?limit=500')).body.events)).not.toContain(SECRET);
  });

  describe('SAML', () => {
    const IDP = 'https://idp.partner.example/metadata';
    const SSO = 'https://idp.partner.example/sso/redirect';
    let idpMetadata: string;
    let certificateBody: string;

    const metadataOf = (body: string, entityId = IDP) => `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.partner.example/sso/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${SSO}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;

    beforeAll(async () => {
      certificateBody = (await selfSignedCertificate('idp.partner.example')).body;
      idpMetadata = metadataOf(certificateBody.match(/.{1,64}/g)!.join('\n'));
    });

    it('creates a SAML connection from IdP metadata (201) with the ACS and SP metadata URLs', async () => {
      const created = await call('POST', '/connections', { body: { key: 'partner-saml', type: 'saml', name: 'Partner', idpMetadata, domains: ['partner.example'] } });
      expect(created.status).toBe(201);
      const base = `${cg.baseUrl}/t/demo/federation/partner-saml`;
      expect(created.body).toMatchObject({
        key: 'partner-saml', type: 'saml', idpEntityId: IDP, ssoUrl: SSO, idpCertificates: [certificateBody], signRequests: true,
        urls: { acs: `${base}/acs`, spEntityId: `${base}/metadata`, spMetadata: `${base}/metadata` },
      });
      expect(created.body).not.toHaveProperty('idpMetadata');
      expect(JSON.stringify(created.body)).not.toMatch(/PRIVATE KEY|spKeyPem/);
      const [create] = await connectionEvents(created.body.id);
      expect(create).toMatchObject({ action: 'connection.create', after: { key: 'partner-saml', idpEntityId: IDP } });
      expect(JSON.stringify(create)).not.toMatch(/PRIVATE KEY|spKeyPem/);
    });

    it('serves the SP metadata publicly (no token) with the ACS URL and entity ID; none for an OIDC or unknown connection', async () => {
      const { urls } = (await call('GET', '/connections/partner-saml')).body;
      const res = await fetch(urls.spMetadata);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/xml/);
      const xml = await res.text();
      expect(xml).toContain('SPSSODescriptor');
      expect(xml).toContain(`entityID="${urls.spEntityId}"`);
      expect(xml).toContain(`Location="${urls.acs}"`);
      expect(xml).toContain('AuthnRequestsSigned="true"');
      expect(xml).not.toMatch(/PRIVATE KEY/);
      expect((await fetch(`${cg.baseUrl}/t/demo/federation/nowhere/metadata`)).status).toBe(404);
    });

    it('refuses metadata with a DOCTYPE, an aggregate, or without an HTTP-Redirect SSO service with 400, creating nothing', async () => {
      const cases: Array<[metadata: string, why: RegExp]> = [
        [`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${idpMetadata.replace(/^<\?xml[^>]*\?>\s*/, '')}`, /^idpMetadata: .*document type declarations are not allowed/],
        [`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${idpMetadata.replace(/^<\?xml[^>]*\?>\s*/, '')}</md:EntitiesDescriptor>`, /^idpMetadata: .*EntitiesDescriptor/],
        [idpMetadata.replace(/<md:SingleSignOnService Binding="[^"]*HTTP-Redirect"[^>]*\/>/, ''), /^idpMetadata: .*HTTP-Redirect/],
        ['<html><body>not metadata</body></html>', /^idpMetadata: not SAML metadata/],
      ];
      for (const [metadata, why] of cases) {
        const reply = await refused(() => call('POST', '/connections', { body: { key: 'bad-saml', type: 'saml', name: 'Bad', idpMetadata: metadata } }));
        expect([reply.status, reply.body.error_description]).toEqual([400, expect.stringMatching(why)]);
      }
      expect((await call('GET', '/connections/bad-saml')).status).toBe(404);
    });

    it('takes new IdP metadata in a PATCH (a certificate rollover) and keeps its SP key', async () => {
      const spCertificate = (xml: string) => /<ds:X509Certificate>([^<]+)</.exec(xml)?.[1];
      const before = spCertificate(await fetch((await call('GET', '/connections/partner-saml')).body.urls.spMetadata).then((r) => r.text()));
      expect(before).toEqual(expect.any(String));
      const next = (await selfSignedCertificate('idp.partner.example next')).body;
      const patched = await call('PATCH', '/connections/partner-saml', { body: { idpMetadata: metadataOf(next, 'https://idp.partner.example/metadata/v2') } });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ idpEntityId: 'https://idp.partner.example/metadata/v2', idpCertificates: [next] });
      expect((await call('GET', '/connections/partner-saml')).body.idpCertificates).toEqual([next]);
      expect(spCertificate(await fetch(patched.body.urls.spMetadata).then((r) => r.text()))).toBe(before);
      expect((await call('DELETE', '/connections/partner-saml')).status).toBe(204);
    });
  });
});

describe('authentication and authorization', () => {
  it('answers a request without a token with 401 and a Bearer WWW-Authenticate challenge', async () => {
    const reply = await call('GET', '/users', { token: null });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer realm="caregate-admin"/);
    expect(reply.body).toEqual({ error: 'invalid_token', error_description: expect.stringContaining('bearer access token') });
  });

  it('checks the token before reading the body: malformed JSON without a token gets 401, not a parse error', async () => {
    const reply = await call('POST', '/users', { token: null, raw: '{"username": ' });
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('invalid_token');
  });

  it('answers a tampered token, or a made-up JWT with admin claims, with 401 error="invalid_token"', async () => {
    const tampered = `${admin.token.slice(0, -1)}${admin.token.endsWith('A') ? 'B' : 'A'}`;
    const claims = { iss: cg.issuer(), aud: adminApi, client_id: admin.clientId, exp: Math.floor(Date.now() / 1000) + 600, permissions: [...adminCatalogue] };
    const madeUp = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    for (const forged of [tampered, madeUp]) {
      const reply = await call('GET', '/users', { token: forged });
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('answers a token without admin permissions with 403 and audits admin.forbidden', async () => {
    const viewer = await serviceClient('demo', ['report_viewer']);
    const token = await adminToken('demo', viewer);
    expect((await api.introspect(viewer, token)).permissions).toEqual([]);
    const before = (await call('GET', '/users?limit=500')).body.length;
    const reply = await call('POST', '/users', { token, body: { username: 'sneaky', password: PASSWORD } });
    expect(reply.status).toBe(403);
    expect(reply.body).toEqual({ error: 'insufficient_permissions', error_description: expect.stringContaining('caregate.users:create') });
    expect((await call('GET', '/users?limit=500')).body).toHaveLength(before);
    const [event] = (await call('GET', '/audit?limit=1')).body.events;
    expect(event).toMatchObject({ action: 'admin.forbidden', outcome: 'failure', actorType: 'client', actorId: viewer.clientId, details: { permission: 'caregate.users:create' } });
  });

  it('refuses on tenant demo a token issued by another tenant with 401, though it works on its own tenant', async () => {
    await cg.runtime.accounts.tenants.create({ slug: 'other', name: 'Other clinic' }, cli);
    const otherAdmin = await serviceClient('other', ['admin']);
    const token = await adminToken('other', otherAdmin);
    expect(await api.introspect(otherAdmin, token, 'other')).toMatchObject({ active: true, iss: cg.issuer('other'), aud: adminApi });
    const own = await fetch(`${adminApi}/v1/t/other/users`, { headers: { authorization: `Bearer ${token}` } });
    expect(own.status).toBe(200);
    const reply = await call('GET', '/users', { token });
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('invalid_token');
    const created = await call('POST', '/users', { token, body: { username: 'intruder', password: PASSWORD } });
    expect(created.status).toBe(401);
    expect((await call('GET', '/users/intruder')).status).toBe(404);
  });

  it('stops honouring a token at once when its application is deleted or its admin role removed', async () => {
    const gone = await serviceClient('demo', ['admin']);
    const goneToken = await adminToken('demo', gone);
    expect((await call('GET', '/users', { token: goneToken })).status).toBe(200);
    await cg.runtime.accounts.applications.remove('demo', gone.clientId, cli);
    expect((await call('GET', '/users', { token: goneToken })).status).toBe(401);

    const demoted = await serviceClient('demo', ['admin']);
    const demotedToken = await adminToken('demo', demoted);
    const app = await cg.runtime.accounts.applications.get('demo', demoted.clientId);
    const [assignment] = await cg.runtime.accounts.assignments.list('demo', { userId: app.serviceUserId! });
    await cg.runtime.accounts.assignments.remove('demo', assignment!.id, cli);
    const reply = await call('GET', '/users', { token: demotedToken });
    expect(reply.status).toBe(403);
  });

  it('refuses fields it does not know (a PATCH cannot silently ignore "status") with 400 naming them', async () => {
    const reply = await refused(() => call('PATCH', '/users/admin', { body: { username: 'renamed', status: 'disabled' } }));
    expect(reply.status).toBe(400);
    expect(reply.body.error_description).toMatch(/username|status/);
    expect((await call('GET', '/users/admin')).body.status).toBe('active');
  });

  it('refuses a back-channel logout URI the server should not call (plain http to an internal address)', async () => {
    const reply = await refused(() => call('POST', '/applications', { body: { name: 'Internal', redirectUris: ['https://app.example/cb'], backchannelLogoutUri: 'http://169.254.169.254/latest' } }));
    expect(reply.status).toBe(400);
    expect(reply.body.error_description).toMatch(/backchannelLogoutUri/);
  });

  it('issues no admin API token to an application not registered for the admin API (invalid_target), whatever its roles', async () => {
    const app = await cg.runtime.accounts.applications.create('demo', { name: 'Vendor sync', grantTypes: ['client_credentials'], serviceRoles: ['admin'] }, cli);
    const config = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
    await expect(oidc.clientCredentialsGrant(config, { resource: adminApi })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it("refuses an access token meant for another application's API with 401", async () => {
    const app = await cg.runtime.accounts.applications.create('demo', { name: 'Reports API client', grantTypes: ['client_credentials'], serviceRoles: ['admin'], resource: 'https://reports.example/api' }, cli);
    const config = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
    const { access_token: token } = await oidc.clientCredentialsGrant(config);
    expect(decodeJwt(token).aud).toBe('https://reports.example/api');
    expect((await call('GET', '/users', { token })).status).toBe(401);
  });
});
