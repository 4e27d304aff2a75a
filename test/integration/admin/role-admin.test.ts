// Roles as administrators edit them, and the guards that keep a tenant administrable: built-in
// roles are edited, not deleted; a role still held is deleted only with force; making a role
// PHI-only names who holds it without the flag; the last active person with tenant-wide admin
// cannot be disabled, deleted or demoted; the built-in engagement queue role is fixed on start.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bootstrap } from '../../../src/accounts/index.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;

/** A refused request: the reply, the tenant exactly as it was. */
const refused = (method: string, path: string, options: { body?: unknown; token?: string } = {}) => leavesTenantUnchanged(cg, () => api.call(method, path, options));

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  await accounts.users.create('demo', { username: 'carol', password: PASSWORD }, [{ role: 'report_viewer' }], cli);
  await accounts.users.create('demo', { username: 'dave', password: PASSWORD }, [], cli);
});

afterAll(async () => cg?.close());

describe('editing roles', () => {
  it('edits a built-in role (PATCH 200): name, description and permissions, audited before and after', async () => {
    const reply = await api.call('PATCH', '/roles/inventory', { body: { name: 'Inventory clerk', description: 'Stock rooms', permissions: ['inventory:read', 'inventory:edit'] } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ key: 'inventory', name: 'Inventory clerk', builtin: true, effectivePermissions: ['inventory:edit', 'inventory:read'] });
    const [event] = (await api.call('GET', '/audit?limit=1')).body.events;
    expect(event).toMatchObject({ action: 'role.update', before: { name: 'Inventory' }, after: { name: 'Inventory clerk' } });
  });

  it('refuses a holder of caregate.roles:edit adding permissions it does not hold, or editing a role above it', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'role_editor', name: 'Role editor', permissions: ['caregate.roles:edit', 'caregate.roles:read', 'reports:read'] }, cli);
    const token = await api.token('demo', await api.serviceClient('demo', ['role_editor']));
    const add = await refused('PATCH', '/roles/report_viewer', { token, body: { permissions: ['reports:read', '*'] } });
    expect([add.status, add.body.error]).toEqual([403, 'escalation_refused']);
    const above = await refused('PATCH', '/roles/admin', { token, body: { name: 'Mine now' } });
    expect([above.status, above.body.error]).toEqual([403, 'escalation_refused']);
    expect((await api.call('PATCH', '/roles/report_viewer', { token, body: { description: 'Reads reports' } })).status).toBe(200);
  });

  it('refuses a parent that would make a role inherit from itself (400)', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'senior_viewer', name: 'Senior viewer', parent: 'report_viewer' }, cli);
    const reply = await refused('PATCH', '/roles/report_viewer', { body: { parent: 'senior_viewer' } });
    expect(reply.status).toBe(400);
    expect(reply.body.error_description).toContain('inherit');
  });

  it('refuses making a role PHI-only while people without the PHI flag hold it, naming them (422)', async () => {
    const reply = await refused('PATCH', '/roles/report_viewer', { body: { requiresPhi: true } });
    expect(reply.status).toBe(422);
    expect(reply.body.error_description).toContain('carol');
    expect(reply.body.details.users).toEqual(['carol']);
  });
});

describe('deleting roles', () => {
  it('refuses deleting a built-in role (409), changing nothing', async () => {
    const reply = await refused('DELETE', '/roles/provider');
    expect([reply.status, reply.body.details.reason]).toEqual([409, 'builtin_role']);
  });

  it('refuses deleting a role still assigned, with the count (409); with force it ends those assignments, each audited', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'temp_role', name: 'Temporary', permissions: ['reports:read'] }, cli);
    await cg.runtime.accounts.assignments.assign('demo', { userId: (await cg.runtime.accounts.users.findUser('demo', 'dave')).id }, { role: 'temp_role' }, cli);
    const reply = await refused('DELETE', '/roles/temp_role');
    expect([reply.status, reply.body.details]).toEqual([409, { reason: 'role_in_use', assignments: 1 }]);
    expect((await api.call('DELETE', '/roles/temp_role?force=true')).status).toBe(204);
    expect((await api.call('GET', '/roles/temp_role')).status).toBe(404);
    expect((await api.call('GET', '/users/dave/assignments')).body).toEqual([]);
    const events = (await api.call('GET', '/audit?limit=2')).body.events;
    expect(events.map((e: { action: string }) => e.action)).toEqual(['role.delete', 'assignment.delete']);
    // The admin API request's id too, so the change can be followed to its request line.
    expect(events[1].details).toEqual({ reason: 'role_deleted', role: 'temp_role', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });
});

describe('the last administrator', () => {
  // Without an owner (a tenant made with `caregate tenant create`, say), or while the owner's
  // account is not active: the owner is otherwise protected first (ownership.test.ts).
  beforeAll(async () => {
    await cg.runtime.storage.query("UPDATE users SET ownership = NULL WHERE ownership = 'owner'");
  });

  it('cannot be disabled, deleted or demoted while no other active person holds tenant-wide admin (409)', async () => {
    const [assignment] = (await api.call('GET', '/users/admin/assignments')).body;
    for (const [method, path] of [['POST', '/users/admin/disable'], ['DELETE', '/users/admin'], ['DELETE', `/assignments/${assignment.id}`]]) {
      const reply = await refused(method!, path!);
      expect([method, path, reply.status, reply.body.details?.reason]).toEqual([method, path, 409, 'last_admin']);
    }
    const patched = await refused('PATCH', '/roles/admin', { body: { permissions: ['caregate.users:read'] } });
    expect([patched.status, patched.body.details.reason]).toEqual([409, 'last_admin']);
  });

  it('can be disabled once another person holds tenant-wide admin', async () => {
    await cg.runtime.accounts.users.create('demo', { username: 'second-admin', password: PASSWORD }, [{ role: 'admin' }], cli);
    expect((await api.call('POST', '/users/admin/disable')).status).toBe(200);
    const last = await refused('POST', '/users/second-admin/disable');
    expect(last.status).toBe(409);
    expect((await api.call('POST', '/users/admin/enable')).status).toBe(200);
  });
});

describe('the built-in engagement queue role', () => {
  it('requires PHI in a new tenant', async () => {
    expect((await api.call('GET', '/roles/engagement_queue_viewer')).body.requiresPhi).toBe(true);
  });

  it('is fixed on start in a tenant made before: marked PHI-only, its holders without the flag losing it, audited', async () => {
    const { storage, accounts } = cg.runtime;
    // The tenant as an older version left it: the role unmarked and held by someone without PHI.
    await storage.query("UPDATE roles SET requires_phi = false WHERE key = 'engagement_queue_viewer'");
    await accounts.assignments.assign('demo', { userId: (await accounts.users.findUser('demo', 'dave')).id }, { role: 'engagement_queue_viewer' }, cli);
    await bootstrap(accounts, { tenant: 'demo' });
    expect((await api.call('GET', '/roles/engagement_queue_viewer')).body.requiresPhi).toBe(true);
    expect((await api.call('GET', '/users/dave/assignments')).body).toEqual([]);
    const events = (await api.call('GET', '/audit?limit=2')).body.events;
    expect(events.map((e: { action: string; actorId: string }) => [e.action, e.actorId])).toEqual([['role.update', 'builtin-role-fix'], ['assignment.delete', 'builtin-role-fix']]);
    expect(events[1].details).toMatchObject({ reason: 'role_requires_phi', role: 'engagement_queue_viewer' });
  });
});
