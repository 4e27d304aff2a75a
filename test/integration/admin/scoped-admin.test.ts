// Scoped administration end to end: a location manager runs the East region (its sites included),
// a study coordinator runs the Boston site of a study, a client-level admin runs one application.
// Each does their work through the admin API; every attempt outside their scope is refused (403
// out_of_scope, audited, nothing changed), and lists show only what is theirs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AssignmentInput } from '../../../src/accounts/schemas.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { tenantState } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;

interface ScopedAdmin {
  token: string;
  self: string;
}

/** An admin-API service account holding `role` only at `scope`, and its token. */
async function scopedAdmin(role: string, scope: AssignmentInput['scope']): Promise<ScopedAdmin> {
  const client = await api.serviceClient('demo', []);
  const { accounts } = cg.runtime;
  const app = await accounts.applications.get('demo', client.clientId);
  await accounts.assignments.assign('demo', { userId: app.serviceUserId! }, { role, scope }, cli);
  return { token: await api.token('demo', client), self: `svc-${client.clientId}` };
}

const as = (who: ScopedAdmin) => (method: string, path: string, body?: unknown) => api.call(method, path, { token: who.token, body });

/** A request outside the caller's scope: 403 out_of_scope (or a tenant-wide refusal), nothing changed. */
async function outOfScope(who: ScopedAdmin, method: string, path: string, body?: unknown) {
  const before = await tenantState(cg);
  const reply = await as(who)(method, path, body);
  expect([method, path, reply.status]).toEqual([method, path, 403]);
  expect(await tenantState(cg)).toEqual(before);
  return reply;
}

const usernames = (body: Array<{ username: string }>) => body.map((u) => u.username).filter((u) => !u.startsWith('svc-')).sort();

let manager: ScopedAdmin;
let coordinator: ScopedAdmin;

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  for (const [key, parent] of [['east', undefined], ['east-a', 'east'], ['east-b', 'east'], ['west', undefined]] as const) {
    await accounts.locations.create('demo', { key, name: key, parent }, cli);
  }
  for (const key of ['site-boston', 'site-denver']) await accounts.institutions.create('demo', { key, name: key }, cli);
  await accounts.roles.create('demo', {
    key: 'location_manager', name: 'Location manager',
    permissions: ['caregate.users:read', 'caregate.users:create', 'caregate.users:edit', 'caregate.assignments:*', 'caregate.locations:*', 'reports:read'],
  }, cli);
  await accounts.roles.create('demo', {
    key: 'study_coordinator', name: 'Study coordinator',
    permissions: ['caregate.users:read', 'caregate.users:edit', 'caregate.assignments:read', 'caregate.institutions:read', 'reports:read'],
  }, cli);
  const user = (username: string, scope: AssignmentInput['scope']) => accounts.users.create('demo', { username, password: PASSWORD }, [{ role: 'report_viewer', scope }], cli);
  await user('nurse-east', { type: 'location', key: 'east-a' });
  await user('nurse-west', { type: 'location', key: 'west' });
  await user('bob-boston', { type: 'institution', key: 'site-boston' });
  await user('dana-denver', { type: 'institution', key: 'site-denver' });
  manager = await scopedAdmin('location_manager', { type: 'location', key: 'east' });
  coordinator = await scopedAdmin('study_coordinator', { type: 'institution', key: 'site-boston' });
});

afterAll(async () => cg?.close());

