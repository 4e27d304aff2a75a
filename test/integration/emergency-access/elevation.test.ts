// Just-in-time elevation with approval, end to end against real stores and a real SMTP server: a
// nurse asks for the charge nurse role at North for half an hour; approvers are mailed; the first
// approval by someone else who may grant that role there gives an 'elevation' assignment until its
// end, which her tokens carry; rejections and lapsed requests are audited and she is told. Every
// guard is tried as an attacker would (her own approval, an approver who could not grant the role).
import '../../support/raw-sql.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestCaregate } from '../../support/caregate.ts';
import { appTokens, claimsOf, type AppClient } from '../../support/app-tokens.ts';
import { consoleScreenOf } from '../../support/console-routes.ts';
import { waitForMail, type SmtpTestServer } from '../notify/smtp-test-server.ts';
import { setUpRota, startWithMail } from './fixtures.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let smtp: SmtpTestServer;
let rota: AppClient;
const ids: Record<string, string> = {};
const user = (name: string) => ({ type: 'user' as const, id: ids[name]! });

const mailTo = (address: string, subject: RegExp) => smtp.received.find((m) => m.to.includes(address) && subject.test(m.data));
const ask = (who: string, body: { role: string; minutes: number; reason: string; oneTime?: boolean }) =>
  cg.runtime.elevations.request('demo', { ...body, scope: { type: 'location', key: 'north' } }, user(who));
const elevations = async (who: string) => cg.runtime.storage.assignments.findBy({ userId: ids[who]!, origin: 'elevation' });
const audited = async (action: string) => cg.runtime.storage.query<{ outcome: string; details: Record<string, unknown> }>(`SELECT outcome, details FROM audit_events WHERE action = $1 ORDER BY seq`, [action]);

beforeAll(async () => {
  ({ cg, smtp } = await startWithMail());
  rota = await setUpRota(cg);
  const { accounts } = cg.runtime;
  await accounts.locations.create('demo', { key: 'south', name: 'South' }, cli);
  await accounts.roles.create('demo', { key: 'approver', name: 'Access approver', permissions: ['caregate.access:approve', 'rota:read', 'rota:edit'] }, cli);
  await accounts.roles.create('demo', { key: 'rubber_stamp', name: 'Approver without the role', permissions: ['caregate.access:approve'] }, cli);
  const north = { type: 'location', key: 'north' } as const;
  for (const [username, roles] of [
    ['nina', [{ role: 'nurse', scope: north }, { role: 'approver', scope: north }]],
    ['alice', [{ role: 'approver', scope: north }]],
    ['walt', [{ role: 'rubber_stamp', scope: north }]],
    ['sol', [{ role: 'approver', scope: { type: 'location', key: 'south' } }]],
  ] as const) {
    ids[username] = (await accounts.users.create('demo', { username, password: PASSWORD, email: `${username}@clinic.example` }, [...roles], cli)).id;
  }
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
});

