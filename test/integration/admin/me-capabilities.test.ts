// GET /me tells a client (the console) whether its user holds every admin permission tenant-wide —
// what registering or changing an application that reaches the admin API needs — so that it shows
// the admin-API controls only to them (the API refuses everyone else anyway).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';

const cli = { type: 'cli' as const, id: 'test' };

let cg: TestCaregate;
let api: AdminApi;

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  await cg.runtime.accounts.roles.create('demo', { key: 'app_editor', name: 'Application editor', permissions: ['caregate.applications:read', 'caregate.applications:edit'] }, cli);
});

afterAll(async () => {
  await cg?.close();
});

describe('GET /me', () => {
  it('says allAdminPermissions for a full administrator, and not for one holding part of the catalogue', async () => {
    const full = await api.call('GET', '/me');
    expect(full.status).toBe(200);
    expect(full.body.allAdminPermissions).toBe(true);

    const editor = await api.serviceClient('demo', ['app_editor']);
    const partial = await api.call('GET', '/me', { token: await api.token('demo', editor) });
    expect(partial.status).toBe(200);
    expect(partial.body.permissions).toEqual({ 'caregate.applications:read': 'tenant', 'caregate.applications:edit': 'tenant' });
    expect(partial.body.allAdminPermissions).toBe(false);
  });
});