describe('a location manager (East region, its sites below)', () => {
  it('lists only the users with a role in the region, never a 403 for the list', async () => {
    const reply = await as(manager)('GET', '/users');
    expect(reply.status).toBe(200);
    expect(usernames(reply.body)).toEqual(['nurse-east']);
  });

  it('reads a user of a site below, and is refused one of another location or the tenant admin', async () => {
    expect((await as(manager)('GET', '/users/nurse-east')).status).toBe(200);
    expect((await as(manager)('GET', '/users/nurse-east/assignments')).status).toBe(200);
    const reply = await outOfScope(manager, 'GET', '/users/nurse-west');
    expect(reply.body.error).toBe('out_of_scope');
    await outOfScope(manager, 'GET', '/users/admin/security');
  });

  it('creates a user with a role at one of its sites; refuses one with no role there or a role elsewhere', async () => {
    const created = await as(manager)('POST', '/users', { username: 'frontdesk-b', password: PASSWORD, assignments: [{ role: 'report_viewer', scope: { type: 'location', key: 'east-b' } }] });
    expect(created.status).toBe(201);
    expect(usernames((await as(manager)('GET', '/users')).body)).toEqual(['frontdesk-b', 'nurse-east']);
    await outOfScope(manager, 'POST', '/users', { username: 'nowhere', password: PASSWORD });
    await outOfScope(manager, 'POST', '/users', { username: 'westerner', password: PASSWORD, assignments: [{ role: 'report_viewer', scope: { type: 'location', key: 'west' } }] });
    await outOfScope(manager, 'POST', '/users', { username: 'corporate', password: PASSWORD, assignments: [{ role: 'report_viewer' }] });
  });

  it('disables, enables, unlocks and resets a user in its region', async () => {
    expect((await as(manager)('POST', '/users/nurse-east/disable')).status).toBe(200);
    expect((await as(manager)('POST', '/users/nurse-east/enable')).status).toBe(200);
    expect((await as(manager)('POST', '/users/nurse-east/unlock')).status).toBe(200);
    const reset = await as(manager)('POST', '/users/nurse-east/password/reset', { mode: 'temporary' });
    expect([reset.status, typeof reset.body.password]).toEqual([200, 'string']);
    expect((await as(manager)('PATCH', '/users/nurse-east', { displayName: 'Nurse East' })).status).toBe(200);
  });

  it.each([
    ['POST', '/users/nurse-west/disable', undefined],
    ['POST', '/users/nurse-west/unlock', undefined],
    ['POST', '/users/nurse-west/password/reset', { mode: 'temporary' }],
    ['POST', '/users/nurse-west/mfa/reset', undefined],
    ['PATCH', '/users/nurse-west', { displayName: 'x' }],
    ['DELETE', '/users/nurse-west/sessions', undefined],
  ])('is refused %s %s (a user of another location)', async (method, path, body) => {
    const reply = await outOfScope(manager, method, path, body);
    expect(reply.body.error).toBe('out_of_scope');
  });

  it('assigns roles within the region only, and only to its users', async () => {
    expect((await as(manager)('POST', '/users/nurse-east/assignments', { role: 'report_viewer', scope: { type: 'location', key: 'east-b' } })).status).toBe(201);
    await outOfScope(manager, 'POST', '/users/nurse-east/assignments', { role: 'report_viewer', scope: { type: 'location', key: 'west' } });
    await outOfScope(manager, 'POST', '/users/nurse-east/assignments', { role: 'report_viewer' });
    await outOfScope(manager, 'POST', '/users/nurse-west/assignments', { role: 'report_viewer', scope: { type: 'location', key: 'east-a' } });
    const [westAssignment] = (await api.call('GET', '/users/nurse-west/assignments')).body;
    await outOfScope(manager, 'DELETE', `/assignments/${westAssignment.id}`);
  });

  it('assigns and removes roles only within its region, even a role it holds everywhere', async () => {
    const client = await api.serviceClient('demo', ['report_viewer']);
    const app = await cg.runtime.accounts.applications.get('demo', client.clientId);
    await cg.runtime.accounts.assignments.assign('demo', { userId: app.serviceUserId! }, { role: 'location_manager', scope: { type: 'location', key: 'east' } }, cli);
    const widely = { token: await api.token('demo', client), self: `svc-${client.clientId}` };
    await outOfScope(widely, 'POST', '/users/nurse-east/assignments', { role: 'report_viewer', scope: { type: 'location', key: 'west' } });
    const [westAssignment] = (await api.call('GET', '/users/nurse-west/assignments')).body;
    expect((await outOfScope(widely, 'DELETE', `/assignments/${westAssignment.id}`)).body.error).toBe('out_of_scope');
  });

  it('sees and manages the locations below its own, never its own root nor another', async () => {
    expect((await as(manager)('GET', '/locations')).body.map((l: { key: string }) => l.key)).toEqual(['east', 'east-a', 'east-b']);
    expect((await as(manager)('POST', '/locations', { key: 'east-c', name: 'East C', parent: 'east' })).status).toBe(201);
    expect((await as(manager)('DELETE', '/locations/east-c')).status).toBe(204);
    await outOfScope(manager, 'POST', '/locations', { key: 'north', name: 'North' });
    await outOfScope(manager, 'POST', '/locations', { key: 'west-b', name: 'West B', parent: 'west' });
    await outOfScope(manager, 'DELETE', '/locations/east');
    await outOfScope(manager, 'GET', '/locations/west');
  });

  it('is refused what only a tenant-wide admin does (policy, roles, teams), even holding the permission at a location', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'regional_it', name: 'Regional IT', permissions: ['caregate.policy:read', 'caregate.roles:create', 'caregate.teams:edit'] }, cli);
    const it = await scopedAdmin('regional_it', { type: 'location', key: 'east' });
    for (const [method, path, body] of [['GET', '/policy'], ['POST', '/roles', { key: 'x', name: 'x' }], ['POST', '/teams/everyone/members', { user: 'nurse-east' }]] as const) {
      const reply = await outOfScope(it, method, path, body);
      expect(reply.body.error_description).toContain('tenant-wide');
    }
  });
});

