// Locations renamed and moved, institutions renamed, and both deleted only when empty, through the
// admin API on a real server: PATCH /locations/{key} (name, parent) needs caregate.locations:edit at
// the location and at the new parent, never moves one below itself; PATCH /institutions/{key}
// renames; DELETE refuses a location with locations below it or roles held at it (409, naming what
// is left). Every change is audited; every refusal leaves the tenant as it was.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AssignmentInput } from '../../../src/accounts/schemas.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;
let tenantId: string;
let manager: string;

/** A request that must be refused with `status`, leaving the tenant exactly as it was. */
async function refused(status: number, method: string, path: string, options: { body?: unknown; token?: string } = {}) {
  const reply = await leavesTenantUnchanged(cg, () => api.call(method, path, options));
  expect([method, path, reply.status]).toEqual([method, path, status]);
  return reply;
}

/** An admin-API token of a service account holding `role` only at `scope`. */
async function scopedToken(role: string, scope: AssignmentInput['scope']) {
  const client = await api.serviceClient('demo', []);
  const app = await cg.runtime.accounts.applications.get('demo', client.clientId);
  await cg.runtime.accounts.assignments.assign('demo', { userId: app.serviceUserId! }, { role, scope }, cli);
  return api.token('demo', client);
}

const parentKey = async (key: string) => {
  const all = (await api.call('GET', '/locations')).body as Array<{ id: string; key: string; parentId: string | null }>;
  const row = all.find((l) => l.key === key)!;
  return all.find((l) => l.id === row.parentId)?.key ?? null;
};

const lastEvent = async (action: string) =>
  (await cg.runtime.storage.auditEvents.find({ where: { tenantId, action }, order: { seq: 'DESC' }, take: 1 }))[0];

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  tenantId = (await accounts.tenants.findBySlug('demo'))!.id;
  for (const [key, parent] of [['east', undefined], ['east-a', 'east'], ['east-b', 'east'], ['east-a1', 'east-a'], ['west', undefined], ['west-a', 'west']] as const) {
    await accounts.locations.create('demo', { key, name: key, parent }, cli);
  }
  await accounts.institutions.create('demo', { key: 'site-boston', name: 'Boston' }, cli);
  await accounts.institutions.create('demo', { key: 'site-empty', name: 'Empty' }, cli);
  await accounts.roles.create('demo', { key: 'location_manager', name: 'Location manager', permissions: ['caregate.users:read', 'caregate.locations:*'] }, cli);
  await accounts.users.create('demo', { username: 'nurse-b', password: PASSWORD }, [{ role: 'report_viewer', scope: { type: 'location', key: 'east-b' } }], cli);
  await accounts.users.create('demo', { username: 'bob-boston', password: PASSWORD }, [{ role: 'report_viewer', scope: { type: 'institution', key: 'site-boston' } }], cli);
  manager = await scopedToken('location_manager', { type: 'location', key: 'east' });
});

afterAll(async () => cg?.close());