describe('asking and approving', () => {
  let request: { id: string };

  it('offers her the roles and places by name without any admin permission, marking roles that need the PHI flag she lacks', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'chart_reader', name: 'Chart reader', requiresPhi: true, permissions: ['rota:read'] }, cli);
    const offered = await cg.runtime.elevations.choices('demo', user('nina'));
    expect(offered.maxMinutes).toBeGreaterThan(0);
    expect(offered.roles.find((r) => r.key === 'charge_nurse')).toEqual({ key: 'charge_nurse', name: 'Charge nurse', description: null, requiresPhi: false, mayAsk: true });
    expect(offered.roles.find((r) => r.key === 'chart_reader')).toMatchObject({ requiresPhi: true, mayAsk: false });
    expect(offered.applications.map((a) => a.name)).toEqual(expect.arrayContaining(['Rota']));
    await expect(ask('nina', { role: 'chart_reader', minutes: 30, reason: 'reading charts' })).rejects.toMatchObject({ status: 422 });
    expect(offered.locations).toEqual([expect.objectContaining({ key: 'north', name: 'North', id: expect.any(String) }), expect.objectContaining({ key: 'south', name: 'South' })]);
    // Only a person: the command line has nobody to ask for, and an integration (its client token or
    // API key speaks for a service account) reads catalogues only with the permissions for them.
    await expect(cg.runtime.elevations.choices('demo', cli)).rejects.toMatchObject({ status: 404 });
    const exporter = await cg.runtime.accounts.applications.create('demo', { name: 'Exporter', grantTypes: ['client_credentials'], serviceRoles: ['nurse'] }, cli);
    await expect(cg.runtime.elevations.choices('demo', { type: 'client', id: exporter.client_id })).rejects.toMatchObject({ status: 404 });
    expect((await cg.runtime.elevations.choices('demo', user('nina'))).applications.map((a) => a.name)).not.toContain('Exporter');
  });

  it('records the request and mails the approvers (not the requester)', async () => {
    request = await ask('nina', { role: 'charge_nurse', minutes: 30, reason: 'covering the night shift' });
    expect(request).toMatchObject({ status: 'pending', role: 'charge_nurse', roleName: 'Charge nurse' });
    const mail = await waitForMail(smtp, 'alice@clinic.example', /Access request: nina asks for Charge nurse \(charge_nurse\)/);
    expect(mail.data).toContain('covering the night shift');
    // The link opens the console's access requests: the console's route table says so, as every
    // path below /admin answers 200 with the console's page.
    const link = /(http\S+\/t\/demo\/admin\S*)/.exec(mail.text)?.[1];
    expect(link?.startsWith(`${cg.baseUrl}/`)).toBe(true);
    expect(consoleScreenOf(link!, 'demo')).toBe('AccessRequests');
    expect((await fetch(link!)).status).toBe(200);
    expect(mailTo('nina@clinic.example', /Access request: nina asks/)).toBeUndefined();
  });

  it('refuses a reason left empty, and a duration past the tenant maximum', async () => {
    await expect(ask('nina', { role: 'charge_nurse', minutes: 30, reason: ' ' })).rejects.toMatchObject({ status: 400 });
    await expect(ask('nina', { role: 'charge_nurse', minutes: 241, reason: 'long' })).rejects.toMatchObject({ status: 409 });
  });

  it('refuses the requester approving her own request, though she holds the approval permission there', async () => {
    await expect(cg.runtime.elevations.approve('demo', request.id, {}, user('nina'))).rejects.toMatchObject({ code: 'self_change_refused' });
    expect(await elevations('nina')).toHaveLength(0);
  });

  it('refuses an approver who holds the approval permission but could not grant the role there', async () => {
    await expect(cg.runtime.elevations.approve('demo', request.id, {}, user('walt'))).rejects.toMatchObject({ code: 'escalation_refused' });
    expect(await elevations('nina')).toHaveLength(0);
  });

  it('refuses an approver whose approval permission is held at another location', async () => {
    await expect(cg.runtime.elevations.approve('demo', request.id, {}, user('sol'))).rejects.toMatchObject({ status: 403 });
    expect(await elevations('nina')).toHaveLength(0);
    expect((await audited('elevation.approve')).every((e) => e.outcome === 'failure')).toBe(true);
  });

  it('grants the role at North until its end on the first approval by someone else; her tokens carry it; she is mailed', async () => {
    const decided = await cg.runtime.elevations.approve('demo', request.id, { note: 'ok for tonight' }, user('alice'));
    expect(decided).toMatchObject({ status: 'granted', role: 'charge_nurse' });
    const [grant] = await elevations('nina');
    expect(grant!.expiresAt!.getTime() - grant!.startsAt!.getTime()).toBe(30 * 60_000);
    await waitForMail(smtp, 'nina@clinic.example', /Access request approved/);
    const claims = claimsOf((await appTokens(cg, rota, 'nina', PASSWORD)).tokens.access_token);
    expect(claims.locations.north).toContain('charge_nurse');
    expect(claims.exp).toBeLessThanOrEqual(Math.ceil(grant!.expiresAt!.getTime() / 1000));
    await expect(cg.runtime.elevations.approve('demo', request.id, {}, user('alice'))).rejects.toMatchObject({ status: 409 });
  });
});

describe('rejecting and lapsing', () => {
  it('rejects: nothing granted, audited, the requester mailed', async () => {
    const request = await ask('nina', { role: 'charge_nurse', minutes: 15, reason: 'again' });
    await cg.runtime.elevations.reject('demo', request.id, { note: 'not needed' }, user('alice'));
    expect((await cg.runtime.storage.query(`SELECT status FROM access_requests WHERE id = $1`, [request.id]))[0]).toEqual({ status: 'rejected' });
    await waitForMail(smtp, 'nina@clinic.example', /Access request rejected/);
    expect(await audited('elevation.reject')).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: 'success' })]));
  });

  it('lapses a request nobody decided in time: expired, audited, the requester mailed, no longer approvable', async () => {
    const request = await ask('nina', { role: 'charge_nurse', minutes: 15, reason: 'weekend' });
    await cg.runtime.storage.query(`UPDATE access_requests SET pending_until = now() - interval '1 second' WHERE id = $1`, [request.id]);
    await expect(cg.runtime.elevations.approve('demo', request.id, {}, user('alice'))).rejects.toMatchObject({ status: 409 });
    const lapsed = await cg.runtime.elevations.expirePending();
    expect(lapsed.map((r) => r.id)).toEqual([request.id]);
    expect(await audited('elevation.expire')).toHaveLength(1);
    await waitForMail(smtp, 'nina@clinic.example', /Access request expired/);
  });
});
