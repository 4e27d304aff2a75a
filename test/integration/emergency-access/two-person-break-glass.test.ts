// Owner emergency access with two-person approval (seeds: "Emergency bypass — owner can gain
// access if admin unavailable"; "Separation of duties — different person must approve emergency
// access"), end to end against real stores, a real SMTP server and a local webhook receiver: a
// rule lets the owner take the practice admin role once two other people approved — holders of its
// reviewer role or its named approver. The use waits; approvers are mailed and the webhook called
// at once; one approval grants nothing; the owner's own approval and the same approver twice are
// refused; the second distinct approval grants, and tokens carry the role with the break_glass
// claim. A use nobody approves lapses. Attacker calls are refused and change nothing.
import '../../support/raw-sql.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestCaregate } from '../../support/caregate.ts';
import type { AdminApi } from '../../support/admin-api-client.ts';
import { appTokens, claimsOf, type AppClient } from '../../support/app-tokens.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';
import { waitForMail, type SmtpTestServer } from '../notify/smtp-test-server.ts';
import { setUpEhr, startWebhookReceiver, startWithMail, type WebhookReceiver } from './fixtures.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;
let smtp: SmtpTestServer;
let ehr: AppClient;
let receiver: WebhookReceiver;
const ids: Record<string, string> = {};
const user = (name: string) => ({ type: 'user' as const, id: ids[name]! });

async function invoke(name: string, rule = 'owner-bypass') {
  const tenant = (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!;
  const who = (await cg.runtime.storage.users.findOneBy({ id: ids[name]! }))!;
  return cg.runtime.emergency.invoke(tenant, who, { rule, reason: 'Admin unreachable, payroll must run tonight' }, { at: new Date(), amr: ['pwd'] }, user(name));
}
const approve = (who: string, id: string) => cg.runtime.breakGlassApprovals.approveUse('demo', id, { note: 'confirmed by phone' }, user(who));
const grants = async (who: string) => cg.runtime.storage.assignments.findBy({ userId: ids[who]!, origin: 'break-glass' });

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ cg, api, smtp } = await startWithMail());
  ehr = await setUpEhr(cg);
  const { accounts } = cg.runtime;
  await accounts.roles.create('demo', { key: 'practice_admin', name: 'Practice admin', permissions: ['chart:read', 'chart:edit'] }, cli);
  await accounts.roles.create('demo', { key: 'compliance', name: 'Compliance', permissions: ['caregate.access:review'] }, cli);
  await accounts.roles.create('demo', { key: 'policy_reader', name: 'Policy reader', permissions: ['caregate.policy:read'] }, cli);
  for (const [username, roles] of [['olive', ['compliance']], ['rex', ['compliance']], ['ned', []], ['oscar', []]] as const) {
    ids[username] = (await accounts.users.create('demo', { username, password: PASSWORD, email: `${username}@clinic.example` }, roles.map((role) => ({ role })), cli)).id;
  }
  expect((await api.call('PUT', '/emergency-access/settings', { body: { webhookUrl: receiver.url, webhookSecret: 'webhook-secret-for-the-tests' } })).status).toBe(200);
  const rule = await api.call('POST', '/emergency-access/rules', {
    body: { key: 'owner-bypass', role: 'practice_admin', eligibleUsers: ['olive'], minutes: 60, reviewerRole: 'compliance', approvalsRequired: 2, approvers: ['ned'] },
  });
  expect(rule.status).toBe(201);
  expect(rule.body).toMatchObject({ approvalsRequired: 2, approverUserIds: [ids.ned] });
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
  receiver?.close();
});

