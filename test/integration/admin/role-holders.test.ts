// How many hold a role (for the console's Roles list): GET /roles and GET /roles/{key} say `holders`,
// the assignments of the role — a person's and a team's each count once, wherever they apply — and
// the count follows assignments ending (here: a forced delete of another role leaves this one alone).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';

const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
});

afterAll(async () => cg?.close());

const holdersIn = async (key: string) => ((await api.call('GET', '/roles')).body as Array<{ key: string; holders: number }>).find((r) => r.key === key)?.holders;

describe('role holders', () => {
  it('counts direct and team assignments of a role, in the list and for one role', async () => {
    expect((await api.call('POST', '/roles', { body: { key: 'counted', name: 'Counted', permissions: ['reports:read'] } })).status).toBe(201);
    expect(await holdersIn('counted')).toBe(0);
    expect((await api.call('GET', '/roles/counted')).body).toMatchObject({ key: 'counted', holders: 0 });

    for (const username of ['hana', 'ivo']) {
      expect((await api.call('POST', '/users', { body: { username, password: PASSWORD, assignments: [{ role: 'counted', scope: { type: 'tenant' } }] } })).status).toBe(201);
    }
    expect((await api.call('POST', '/locations', { body: { key: 'east', name: 'East clinic' } })).status).toBe(201);
    expect((await api.call('POST', '/users/hana/assignments', { body: { role: 'counted', scope: { type: 'location', key: 'east' } } })).status).toBe(201);
    expect((await api.call('POST', '/teams', { body: { key: 'night', name: 'Night shift' } })).status).toBe(201);
    expect((await api.call('POST', '/teams/night/assignments', { body: { role: 'counted', scope: { type: 'tenant' } } })).status).toBe(201);

    // hana twice (tenant-wide and at east), ivo once, the team once.
    expect(await holdersIn('counted')).toBe(4);
    const one = await api.call('GET', '/roles/counted');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ key: 'counted', holders: 4, builtin: false, effectivePermissions: ['reports:read'] });

    // Every role says it, other roles unaffected: the admin service account holds admin.
    const list = (await api.call('GET', '/roles')).body as Array<{ key: string; holders: number }>;
    expect(list.every((r) => Number.isInteger(r.holders) && r.holders >= 0)).toBe(true);
    expect(list.find((r) => r.key === 'admin')!.holders).toBeGreaterThanOrEqual(1);
    expect(list.find((r) => r.key === 'raw_data_downloader')!.holders).toBe(0);
  });

  it('follows assignments ending', async () => {
    const teamRoles = (await api.call('GET', '/teams/night/assignments')).body as Array<{ id: string; role: string }>;
    expect((await api.call('DELETE', `/assignments/${teamRoles.find((a) => a.role === 'counted')!.id}`)).status).toBe(204);
    expect((await api.call('GET', '/roles/counted')).body.holders).toBe(3);

    const refused = await api.call('DELETE', '/roles/counted');
    expect([refused.status, refused.body.details]).toEqual([409, { reason: 'role_in_use', assignments: 3 }]);
    expect((await api.call('DELETE', '/roles/counted?force=true')).status).toBe(204);
    expect(await holdersIn('counted')).toBeUndefined();
  });
});
