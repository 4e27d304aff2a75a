// Tenant ownership: the bootstrap administrator owns the tenant; nobody disables, deletes or
// demotes the owner; only the owner hands ownership over (to an active admin, with 2FA where the
// policy requires it) or names backup owners; a backup owner claims ownership only while the
// owner's account is not active. Every change audited.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;
const person = async (username: string) => ({ type: 'user' as const, id: (await cg.runtime.accounts.users.findUser('demo', username)).id });

const refused = (method: string, path: string, body?: unknown) => leavesTenantUnchanged(cg, () => api.call(method, path, { body }));

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  await cg.runtime.accounts.users.create('demo', { username: 'deputy', password: PASSWORD }, [{ role: 'admin' }], cli);
  await cg.runtime.accounts.users.create('demo', { username: 'clerk', password: PASSWORD }, [{ role: 'report_viewer' }], cli);
});

afterAll(async () => cg?.close());

describe('the owner', () => {
  it('is the bootstrap administrator of a new tenant', async () => {
    expect((await api.call('GET', '/owner')).body).toMatchObject({ owner: { username: 'admin' }, backups: [] });
  });

  it('cannot be disabled, deleted or stripped of admin by another administrator (409 owner), even with another admin present', async () => {
    const [assignment] = (await api.call('GET', '/users/admin/assignments')).body;
    for (const [method, path] of [['POST', '/users/admin/disable'], ['DELETE', '/users/admin'], ['DELETE', `/assignments/${assignment.id}`]] as const) {
      const reply = await refused(method, path);
      expect([method, path, reply.status, reply.body.details?.reason]).toEqual([method, path, 409, 'owner']);
    }
  });

  it('alone hands ownership over or names backups: another administrator is refused (403 not_owner)', async () => {
    expect((await refused('POST', '/owner/transfer', { user: 'deputy' })).body.error).toBe('not_owner');
    expect((await refused('PUT', '/owner/backups', { users: ['deputy'] })).body.error).toBe('not_owner');
  });
});

describe('transferring ownership', () => {
  it('refuses someone who is not a tenant-wide admin, and (policy requiring 2FA) someone without a second factor', async () => {
    const owner = await person('admin');
    await expect(cg.runtime.accounts.ownership.transfer('demo', 'clerk', owner)).rejects.toMatchObject({ status: 409, details: { reason: 'not_eligible' } });
    await cg.runtime.accounts.tenants.updatePolicy('demo', { mfa: { mode: 'required' } }, cli);
    await expect(cg.runtime.accounts.ownership.transfer('demo', 'deputy', owner)).rejects.toMatchObject({ status: 409, message: expect.stringContaining('second factor') });
    await cg.runtime.accounts.tenants.updatePolicy('demo', { mfa: { mode: 'off' } }, cli);
  });

  it('moves ownership: the new owner is protected, the old one is an administrator like any other; audited', async () => {
    await cg.runtime.accounts.ownership.transfer('demo', 'deputy', await person('admin'));
    expect((await api.call('GET', '/owner')).body.owner.username).toBe('deputy');
    const [event] = (await api.call('GET', '/audit?limit=1')).body.events;
    expect(event).toMatchObject({ action: 'tenant.owner.transfer', before: { owner: { username: 'admin' } }, after: { owner: { username: 'deputy' } } });
    expect((await refused('POST', '/users/deputy/disable')).status).toBe(409);
    expect((await api.call('POST', '/users/admin/disable')).status).toBe(200);
    expect((await api.call('POST', '/users/admin/enable')).status).toBe(200);
  });
});

describe('backup owners', () => {
  it('are named by the owner, and claim ownership only while the owner is not active', async () => {
    const deputy = await person('deputy');
    await cg.runtime.accounts.ownership.setBackups('demo', ['admin'], deputy);
    expect((await api.call('GET', '/owner')).body.backups.map((b: { username: string }) => b.username)).toEqual(['admin']);
    const backup = await person('admin');
    await expect(cg.runtime.accounts.ownership.claim('demo', backup)).rejects.toMatchObject({ status: 409, details: { reason: 'owner_active' } });
    await expect(cg.runtime.accounts.ownership.claim('demo', await person('clerk'))).rejects.toMatchObject({ status: 403, code: 'not_owner' });
    // The owner's account locked after failed sign-ins: the clinic's emergency path.
    await cg.runtime.storage.query("UPDATE users SET status = 'locked' WHERE username = 'deputy'");
    await cg.runtime.accounts.ownership.claim('demo', backup);
    expect((await api.call('GET', '/owner')).body.owner.username).toBe('admin');
    const [event] = (await api.call('GET', '/audit?limit=1')).body.events;
    expect(event).toMatchObject({ action: 'tenant.owner.claim', actorId: backup.id });
  });
});
