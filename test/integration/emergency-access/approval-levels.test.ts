// Multi-level approval of elevation requests (the seed's "staff request → manager → admin"),
// end to end against real stores and a real SMTP server: the tenant names two levels — the
// requester's manager, then a clinic admin at the request's location. A request is granted only
// when both approved, in order; a level asked out of turn, one person at two levels and one's own
// request are refused; a rejection at level 2 ends it; each step is audited and the next level's
// approvers are mailed; the API shows each level and who approved it. Attacker calls that would
// change the chain or a manager without the permission are refused and change nothing.
import '../../support/raw-sql.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestCaregate } from '../../support/caregate.ts';
import type { AdminApi } from '../../support/admin-api-client.ts';
import { appTokens, claimsOf, type AppClient } from '../../support/app-tokens.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';
import { waitForMail, type SmtpTestServer } from '../notify/smtp-test-server.ts';
import { setUpRota, startWithMail } from './fixtures.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;
let smtp: SmtpTestServer;
let rota: AppClient;
const ids: Record<string, string> = {};
const user = (name: string) => ({ type: 'user' as const, id: ids[name]! });
const north = { type: 'location', key: 'north' } as const;

const ask = (who: string) => cg.runtime.elevations.request('demo', { role: 'charge_nurse', minutes: 30, reason: 'covering the night shift', scope: north }, user(who));
const approve = (who: string, id: string, level?: number) => cg.runtime.elevations.approve('demo', id, level ? { level } : {}, user(who));
const grants = async (who: string) => cg.runtime.storage.assignments.findBy({ userId: ids[who]!, origin: 'elevation' });
const statusOf = async (id: string) => (await cg.runtime.storage.query<{ status: string }>(`SELECT status FROM access_requests WHERE id = $1`, [id]))[0]!.status;
const audited = (action: string, id: string) => cg.runtime.storage.query<{ outcome: string; after: Record<string, unknown> | null; details: Record<string, unknown> }>(
  `SELECT outcome, after, details FROM audit_events WHERE action = $1 AND target_id = $2 ORDER BY seq`, [action, id]);

beforeAll(async () => {
  ({ cg, api, smtp } = await startWithMail());
  rota = await setUpRota(cg);
  const { accounts } = cg.runtime;
  await accounts.roles.create('demo', { key: 'ward_manager', name: 'Ward manager', permissions: ['caregate.access:approve', 'rota:read'] }, cli);
  await accounts.roles.create('demo', { key: 'clinic_admin', name: 'Clinic admin', permissions: ['caregate.access:approve', 'rota:read', 'rota:edit'] }, cli);
  await accounts.roles.create('demo', { key: 'user_viewer', name: 'User viewer', permissions: ['caregate.users:read'] }, cli);
  await accounts.roles.create('demo', { key: 'policy_reader', name: 'Policy reader', permissions: ['caregate.policy:read'] }, cli);
  for (const [username, roles] of [
    ['nina', ['nurse']], ['noah', ['nurse']], ['lone', ['nurse']],
    ['mark', ['ward_manager']],
    ['ada', ['clinic_admin', 'ward_manager']], ['dave', ['clinic_admin']],
  ] as const) {
    ids[username] = (await accounts.users.create('demo', { username, password: PASSWORD, email: `${username}@clinic.example` }, roles.map((role) => ({ role, scope: north })), cli)).id;
  }
  // sid is a clinic admin at South only: level 2 of a North request is not his to approve, nor to be mailed about.
  await accounts.locations.create('demo', { key: 'south', name: 'South' }, cli);
  ids.sid = (await accounts.users.create('demo', { username: 'sid', password: PASSWORD, email: 'sid@clinic.example' }, [{ role: 'clinic_admin', scope: { type: 'location', key: 'south' } }], cli)).id;
  // mark manages nina; ada manages noah (and holds the admin role too); lone has no manager.
  expect((await api.call('PATCH', '/users/nina', { body: { manager: 'mark' } })).status).toBe(200);
  expect((await api.call('PATCH', '/users/noah', { body: { manager: 'ada' } })).status).toBe(200);
  const set = await api.call('PUT', '/emergency-access/settings', { body: { approvalLevels: [{ manager: true }, { role: 'clinic_admin' }] } });
  expect(set.status).toBe(200);
  expect(set.body.approvalLevels).toEqual([{ manager: true }, { role: 'clinic_admin' }]);
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
});