describe('a use that needs two approvals', () => {
  let use: { id: string };

  it('waits: nothing granted; the approvers (not the owner) are mailed and the webhook called at once', async () => {
    use = await invoke('olive');
    expect(use).toMatchObject({ status: 'pending', role: 'practice_admin', approvalsRequired: 2 });
    expect(await grants('olive')).toHaveLength(0);
    const asked = await waitForMail(smtp, 'rex@clinic.example', /Emergency access needs your approval/);
    expect(asked.text).toContain('Admin unreachable, payroll must run tonight');
    await waitForMail(smtp, 'ned@clinic.example', /Emergency access needs your approval/);
    expect(smtp.received.some((m) => m.to.includes('olive@clinic.example') && /needs your approval/.test(m.data))).toBe(false);
    expect(await receiver.ofType('break_glass.approval_requested')).toMatchObject({ id: use.id, user: 'olive', approvalsRequired: 2 });
    expect(claimsOf((await appTokens(cg, ehr, 'olive', PASSWORD)).tokens.access_token).roles ?? []).not.toContain('practice_admin');
  });

  it('refuses the owner approving her own use, though she holds the reviewer role (audited)', async () => {
    await expect(approve('olive', use.id)).rejects.toMatchObject({ code: 'self_change_refused' });
    const [event] = await cg.runtime.storage.query<{ outcome: string; details: { reason: string } }>(`SELECT outcome, details FROM audit_events WHERE action = 'break_glass.approve' AND target_id = $1`, [use.id]);
    expect(event).toMatchObject({ outcome: 'failure', details: { reason: 'self_approval' } });
  });

  it('refuses someone who is neither a named approver nor a reviewer-role holder', async () => {
    await expect(approve('oscar', use.id)).rejects.toMatchObject({ status: 403, details: { reason: 'not_approver' } });
  });

  it('does not grant on one approval, and refuses the same approver a second time', async () => {
    expect(await approve('rex', use.id)).toMatchObject({ status: 'pending', approvals: 1, approvalsRequired: 2 });
    expect(await grants('olive')).toHaveLength(0);
    await expect(approve('rex', use.id)).rejects.toMatchObject({ status: 403, details: { reason: 'same_approver' } });
    expect(await grants('olive')).toHaveLength(0);
  });

  it('grants on the second distinct approval: tokens carry the role and the break_glass claim; reviewers and the owner are told', async () => {
    const done = await approve('ned', use.id);
    expect(done).toMatchObject({ status: 'granted', role: 'practice_admin' });
    const [grant] = await grants('olive');
    expect(grant!.expiresAt!.getTime() - grant!.startsAt!.getTime()).toBe(60 * 60_000);
    const claims = claimsOf((await appTokens(cg, ehr, 'olive', PASSWORD)).tokens.access_token);
    expect(claims.roles).toContain('practice_admin');
    expect(claims.break_glass.reason).toBe('Admin unreachable, payroll must run tonight');
    await waitForMail(smtp, 'rex@clinic.example', /Emergency access used: olive took Practice admin \(practice_admin\)/);
    await waitForMail(smtp, 'olive@clinic.example', /Access request approved/);
    expect(await receiver.ofType('break_glass.used')).toMatchObject({ id: use.id });
    const [event] = await cg.runtime.storage.query<{ details: { approvedBy: string[]; severity: string } }>(`SELECT details FROM audit_events WHERE action = 'break_glass.use' AND outcome = 'success'`);
    expect(event!.details).toMatchObject({ severity: 'high', approvedBy: [ids.rex, ids.ned] });
    await expect(approve('ned', use.id)).rejects.toMatchObject({ status: 409 });
  });

  it('lists the use with who gave each approval', async () => {
    const { body } = await api.call('GET', '/emergency-access/uses');
    expect(body.find((u: { id: string }) => u.id === use.id).approvals).toEqual([
      expect.objectContaining({ approval: 1, approvedBy: 'rex' }), expect.objectContaining({ approval: 2, approvedBy: 'ned' }),
    ]);
  });
});

