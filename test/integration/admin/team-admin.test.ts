// Teams as administrators manage them through the admin API on a real server: renamed (the key
// stays), their members and roles listed, roles assigned and taken away — through the same rules
// as any assignment: caregate.assignments:create|delete tenant-wide, and no role the caller does
// not hold (escalation refused, audited, nothing changed).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;
let tenantId: string;

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  tenantId = (await accounts.tenants.findBySlug('demo'))!.id;
  await accounts.teams.create('demo', { key: 'night-nurses', name: 'Night nurses' }, cli);
  await accounts.locations.create('demo', { key: 'north', name: 'North clinic' }, cli);
  for (const username of ['zoe', 'bob', 'mia']) {
    const user = await accounts.users.create('demo', { username, password: PASSWORD, displayName: username.toUpperCase() }, [], cli);
    if (username !== 'mia') await accounts.teamMembers.add('demo', 'night-nurses', user.id, cli);
  }
});

afterAll(async () => cg?.close());

/** A request that must be refused with `status`, leaving the tenant exactly as it was. */
async function refused(status: number, method: string, path: string, options: { body?: unknown; token?: string } = {}) {
  const reply = await leavesTenantUnchanged(cg, () => api.call(method, path, options));
  expect([method, path, reply.status]).toEqual([method, path, status]);
  return reply;
}

/** An admin-API token of a service account holding a new role with `permissions`, tenant-wide. */
async function tokenWith(key: string, permissions: string[]) {
  await cg.runtime.accounts.roles.create('demo', { key, name: key, permissions }, cli);
  return api.token('demo', await api.serviceClient('demo', [key]));
}

describe('PATCH /teams/{key}', () => {
  it('renames a team; its key, members and roles stay; audited before and after', async () => {
    const reply = await api.call('PATCH', '/teams/night-nurses', { body: { name: 'Night shift nurses' } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ key: 'night-nurses', name: 'Night shift nurses' });
    expect((await api.call('GET', '/teams/night-nurses')).body.name).toBe('Night shift nurses');
    const [event] = await cg.runtime.storage.auditEvents.find({ where: { tenantId, action: 'team.update' }, order: { seq: 'DESC' }, take: 1 });
    expect(event).toMatchObject({ actorId: api.admin.clientId, before: { name: 'Night nurses' }, after: { name: 'Night shift nurses', key: 'night-nurses' } });
  });

  it('refuses an empty name or a new key (400 naming the field), an unknown team (404), a caller without caregate.teams:edit (403)', async () => {
    expect((await refused(400, 'PATCH', '/teams/night-nurses', { body: { name: '' } })).body.error_description).toMatch(/^name: /);
    expect((await refused(400, 'PATCH', '/teams/night-nurses', { body: { name: 'x', key: 'day-nurses' } })).body.error_description).toContain('key');
    await refused(404, 'PATCH', '/teams/nobody', { body: { name: 'x' } });
    const reader = await tokenWith('team_reader', ['caregate.teams:read', 'caregate.assignments:read']);
    expect((await refused(403, 'PATCH', '/teams/night-nurses', { token: reader, body: { name: 'Mine' } })).body.error).toBe('insufficient_permissions');
    // Reading is enough to list.
    expect((await api.call('GET', '/teams/night-nurses/members', { token: reader })).status).toBe(200);
    expect((await api.call('GET', '/teams/night-nurses/assignments', { token: reader })).status).toBe(200);
  });
});

describe('GET /teams/{key}/members', () => {
  it("lists a team's members by username, a page at a time", async () => {
    const all = await api.call('GET', '/teams/night-nurses/members');
    expect(all.status).toBe(200);
    expect(all.body).toEqual([
      { id: expect.any(String), username: 'bob', displayName: 'BOB', kind: 'human', status: 'active' },
      { id: expect.any(String), username: 'zoe', displayName: 'ZOE', kind: 'human', status: 'active' },
    ]);
    expect((await api.call('GET', '/teams/night-nurses/members?limit=1&offset=1')).body.map((u: { username: string }) => u.username)).toEqual(['zoe']);
    await refused(404, 'GET', '/teams/nobody/members');
  });
});

describe("a team's roles", () => {
  it('assigns a role to a team, lists it with where it holds, and takes it away through DELETE /assignments/{id}', async () => {
    const given = await api.call('POST', '/teams/night-nurses/assignments', { body: { role: 'report_viewer', scope: { type: 'location', key: 'north' } } });
    expect(given.status).toBe(201);
    const roles = await api.call('GET', '/teams/night-nurses/assignments');
    expect(roles.body).toEqual([expect.objectContaining({ id: given.body.id, role: 'report_viewer', scope: { type: 'location', key: 'north' }, scopeType: 'location' })]);
    expect((await api.call('DELETE', `/assignments/${given.body.id}`)).status).toBe(204);
    expect((await api.call('GET', '/teams/night-nurses/assignments')).body).toEqual([]);
  });

  it('refuses to give a team a role by a caller lacking its permissions (escalation), and allows one it holds', async () => {
    const token = await tokenWith('team_lead', ['caregate.assignments:create', 'caregate.assignments:delete', 'caregate.assignments:read', 'caregate.teams:*', 'reports:read']);
    const refusal = await refused(403, 'POST', '/teams/night-nurses/assignments', { token, body: { role: 'billing_user' } });
    expect(refusal.body).toMatchObject({ error: 'escalation_refused', details: { role: 'billing_user', missing: ['billing:read'] } });
    const forbidden = await cg.runtime.storage.auditEvents.find({ where: { tenantId, action: 'admin.forbidden' }, order: { seq: 'DESC' }, take: 1 });
    expect(forbidden[0]?.details).toMatchObject({ reason: 'escalation', role: 'billing_user' });

    const allowed = await api.call('POST', '/teams/night-nurses/assignments', { token, body: { role: 'report_viewer' } });
    expect(allowed.status).toBe(201);
    // Taking away a role the caller does not hold is refused just the same.
    const billing = (await api.call('POST', '/teams/night-nurses/assignments', { body: { role: 'billing_user' } })).body;
    expect((await refused(403, 'DELETE', `/assignments/${billing.id}`, { token })).body.error).toBe('escalation_refused');
    expect((await api.call('DELETE', `/assignments/${allowed.body.id}`, { token })).status).toBe(204);
    expect((await api.call('DELETE', `/assignments/${billing.id}`)).status).toBe(204);
  });

  it('refuses listing them to a caller without caregate.assignments:read (403)', async () => {
    const token = await tokenWith('team_only', ['caregate.teams:read']);
    await refused(403, 'GET', '/teams/night-nurses/assignments', { token });
  });
});

describe('the team services behind the command line', () => {
  it('unassigns a role by name and scope, checked as DELETE /assignments/{id} is', async () => {
    const { teams } = cg.runtime.accounts;
    await teams.assign('demo', 'night-nurses', { role: 'report_viewer', scope: { type: 'location', key: 'north' } }, cli);
    await expect(teams.unassign('demo', 'night-nurses', { role: 'report_viewer' }, cli)).rejects.toThrow('does not hold role "report_viewer" there');
    const result = await teams.unassign('demo', 'night-nurses', { role: 'report_viewer', scope: { type: 'location', key: 'north' } }, cli);
    expect(result.removed).toHaveLength(1);
    expect(await teams.roles('demo', 'night-nurses')).toEqual([]);
  });
});