describe('PATCH /locations/{key}', () => {
  it('renames a location; its key and parent stay; audited before and after', async () => {
    const reply = await api.call('PATCH', '/locations/east-a', { body: { name: 'East A clinic' } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ key: 'east-a', name: 'East A clinic' });
    expect(await parentKey('east-a')).toBe('east');
    expect(await lastEvent('location.update')).toMatchObject({ actorId: api.admin.clientId, before: { name: 'east-a' }, after: { name: 'East A clinic', key: 'east-a' } });
  });

  it('moves a location (with what lies below it) under another parent, and to the top level; audited as location.move', async () => {
    expect((await api.call('PATCH', '/locations/east-a', { body: { parent: 'west' } })).status).toBe(200);
    expect(await parentKey('east-a')).toBe('west');
    expect(await parentKey('east-a1')).toBe('east-a');
    const east = (await api.call('GET', '/locations/east')).body;
    const west = (await api.call('GET', '/locations/west')).body;
    expect(await lastEvent('location.move')).toMatchObject({ before: { parentId: east.id }, after: { parentId: west.id } });
    expect((await api.call('PATCH', '/locations/east-a', { body: { parent: null, name: 'Top A' } })).body).toMatchObject({ parentId: null, name: 'Top A' });
    expect((await api.call('PATCH', '/locations/east-a', { body: { parent: 'east' } })).status).toBe(200);
    expect(await parentKey('east-a')).toBe('east');
  });

  it('refuses a move below itself (400 naming the parent field), an unknown parent (404), bad input (400)', async () => {
    expect((await refused(400, 'PATCH', '/locations/east', { body: { parent: 'east-a1' } })).body.error_description).toMatch(/^parent: .*"east-a1", which lies within it/);
    expect((await refused(400, 'PATCH', '/locations/east', { body: { parent: 'east' } })).body.error_description).toMatch(/^parent: .*its own parent/);
    await refused(404, 'PATCH', '/locations/east', { body: { parent: 'nowhere' } });
    await refused(404, 'PATCH', '/locations/nowhere', { body: { name: 'x' } });
    expect((await refused(400, 'PATCH', '/locations/east', { body: { name: '' } })).body.error_description).toMatch(/^name: /);
    await refused(400, 'PATCH', '/locations/east', { body: { key: 'other' } });
  });

  it('lets a location manager rename and move within their subtree', async () => {
    expect((await api.call('PATCH', '/locations/east-a1', { token: manager, body: { name: 'A1 annex' } })).status).toBe(200);
    expect((await api.call('PATCH', '/locations/east-a1', { token: manager, body: { parent: 'east-b' } })).status).toBe(200);
    expect(await parentKey('east-a1')).toBe('east-b');
    expect((await api.call('PATCH', '/locations/east-a1', { token: manager, body: { parent: 'east-a' } })).status).toBe(200);
  });

  it('refuses a location manager moving a location out from under their scope or under another region: 403, nothing changed', async () => {
    // Their own root to the top level or under another region; a site below it likewise.
    expect((await refused(403, 'PATCH', '/locations/east', { token: manager, body: { parent: null } })).body.error).toBe('out_of_scope');
    await refused(403, 'PATCH', '/locations/east', { token: manager, body: { parent: 'west' } });
    await refused(403, 'PATCH', '/locations/east-a', { token: manager, body: { parent: null } });
    await refused(403, 'PATCH', '/locations/east-a', { token: manager, body: { parent: 'west-a' } });
    // Another region's location: neither renamed nor pulled into theirs.
    await refused(403, 'PATCH', '/locations/west-a', { token: manager, body: { name: 'Mine now' } });
    await refused(403, 'PATCH', '/locations/west-a', { token: manager, body: { parent: 'east' } });
    expect(await parentKey('east')).toBeNull();
    expect(await parentKey('east-a')).toBe('east');
    expect(await parentKey('west-a')).toBe('west');
  });
});

describe('PATCH /institutions/{key}', () => {
  it('renames an institution (key and roles stay), audited; refuses an empty name, a parent, an unknown key', async () => {
    const reply = await api.call('PATCH', '/institutions/site-boston', { body: { name: 'Boston research site' } });
    expect([reply.status, reply.body.key, reply.body.name]).toEqual([200, 'site-boston', 'Boston research site']);
    expect(await lastEvent('institution.update')).toMatchObject({ before: { name: 'Boston' }, after: { name: 'Boston research site' } });
    expect((await refused(400, 'PATCH', '/institutions/site-boston', { body: { name: '' } })).body.error_description).toMatch(/^name: /);
    await refused(400, 'PATCH', '/institutions/site-boston', { body: { name: 'x', parent: 'east' } });
    await refused(404, 'PATCH', '/institutions/nowhere', { body: { name: 'x' } });
  });
});

describe('DELETE when not empty', () => {
  it('refuses a location with locations below it (409 naming them), and one where roles are held', async () => {
    const withChildren = await refused(409, 'DELETE', '/locations/east');
    expect(withChildren.body.error_description).toContain('2 locations below it (east-a, east-b)');
    const withRoles = await refused(409, 'DELETE', '/locations/east-b');
    expect(withRoles.body.error_description).toMatch(/1 role assignment at it; remove those roles first/);
  });

  it('refuses an institution where roles are held; deletes an empty one and an empty location (audited)', async () => {
    expect((await refused(409, 'DELETE', '/institutions/site-boston')).body.error_description).toContain('1 role assignment at it');
    expect((await api.call('DELETE', '/institutions/site-empty')).status).toBe(204);
    expect((await api.call('DELETE', '/locations/east-a1')).status).toBe(204);
    expect((await api.call('GET', '/locations/east-a1')).status).toBe(404);
    expect(await lastEvent('location.delete')).toMatchObject({ before: { key: 'east-a1' } });
  });
});
