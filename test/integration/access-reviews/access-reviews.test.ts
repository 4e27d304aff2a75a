// Access reviews, end to end against real stores and a real SMTP server: a campaign over the North
// location snapshots the people with a role there (direct, through a team, API keys they own), a
// reviewer at North sees only them and never herself, certifies and revokes (the role is gone from
// the next token), is refused on her own access and outside her reach; reminders are mailed once a
// day; the deadline revokes or flags what is left; the CSV report says who decided what.
import '../../support/raw-sql.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closeDueCampaigns, remindReviewers, REVIEW_REPORT_COLUMNS } from '../../../src/accounts/index.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { appTokens, claimsOf, type AppClient } from '../../support/app-tokens.ts';
import { startSmtpServer, type SmtpTestServer } from '../notify/smtp-test-server.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const DAY = 86_400_000;

let cg: TestCaregate;
let api: AdminApi;
let smtp: SmtpTestServer;
let ehr: AppClient;
const ids: Record<string, string> = {};
const user = (name: string) => ({ type: 'user' as const, id: ids[name]! });
let campaignId: string;

async function until<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const reviews = () => cg.runtime.accounts.reviews;
const assignmentsOf = (name: string) => cg.runtime.storage.assignments.findBy({ userId: ids[name]! });
const itemsOf = async (campaign: string) => (await cg.runtime.storage.query<{ id: string; username: string; role: string; origin: string; kind: string; unused: boolean; decision: string | null; decided_by: string | null; note: string | null; subject_id: string }>(
  'SELECT id, username, role, origin, kind, unused, decision, decided_by, note, subject_id FROM access_review_items WHERE campaign_id = $1 ORDER BY username, role', [campaign]));