describe('a use an approver refuses', () => {
  it('ends it at once: nothing granted, no later approval counts, audited at high severity, the person is told; never by the person or a stranger', async () => {
    await cg.runtime.storage.query(`UPDATE assignments SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND origin = 'break-glass'`, [ids.olive]);
    const use = await invoke('olive');
    const reject = (who: string) => cg.runtime.breakGlassApprovals.rejectUse('demo', use.id, { note: 'payroll can wait until Monday' }, user(who));
    await expect(reject('olive')).rejects.toMatchObject({ code: 'self_change_refused' });
    await expect(reject('oscar')).rejects.toMatchObject({ status: 403, details: { reason: 'not_approver' } });
    expect((await cg.runtime.storage.query<{ status: string }>('SELECT status FROM access_requests WHERE id = $1', [use.id]))[0]!.status).toBe('pending');
    expect(await reject('rex')).toEqual({ id: use.id, status: 'rejected' });
    await expect(approve('ned', use.id)).rejects.toMatchObject({ status: 409 });
    expect((await grants('olive')).filter((g) => g.expiresAt! > new Date())).toHaveLength(0);
    const events = await cg.runtime.storage.query<{ outcome: string; details: { severity: string; reason?: string } }>(`SELECT outcome, details FROM audit_events WHERE action = 'break_glass.reject' AND target_id = $1 ORDER BY seq`, [use.id]);
    expect(events.map((e) => [e.outcome, e.details.reason ?? null, e.details.severity])).toEqual([['failure', 'self_approval', 'high'], ['failure', 'not_approver', 'high'], ['success', null, 'high']]);
    await waitForMail(smtp, 'olive@clinic.example', /rejected/i);
  });

  it('is refused through the API for an application whose account is no approver, changing nothing', async () => {
    const use = await invoke('olive');
    const outsider = await api.token('demo', await api.serviceClient('demo', ['policy_reader']));
    const reply = await leavesTenantUnchanged(cg, () => api.call('POST', `/emergency-access/uses/${use.id}/reject`, { token: outsider, body: {} }));
    expect(reply.status).toBe(403);
  });
});

describe('a use nobody approves', () => {
  it('lapses: audited, no longer approvable, never granted, not awaiting review', async () => {
    await cg.runtime.storage.query(`UPDATE assignments SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND origin = 'break-glass'`, [ids.olive]);
    const use = await invoke('olive');
    await cg.runtime.storage.query(`UPDATE access_requests SET pending_until = now() - interval '1 second' WHERE id = $1`, [use.id]);
    await expect(approve('rex', use.id)).rejects.toMatchObject({ status: 409 });
    expect((await cg.runtime.elevations.expirePending()).map((r) => r.id)).toEqual([use.id]);
    const [event] = await cg.runtime.storage.query<{ details: { severity: string } }>(`SELECT details FROM audit_events WHERE action = 'break_glass.expire' AND target_id = $1`, [use.id]);
    expect(event!.details.severity).toBe('high');
    await expect(approve('rex', use.id)).rejects.toMatchObject({ status: 409 });
    expect((await cg.runtime.emergency.listUses('demo', { unreviewed: true })).map((u) => u.id)).not.toContain(use.id);
    expect((await grants('olive')).filter((g) => g.expiresAt! > new Date())).toHaveLength(0);
  });
});

describe('attacker calls', () => {
  it('refuses a two-person rule from a caller without caregate.policy:edit, and changes nothing', async () => {
    const reader = await api.token('demo', await api.serviceClient('demo', ['policy_reader']));
    const reply = await leavesTenantUnchanged(cg, () => api.call('POST', '/emergency-access/rules', {
      token: reader, body: { key: 'sneaky', role: 'practice_admin', eligibleUsers: ['oscar'], reviewerRole: 'compliance', approvalsRequired: 1, approvers: ['oscar'] },
    }));
    expect(reply.status).toBe(403);
  });

  it('refuses an approval through the API from an application whose account is no approver, and changes nothing', async () => {
    const use = await invoke('olive');
    const outsider = await api.token('demo', await api.serviceClient('demo', ['policy_reader']));
    const reply = await leavesTenantUnchanged(cg, () => api.call('POST', `/emergency-access/uses/${use.id}/approve`, { token: outsider, body: {} }));
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('insufficient_permissions');
  });

  it('refuses approving a use that needed no approval', async () => {
    expect((await api.call('POST', '/emergency-access/rules', { body: { key: 'immediate', role: 'practice_admin', eligibleUsers: ['oscar'], reviewerRole: 'compliance' } })).status).toBe(201);
    const use = await invoke('oscar', 'immediate');
    expect(use).toMatchObject({ status: 'granted' });
    await expect(approve('rex', use.id)).rejects.toMatchObject({ status: 409 });
  });
});