describe('a two-level chain: manager, then clinic admin', () => {
  let request: { id: string };

  it('mails only the first level (the manager) when the request is made', async () => {
    request = await ask('nina');
    expect(request).toMatchObject({ status: 'pending', levels: [{ level: 1, manager: true, approvedBy: null }, { level: 2, role: 'clinic_admin', approvedBy: null }] });
    await waitForMail(smtp, 'mark@clinic.example', /Access request: nina asks for Charge nurse \(charge_nurse\)/);
    expect(smtp.received.some((m) => m.to.includes('dave@clinic.example') && /nina asks/.test(m.data))).toBe(false);
  });

  it('refuses level 2 before level 1: the admin out of turn, and a decision naming a later level', async () => {
    await expect(approve('dave', request.id)).rejects.toMatchObject({ status: 403, details: { reason: 'not_level_approver', level: 1 } });
    await expect(approve('dave', request.id, 2)).rejects.toMatchObject({ status: 409, details: { reason: 'out_of_order' } });
    expect(await grants('nina')).toHaveLength(0);
    expect(await statusOf(request.id)).toBe('pending');
  });

  it('records level 1 by her manager without granting, audits it and mails level 2', async () => {
    expect(await approve('mark', request.id)).toMatchObject({ status: 'pending', approvedLevel: 1, awaitingLevel: 2 });
    expect(await grants('nina')).toHaveLength(0);
    expect((await audited('elevation.approve', request.id)).filter((e) => e.outcome === 'success').map((e) => e.after)).toEqual([expect.objectContaining({ level: 1, of: 2 })]);
    await waitForMail(smtp, 'dave@clinic.example', /Access request: nina asks for Charge nurse \(charge_nurse\)/);
    expect(smtp.received.some((m) => m.to.includes('sid@clinic.example'))).toBe(false);
  });

  it('refuses her manager again at level 2, and grants on the admin\'s approval', async () => {
    await expect(approve('mark', request.id)).rejects.toMatchObject({ status: 403 });
    expect(await approve('dave', request.id, 2)).toMatchObject({ status: 'granted', role: 'charge_nurse' });
    const [grant] = await grants('nina');
    expect(grant!.expiresAt!.getTime() - grant!.startsAt!.getTime()).toBe(30 * 60_000);
    expect(claimsOf((await appTokens(cg, rota, 'nina', PASSWORD)).tokens.access_token).locations.north).toContain('charge_nurse');
    await waitForMail(smtp, 'nina@clinic.example', /Access request approved/);
  });

  it('shows each level and who approved it', async () => {
    const { body } = await api.call('GET', '/access-requests?status=granted');
    const shown = body.find((r: { id: string }) => r.id === request.id);
    expect(shown.levels).toEqual([
      expect.objectContaining({ level: 1, manager: true, approvedBy: 'mark' }),
      expect.objectContaining({ level: 2, role: 'clinic_admin', approvedBy: 'dave' }),
    ]);
  });
});

describe('separation of duties in the chain', () => {
  it('refuses one person at two levels: the manager who is also an admin approves level 1 only', async () => {
    const request = await ask('noah');
    expect(await approve('ada', request.id)).toMatchObject({ status: 'pending', approvedLevel: 1 });
    await expect(approve('ada', request.id)).rejects.toMatchObject({ status: 403, details: { reason: 'same_approver' } });
    expect(await grants('noah')).toHaveLength(0);
    expect(await approve('dave', request.id)).toMatchObject({ status: 'granted' });
  });

  it('refuses the requester approving her own request at any level', async () => {
    await cg.runtime.accounts.users.update('demo', 'dave', { manager: 'ada' }, cli);
    const request = await ask('dave');
    await expect(approve('dave', request.id)).rejects.toMatchObject({ code: 'self_change_refused' });
    expect(await approve('ada', request.id)).toMatchObject({ status: 'pending' });
    await expect(approve('dave', request.id)).rejects.toMatchObject({ code: 'self_change_refused' });
    expect(await grants('dave')).toHaveLength(0);
    expect((await audited('elevation.approve', request.id)).filter((e) => e.outcome === 'failure')).toHaveLength(2);
  });

  it('ends a request rejected at level 2: nothing granted, the requester told, no later approval', async () => {
    const before = (await grants('nina')).length;
    const request = await ask('nina');
    await approve('mark', request.id);
    await cg.runtime.elevations.reject('demo', request.id, { note: 'not tonight' }, user('dave'));
    expect(await statusOf(request.id)).toBe('rejected');
    await expect(approve('ada', request.id)).rejects.toMatchObject({ status: 409 });
    expect(await grants('nina')).toHaveLength(before);
    expect(await audited('elevation.reject', request.id)).toEqual([expect.objectContaining({ outcome: 'success', after: expect.objectContaining({ level: 2 }) })]);
    await waitForMail(smtp, 'nina@clinic.example', /Access request rejected/);
  });

  it('refuses a request from someone without a manager when the chain names one', async () => {
    await expect(ask('lone')).rejects.toMatchObject({ status: 409, details: { reason: 'no_manager' } });
  });
});

describe('attacker calls', () => {
  it('refuses changing the approval levels without caregate.policy:edit, and changes nothing', async () => {
    const reader = await api.token('demo', await api.serviceClient('demo', ['policy_reader']));
    const reply = await leavesTenantUnchanged(cg, () => api.call('PUT', '/emergency-access/settings', { token: reader, body: { approvalLevels: [] } }));
    expect(reply.status).toBe(403);
  });

  it('refuses setting a manager without caregate.users:edit (becoming someone\'s approver), and changes nothing', async () => {
    const viewer = await api.token('demo', await api.serviceClient('demo', ['user_viewer']));
    const reply = await leavesTenantUnchanged(cg, () => api.call('PATCH', '/users/nina', { token: viewer, body: { manager: 'dave' } }));
    expect(reply.status).toBe(403);
  });

  it('refuses an approval through the API from a caller without caregate.access:approve, and changes nothing', async () => {
    const request = await ask('nina');
    const viewer = await api.token('demo', await api.serviceClient('demo', ['user_viewer']));
    const reply = await leavesTenantUnchanged(cg, () => api.call('POST', `/access-requests/${request.id}/approve`, { token: viewer, body: {} }));
    expect(reply.status).toBe(403);
  });

  it('refuses making a user their own manager', async () => {
    expect((await api.call('PATCH', '/users/nina', { body: { manager: 'nina' } })).status).toBe(409);
  });
});