describe('an assignment reader (caregate.assignments:read at the East region only)', () => {
  it('reads the roles of a user in the region; is refused (403, no assignment in the body) those of a user elsewhere', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'assignment_reader', name: 'Assignment reader', permissions: ['caregate.assignments:read'] }, cli);
    const reader = await scopedAdmin('assignment_reader', { type: 'location', key: 'east' });

    const inside = await as(reader)('GET', '/users/nurse-east/assignments');
    expect(inside.status).toBe(200);
    expect(inside.body).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'report_viewer', roleName: expect.any(String) })]));

    const westAssignments: Array<{ id: string; role: string; roleName: string }> = (await api.call('GET', '/users/nurse-west/assignments')).body;
    expect(westAssignments.length).toBeGreaterThan(0);
    const refused = await outOfScope(reader, 'GET', '/users/nurse-west/assignments');
    expect(refused.body.error).toBe('out_of_scope');
    expect(Array.isArray(refused.body)).toBe(false);
    const text = JSON.stringify(refused.body);
    for (const a of westAssignments) for (const leaked of [a.id, a.role, a.roleName]) expect(text).not.toContain(leaked);
  });
});

describe('a study coordinator (Boston site)', () => {
  it('sees the Boston site\'s users and institution only', async () => {
    expect(usernames((await as(coordinator)('GET', '/users')).body)).toEqual(['bob-boston']);
    expect((await as(coordinator)('GET', '/institutions')).body.map((i: { key: string }) => i.key)).toEqual(['site-boston']);
    await outOfScope(coordinator, 'GET', '/institutions/site-denver');
  });

  it('edits and resets a Boston user; is refused the Denver one', async () => {
    expect((await as(coordinator)('PATCH', '/users/bob-boston', { displayName: 'Bob (Boston)' })).status).toBe(200);
    expect((await as(coordinator)('POST', '/users/bob-boston/password/reset', { mode: 'temporary' })).status).toBe(200);
    await outOfScope(coordinator, 'PATCH', '/users/dana-denver', { displayName: 'x' });
    await outOfScope(coordinator, 'GET', '/users/dana-denver');
  });
});