beforeAll(async () => {
  // Plain SMTP: smtp-server's bundled STARTTLS certificate has expired.
  smtp = await startSmtpServer({ disabledCommands: ['STARTTLS'] });
  cg = await startTestCaregate({ overrides: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Caregate <no-reply@test.example>' } });
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  const app = await accounts.applications.create('demo', {
    name: 'EHR', redirectUris: ['https://ehr.example/cb'], grantTypes: ['authorization_code', 'refresh_token'], resource: 'https://ehr.example/api', permissions: ['chart:read', 'chart:sign'],
  }, cli);
  ehr = { ...app, redirect: 'https://ehr.example/cb', resource: 'https://ehr.example/api' };
  await accounts.locations.create('demo', { key: 'north', name: 'North' }, cli);
  await accounts.locations.create('demo', { key: 'south', name: 'South' }, cli);
  await accounts.roles.create('demo', { key: 'nurse', name: 'Nurse', permissions: ['chart:read'] }, cli);
  await accounts.roles.create('demo', { key: 'night_nurse', name: 'Night nurse', permissions: ['chart:sign'] }, cli);
  await accounts.roles.create('demo', { key: 'reviewer', name: 'Access reviewer', permissions: ['caregate.reviews:decide', 'caregate.assignments:delete', 'chart:read', 'chart:sign'] }, cli);
  const north = { type: 'location' as const, key: 'north' };
  const south = { type: 'location' as const, key: 'south' };
  for (const [username, roles] of [
    ['nora', [{ role: 'nurse', scope: north }]],
    ['olga', [{ role: 'nurse', scope: north }]],
    ['rita', [{ role: 'reviewer', scope: north }]],
    ['sam', [{ role: 'nurse', scope: south }]],
    ['victor', [{ role: 'reviewer', scope: south }]],
  ] as const) {
    ids[username] = (await accounts.users.create('demo', { username, password: PASSWORD, email: `${username}@clinic.example` }, [...roles], cli)).id;
  }
  await accounts.teams.create('demo', { key: 'night', name: 'Night shift' }, cli);
  const team = await cg.runtime.storage.teams.findOneByOrFail({ key: 'night' });
  await accounts.assignments.assign('demo', { teamId: team.id }, { role: 'night_nurse', scope: north }, cli);
  await accounts.teamMembers.add('demo', 'night', ids.nora!, cli);
  // Olga's account is old and she has never signed in; Nora signed in today.
  await cg.runtime.storage.query(`UPDATE users SET created_at = now() - interval '200 days' WHERE id = $1`, [ids.olga]);
  await cg.runtime.storage.query('UPDATE users SET last_login_at = now() WHERE id = $1', [ids.nora]);
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
});

describe('a campaign over a location', () => {
  it('snapshots the people with a role at North — direct and through a team — and highlights the unused, leaving South out', async () => {
    const reply = await api.call('POST', '/access-reviews', { body: { name: 'Q3 North', scope: { type: 'location', key: 'north' }, deadline: new Date(Date.now() + 365 * DAY).toISOString(), onDeadline: 'flag', unusedDays: 90 } });
    expect(reply.status).toBe(201);
    campaignId = reply.body.id;
    expect(reply.body).toMatchObject({ name: 'Q3 North', scope: { type: 'location', key: 'north' }, status: 'open', undecided: reply.body.items });
    const items = await itemsOf(campaignId);
    expect(items.map((i) => `${i.username} ${i.role} ${i.origin}`)).toEqual(['nora night_nurse team:night', 'nora nurse direct', 'olga nurse direct', 'rita reviewer direct']);
    expect(items.filter((i) => i.unused).map((i) => i.username)).toEqual(['olga']);
    expect(await cg.runtime.storage.auditEvents.findOneBy({ action: 'access_review.create', targetId: campaignId })).toBeTruthy();
  });

  it('refuses to start a campaign for someone without caregate.reviews:manage, writing nothing', async () => {
    const client = await api.serviceClient('demo', ['reviewer']);
    const token = await api.token('demo', client);
    const reply = await api.call('POST', '/access-reviews', { token, body: { name: 'x', scope: { type: 'tenant' }, deadline: new Date(Date.now() + DAY).toISOString() } });
    expect(reply.status).toBe(403);
    expect((await api.call('GET', '/access-reviews')).body.map((c: { name: string }) => c.name)).toEqual(['Q3 North']);
  });
});

describe('reviewing', () => {
  it('shows a reviewer the items of the users she may manage at North, never her own nor South', async () => {
    const mine = await reviews().myItems('demo', campaignId, user('rita'));
    expect(mine.items.map((i) => `${i.username} ${i.role}`)).toEqual(['nora night_nurse', 'nora nurse', 'olga nurse']);
    // Named as people read them: Rita may not read the role catalogue (her role has no caregate.roles:read).
    expect(mine.items.map((i) => (i as { roleName?: string }).roleName)).toEqual(['Night nurse', 'Nurse', 'Nurse']);
    const victors = await reviews().myItems('demo', campaignId, user('victor'));
    expect(victors.items).toEqual([]);
  });

  it('certifies an item with a note, and revokes another: the role is gone from the next token', async () => {
    const before = claimsOf((await appTokens(cg, ehr, 'nora', PASSWORD)).tokens.access_token);
    expect(before.locations.north).toEqual(['night_nurse', 'nurse']);
    const items = await itemsOf(campaignId);
    const team = items.find((i) => i.username === 'nora' && i.role === 'night_nurse')!;
    const direct = items.find((i) => i.username === 'nora' && i.role === 'nurse')!;
    expect(await reviews().decide('demo', campaignId, team.id, { decision: 'certify', note: 'works nights, still needed' }, user('rita'))).toMatchObject({ decision: 'certified' });
    expect(await reviews().decide('demo', campaignId, direct.id, { decision: 'revoke', note: 'moved to the lab' }, user('rita'))).toMatchObject({ decision: 'revoked' });
    expect((await assignmentsOf('nora')).map((a) => a.id)).not.toContain(direct.subject_id);
    const after = claimsOf((await appTokens(cg, ehr, 'nora', PASSWORD)).tokens.access_token);
    expect(after.locations.north).toEqual(['night_nurse']);
    const removal = await cg.runtime.storage.auditEvents.findOneBy({ action: 'assignment.delete', targetId: direct.subject_id });
    expect(removal).toMatchObject({ actorType: 'user', actorId: ids.rita });
    await expect(reviews().decide('demo', campaignId, direct.id, { decision: 'certify' }, user('rita'))).rejects.toMatchObject({ status: 409 });
  });

  it('refuses a reviewer deciding on her own access, and changes nothing', async () => {
    const own = (await itemsOf(campaignId)).find((i) => i.username === 'rita')!;
    const held = (await assignmentsOf('rita')).length;
    await expect(reviews().decide('demo', campaignId, own.id, { decision: 'certify' }, user('rita'))).rejects.toMatchObject({ code: 'self_review_refused' });
    await expect(reviews().decide('demo', campaignId, own.id, { decision: 'revoke' }, user('rita'))).rejects.toMatchObject({ code: 'self_review_refused' });
    expect((await itemsOf(campaignId)).find((i) => i.id === own.id)!.decision).toBeNull();
    expect((await assignmentsOf('rita')).length).toBe(held);
  });

  it('refuses a reviewer without rights over the user (a reviewer at South on a North nurse), and changes nothing', async () => {
    const olga = (await itemsOf(campaignId)).find((i) => i.username === 'olga')!;
    await expect(reviews().decide('demo', campaignId, olga.id, { decision: 'certify' }, user('victor'))).rejects.toMatchObject({ code: 'out_of_scope' });
    await expect(reviews().decide('demo', campaignId, olga.id, { decision: 'revoke' }, user('victor'))).rejects.toMatchObject({ code: 'out_of_scope' });
    expect((await itemsOf(campaignId)).find((i) => i.id === olga.id)!.decision).toBeNull();
    expect((await assignmentsOf('olga')).length).toBe(1);
  });

  it('refuses the same through the admin API, audited as admin.forbidden', async () => {
    const client = await api.serviceClient('demo', []);
    const svc = await cg.runtime.storage.users.findOneByOrFail({ username: `svc-${client.clientId}` });
    await cg.runtime.accounts.assignments.assign('demo', { userId: svc.id }, { role: 'reviewer', scope: { type: 'location', key: 'south' } }, cli);
    const token = await api.token('demo', client);
    const olga = (await itemsOf(campaignId)).find((i) => i.username === 'olga')!;
    const reply = await api.call('POST', `/access-reviews/${campaignId}/items/${olga.id}/decision`, { token, body: { decision: 'revoke' } });
    expect(reply.status).toBe(403);
    expect((await itemsOf(campaignId)).find((i) => i.id === olga.id)!.decision).toBeNull();
    expect(await cg.runtime.storage.auditEvents.findOneBy({ action: 'admin.forbidden', actorId: client.clientId })).toBeTruthy();
  });

  it('writes the report for auditors as CSV: item, user, role, scope, origin, last sign-in, decision, reviewer, time, note', async () => {
    const reply = await fetch(`${api.url}/v1/t/demo/access-reviews/${campaignId}/report`, { headers: { authorization: `Bearer ${api.admin.token}` } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await reply.text()).trim().split('\n');
    expect(lines[0]).toBe(REVIEW_REPORT_COLUMNS.join(','));
    const revoked = lines.find((l) => l.includes(',nora,') && l.includes(',revoked,'))!;
    expect(revoked).toContain(',nurse,location:north,direct,');
    expect(revoked).toContain(',rita,');
    expect(revoked).toMatch(/,moved to the lab$/);
    expect(lines.find((l) => l.includes(',olga,'))).toContain(',true,undecided,');
    expect(await cg.runtime.storage.auditEvents.findOneBy({ action: 'access_review.export', targetId: campaignId })).toBeTruthy();
  });
});

describe('the clock', () => {
  let flagId: string;
  let revokeId: string;

  it('mails a reviewer with undecided items before the deadline, at most once a day', async () => {
    const deadline = new Date(Date.now() + 3 * DAY).toISOString();
    flagId = (await reviews().create('demo', { name: 'Flag at deadline', scope: { type: 'location', key: 'north' }, deadline, onDeadline: 'flag', remindDays: 7 }, cli)).id;
    revokeId = (await reviews().create('demo', { name: 'Revoke at deadline', scope: { type: 'location', key: 'north' }, deadline, onDeadline: 'revoke', remindDays: 0 }, cli)).id;
    const deps = { ...cg.runtime, reviews: reviews(), baseUrl: cg.baseUrl, onError: (e: Error) => { throw e; } };
    const sent = await remindReviewers(deps);
    expect(sent.filter((s) => s.reviewer === 'rita').map((s) => s.campaignId)).toEqual([flagId]);
    const mail = await until(() => smtp.received.find((m) => m.to.includes('rita@clinic.example')));
    expect(mail.data).toContain('Flag at deadline');
    expect(smtp.received.some((m) => m.to.includes('victor@clinic.example') || m.to.includes('nora@clinic.example'))).toBe(false);
    expect((await remindReviewers(deps)).filter((s) => s.reviewer === 'rita')).toEqual([]);
  });

  it('at the deadline flags what is undecided in one campaign and revokes it in the other, as the system', async () => {
    const nurse = (await assignmentsOf('olga'))[0]!;
    const closed = await closeDueCampaigns({ storage: cg.runtime.storage, reviews: reviews() }, new Date(Date.now() + 4 * DAY));
    expect(closed.map((c) => c.id).sort()).toEqual([flagId, revokeId].sort());
    expect((await itemsOf(flagId)).every((i) => i.decision === 'flagged' && i.decided_by === 'system:access-review')).toBe(true);
    const revoked = await itemsOf(revokeId);
    expect(revoked.find((i) => i.username === 'olga')).toMatchObject({ decision: 'revoked', decided_by: 'system:access-review' });
    expect(await assignmentsOf('olga')).toEqual([]);
    expect(await cg.runtime.storage.auditEvents.findOneBy({ action: 'assignment.delete', targetId: nurse.id })).toMatchObject({ actorType: 'system', actorId: 'access-review' });
    expect(await cg.runtime.storage.auditEvents.findOneBy({ action: 'access_review.close', targetId: revokeId })).toMatchObject({ actorType: 'system' });
    // The first campaign's deadline is a year away: still open.
    expect((await cg.runtime.accounts.reviews.list('demo', cli)).find((c) => c.id === campaignId)).toMatchObject({ status: 'open' });
  });
});

describe('recurring campaigns and API keys', () => {
  it('reviews the API keys a person owns or their service account holds, and a revoked key stops working', async () => {
    const { accounts } = cg.runtime;
    const account = (await accounts.serviceAccounts.create('demo', { username: 'north-export' }, cli)) as { id: string };
    await accounts.assignments.assign('demo', { userId: account.id }, { role: 'nurse', scope: { type: 'location', key: 'north' } }, cli);
    const key = (await accounts.apiKeys.create('demo', 'north-export', { name: 'export', permissions: ['chart:read'], expiresAt: new Date(Date.now() + 30 * DAY), owner: 'nora' }, cli)) as { id: string };
    const id = (await reviews().create('demo', { name: 'Keys at North', scope: { type: 'location', key: 'north' }, deadline: new Date(Date.now() + 30 * DAY).toISOString() }, cli)).id;
    const keyItem = (await itemsOf(id)).find((i) => i.kind === 'api_key');
    expect(keyItem).toMatchObject({ subject_id: key.id });
    await reviews().decide('demo', id, keyItem!.id, { decision: 'revoke', note: 'no longer exported' }, cli);
    expect((await cg.runtime.storage.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM api_keys WHERE id = $1', [key.id]))[0]?.revoked_at).toBeTruthy();
  });

  it('starts the next campaign of a recurring one when it closes: same scope, deadline months later, a fresh snapshot', async () => {
    const deadline = new Date(Date.now() + 10 * DAY);
    const first = await reviews().create('demo', { name: 'Quarterly North', scope: { type: 'location', key: 'north' }, deadline: deadline.toISOString(), recurrenceMonths: 3 }, cli);
    const closed = await reviews().close('demo', first.id, cli);
    expect(closed.nextCampaignId).toEqual(expect.any(String));
    const next = (await reviews().list('demo', cli)).find((c) => c.id === closed.nextCampaignId);
    const expected = new Date(deadline);
    expected.setUTCMonth(expected.getUTCMonth() + 3);
    expect(next).toMatchObject({ name: 'Quarterly North', status: 'open', scope: { type: 'location', key: 'north' }, recurrenceMonths: 3 });
    expect(new Date(next!.deadline).getTime()).toBe(expected.getTime());
    expect((await itemsOf(closed.nextCampaignId!)).length).toBeGreaterThan(0);
    // A campaign without recurrence starts nothing.
    const once = await reviews().create('demo', { name: 'Once', scope: { type: 'tenant' }, deadline: deadline.toISOString() }, cli);
    expect((await reviews().close('demo', once.id, cli)).nextCampaignId).toBeNull();
  });
});