describe('the admin role at a scope', () => {
  it('at an institution no longer acts tenant-wide', async () => {
    const siteAdmin = await scopedAdmin('admin', { type: 'institution', key: 'site-denver' });
    expect(usernames((await as(siteAdmin)('GET', '/users')).body)).toEqual(['dana-denver']);
    await outOfScope(siteAdmin, 'GET', '/policy');
    await outOfScope(siteAdmin, 'PATCH', '/policy', { lockout: { threshold: 50 } });
    await outOfScope(siteAdmin, 'POST', '/users/admin/disable');
  });

  it('at a location works there (it used to be ignored everywhere)', async () => {
    const westAdmin = await scopedAdmin('admin', { type: 'location', key: 'west' });
    expect(usernames((await as(westAdmin)('GET', '/users')).body)).toEqual(['nurse-west']);
    expect((await as(westAdmin)('POST', '/users/nurse-west/assignments', { role: 'provider', scope: { type: 'location', key: 'west' } })).status).toBe(422);
    expect((await as(westAdmin)('POST', '/users/nurse-west/assignments', { role: 'inventory', scope: { type: 'location', key: 'west' } })).status).toBe(201);
    await outOfScope(westAdmin, 'POST', '/users/nurse-east/disable');
  });
});

describe('a client-level admin (one application)', () => {
  it('lists and reads its application only, and cannot delete it', async () => {
    const { accounts } = cg.runtime;
    const mine = await accounts.applications.create('demo', { name: 'Analytics East', redirectUris: ['https://analytics.example/cb'] }, cli);
    const other = await accounts.applications.create('demo', { name: 'HRA', redirectUris: ['https://hra.example/cb'] }, cli);
    await accounts.roles.create('demo', { key: 'app_admin', name: 'Application admin', permissions: ['caregate.applications:read', 'caregate.applications:edit', 'caregate.applications:delete'] }, cli);
    const appAdmin = await scopedAdmin('app_admin', { type: 'application', clientId: mine.client_id });
    expect((await as(appAdmin)('GET', '/applications')).body.map((a: { name: string }) => a.name)).toEqual(['Analytics East']);
    expect((await as(appAdmin)('GET', `/applications/${mine.client_id}`)).status).toBe(200);
    await outOfScope(appAdmin, 'GET', `/applications/${other.client_id}`);
    await outOfScope(appAdmin, 'DELETE', `/applications/${mine.client_id}`);
  });
});

it('shows a regional auditor only the events about the users of its region, and exports only those', async () => {
  await cg.runtime.accounts.roles.create('demo', { key: 'regional_auditor', name: 'Regional auditor', permissions: ['caregate.audit:read', 'caregate.audit:export'] }, cli);
  const auditor = await scopedAdmin('regional_auditor', { type: 'location', key: 'east' });
  const { status, body } = await as(auditor)('GET', '/audit?limit=500');
  expect(status).toBe(200);
  const targets = new Set(body.events.map((e: { targetId: string }) => e.targetId));
  const id = async (username: string) => (await cg.runtime.accounts.users.findUser('demo', username)).id;
  expect(targets.has(await id('nurse-east'))).toBe(true);
  expect(targets.has(await id('nurse-west'))).toBe(false);
  expect(body.events.every((e: { targetType: string }) => e.targetType === 'user')).toBe(true);
  const exported = await fetch(`${api.url}/v1/t/demo/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${auditor.token}` } });
  const lines = (await exported.text()).trim().split('\n').map((l) => JSON.parse(l));
  const exportedTargets = new Set(lines.map((e: { targetId: string }) => e.targetId));
  expect(exportedTargets.has(await id('nurse-east'))).toBe(true);
  expect(exportedTargets.has(await id('nurse-west'))).toBe(false);
});

it('audits an out-of-scope refusal with the permission and the reason', async () => {
  const head = await api.auditHead();
  await as(manager)('POST', '/users/nurse-west/disable');
  const events = (await api.call('GET', '/audit?limit=5')).body.events.filter((e: { seq: string }) => BigInt(e.seq) > BigInt(head));
  expect(events).toEqual([expect.objectContaining({ action: 'admin.forbidden', outcome: 'failure', details: expect.objectContaining({ reason: 'out_of_scope', permission: 'caregate.users:edit' }) })]);
});
