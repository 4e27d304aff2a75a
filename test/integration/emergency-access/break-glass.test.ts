// Emergency access (break-glass), end to end against real stores, a real SMTP server and a local
// webhook receiver: a tenant's rule lets on-call staff take the ER physician role; a nurse invokes
// it from the account page with a reason, having just signed in; her tokens carry the role and the
// break_glass claim until its end; the reviewers are mailed at once and the webhook is signed; a
// reviewer other than her records the verdict. Every guard is tried as an attacker would.
import '../../support/raw-sql.ts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signEmergencyWebhook, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../../../src/accounts/index.ts';
import type { TestCaregate } from '../../support/caregate.ts';
import type { AdminApi } from '../../support/admin-api-client.ts';
import { appTokens, claimsOf, type AppClient } from '../../support/app-tokens.ts';
import { createAgent, formOf, signIn } from '../../support/browser-agent.ts';
import { consoleScreenOf } from '../../support/console-routes.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';
import { waitForMail, type SmtpTestServer } from '../notify/smtp-test-server.ts';
import { setUpEhr, startWebhookReceiver, startWithMail, type WebhookReceiver } from './fixtures.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const SECRET = 'webhook-secret-for-the-tests';

let cg: TestCaregate;
let api: AdminApi;
let smtp: SmtpTestServer;
let ehr: AppClient;
let receiver: WebhookReceiver;
const ids: Record<string, string> = {};
const user = (name: string) => ({ type: 'user' as const, id: ids[name]! });

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ cg, api, smtp } = await startWithMail());
  ehr = await setUpEhr(cg);
  const { accounts } = cg.runtime;
  await accounts.roles.create('demo', { key: 'er_physician', name: 'ER physician', permissions: ['chart:read', 'chart:edit'] }, cli);
  await accounts.roles.create('demo', { key: 'on_call', name: 'On call', permissions: ['chart:read'] }, cli);
  await accounts.roles.create('demo', { key: 'compliance', name: 'Compliance', permissions: ['caregate.access:review'] }, cli);
  await accounts.roles.create('demo', { key: 'policy_clerk', name: 'Policy clerk', permissions: ['caregate.policy:read', 'caregate.policy:edit'] }, cli);
  for (const [username, roles] of [['nina', ['on_call', 'compliance']], ['rex', ['compliance']], ['oscar', []]] as const) {
    ids[username] = (await accounts.users.create('demo', { username, password: PASSWORD, email: `${username}@clinic.example` }, roles.map((role) => ({ role })), cli)).id;
  }
  expect((await api.call('PUT', '/emergency-access/settings', { body: { maxMinutes: 120, webhookUrl: receiver.url, webhookSecret: SECRET } })).status).toBe(200);
  const rule = await api.call('POST', '/emergency-access/rules', { body: { key: 'er', role: 'er_physician', eligibleRoles: ['on_call'], minutes: 60, reviewerRole: 'compliance' } });
  expect(rule.status).toBe(201);
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
  receiver?.close();
});

describe('break-glass rules', () => {
  it('refuses a rule from someone who may edit the policy but could not grant the role themselves, and changes nothing', async () => {
    const clerk = await api.token('demo', await api.serviceClient('demo', ['policy_clerk']));
    const reply = await leavesTenantUnchanged(cg, () => api.call('POST', '/emergency-access/rules', { token: clerk, body: { key: 'sneaky', role: 'er_physician', eligibleRoles: ['on_call'], reviewerRole: 'compliance' } }));
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('escalation_refused');
  });

  it('refuses a rule longer than the tenant maximum', async () => {
    const reply = await api.call('POST', '/emergency-access/rules', { body: { key: 'long', role: 'er_physician', eligibleRoles: ['on_call'], minutes: 121, reviewerRole: 'compliance' } });
    expect(reply.status).toBe(409);
  });
});

describe('invoking break-glass', () => {
  async function call(name: string, input: { rule: string; reason: string }, reauth = { at: new Date(), amr: ['pwd'] as string[] }) {
    const tenant = (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!;
    const who = (await cg.runtime.storage.users.findOneBy({ id: ids[name]! }))!;
    return cg.runtime.emergency.invoke(tenant, who, input, reauth, user(name));
  }
  const temporaryGrants = async (name: string) => (await cg.runtime.storage.assignments.findBy({ userId: ids[name]!, origin: 'break-glass' })).length;

  it('refuses a user the rule does not name (audited, nothing granted)', async () => {
    await expect(call('oscar', { rule: 'er', reason: 'curious' })).rejects.toMatchObject({ status: 403 });
    expect(await temporaryGrants('oscar')).toBe(0);
    const [event] = await cg.runtime.storage.query<{ outcome: string; details: { reason: string; severity: string } }>(`SELECT outcome, details FROM audit_events WHERE action = 'break_glass.use' AND actor_id = $1`, [ids.oscar]);
    expect(event).toMatchObject({ outcome: 'failure', details: { reason: 'not_eligible', severity: 'high' } });
  });

  it('refuses without a reason', async () => {
    await expect(call('nina', { rule: 'er', reason: '   ' })).rejects.toMatchObject({ status: 400 });
    expect(await temporaryGrants('nina')).toBe(0);
  });

  it('refuses a sign-in older than five minutes, and a password-only sign-in when the user has a second factor', async () => {
    await expect(call('nina', { rule: 'er', reason: 'patient crashing' }, { at: new Date(Date.now() - 6 * 60_000), amr: ['pwd', 'otp', 'mfa'] })).rejects.toMatchObject({ status: 401 });
    await cg.runtime.storage.mfaFactors.insert({
      id: randomUUID(), tenantId: (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!.id, userId: ids.rex!, type: 'totp', name: 'phone', secretSealed: 'x', credentialId: null, data: {}, confirmedAt: new Date(), lastUsedAt: null, createdAt: new Date(),
    });
    await cg.runtime.storage.query(`INSERT INTO assignments (id, tenant_id, user_id, role_id, scope_type, origin, created_at)
      SELECT gen_random_uuid(), tenant_id, $1, (SELECT id FROM roles WHERE key = 'on_call' AND tenant_id = u.tenant_id), 'tenant', 'manual', now() FROM users u WHERE id = $1`, [ids.rex]);
    await expect(call('rex', { rule: 'er', reason: 'patient crashing' }, { at: new Date(), amr: ['pwd'] })).rejects.toMatchObject({ status: 401 });
    expect(await temporaryGrants('nina')).toBe(0);
    expect(await temporaryGrants('rex')).toBe(0);
  });
});

describe('break-glass from the account page', () => {
  let tokens: Awaited<ReturnType<typeof appTokens>>;

  it('grants the role with a reason; tokens carry it and the break_glass claim; reviewers are mailed; the webhook is signed', async () => {
    const agent = createAgent();
    const account = `${cg.issuer()}/account/emergency`;
    const page = await signIn(agent, account, 'nina', PASSWORD, account);
    const form = await agent.get(page.location ?? account);
    expect(form.html).toContain('Use emergency access');
    const { action, fields } = formOf(form);

    // No reason: the page says so, nothing granted.
    const empty = await agent.postForm(action, { ...fields, rule: 'er', reason: '' });
    expect(empty.status).toBe(400);
    expect(empty.html).toContain('reason is required');

    const done = await agent.postForm(action, { ...fields, rule: 'er', reason: 'Patient in ER, on-call physician unreachable' });
    expect(done.status).toBe(201);
    expect(done.html).toContain('You now hold');

    tokens = await appTokens(cg, ehr, 'nina', PASSWORD);
    const claims = claimsOf(tokens.tokens.access_token);
    expect(claims.roles).toContain('er_physician');
    expect(claims.permissions).toEqual(expect.arrayContaining(['chart:edit']));
    expect(claims.break_glass.reason).toBe('Patient in ER, on-call physician unreachable');
    expect(claims.break_glass.exp).toBeGreaterThan(Date.now() / 1000 + 50 * 60);
    expect(claims.exp).toBeLessThanOrEqual(claims.break_glass.exp);

    const alert = await waitForMail(smtp, 'rex@clinic.example', /Emergency access used: nina took ER physician \(er_physician\)/);
    expect(alert.data).toContain('Patient in ER');
    // The link opens the console's emergency access screen: the console's route table says so, as
    // every path below /admin answers 200 with the console's page.
    const link = /^(http\S+\/t\/demo\/admin\S*)$/m.exec(alert.text)?.[1];
    expect(link?.startsWith(`${cg.baseUrl}/`)).toBe(true);
    expect(consoleScreenOf(link!, 'demo')).toBe('EmergencyAccess');
    expect((await fetch(link!)).status).toBe(200);
    expect(smtp.received.some((m) => m.to.includes('nina@clinic.example') && /Emergency access used/.test(m.data))).toBe(false);

    const hook = await receiver.rawOfType('break_glass.used');
    const timestamp = String(hook.headers[WEBHOOK_TIMESTAMP_HEADER.toLowerCase()]);
    expect(hook.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()]).toBe(signEmergencyWebhook(SECRET, timestamp, hook.body));
    expect(signEmergencyWebhook('another-secret-of-16+', timestamp, hook.body)).not.toBe(hook.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()]);
    expect(JSON.parse(hook.body)).toMatchObject({ type: 'break_glass.used', user: 'nina', role: 'er_physician' });
  });

  it('ends by itself: once its end has passed, a refresh no longer carries the role or the claim', async () => {
    // The end moved to the past stands for an hour gone by; the claims cache, which kept the old
    // end, is emptied as it would be by then (its entries live minutes, not an hour).
    const [grant] = await cg.runtime.storage.query<{ tenant_id: string }>(`UPDATE assignments SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND origin = 'break-glass' RETURNING tenant_id`, [ids.nina]);
    await cg.runtime.claimsCache.invalidate(grant!.tenant_id);
    const refreshed = claimsOf((await tokens.refresh()).access_token);
    expect(refreshed.roles).not.toContain('er_physician');
    expect(refreshed.break_glass).toBeUndefined();
  });
});

describe('reviewing a use', () => {
  const review = (who: string, id: string, outcome = 'justified') => cg.runtime.emergency.review('demo', id, { outcome: outcome as 'justified', note: 'checked the chart' }, user(who));

  it('lists the use as unreviewed, and re-alerts the reviewers when the daily reminder runs', async () => {
    const { body } = await api.call('GET', '/emergency-access/uses?unreviewed=true');
    expect(body).toHaveLength(1);
        expect(await cg.runtime.emergency.remindUnreviewed(new Date())).toEqual([body[0].id]);
    await waitForMail(smtp, 'rex@clinic.example', /Reminder: unreviewed/);
  });

  it('refuses a review by the user who broke the glass, even holding the reviewer role', async () => {
    const [use] = await cg.runtime.emergency.listUses('demo', { unreviewed: true });
    await expect(review('nina', use!.id)).rejects.toMatchObject({ code: 'self_change_refused' });
    expect((await cg.runtime.emergency.listUses('demo', { unreviewed: true }))).toHaveLength(1);
  });

  it('refuses a review by someone without the reviewer role', async () => {
    const [use] = await cg.runtime.emergency.listUses('demo', { unreviewed: true });
    await expect(review('oscar', use!.id)).rejects.toMatchObject({ status: 403 });
  });

  it('records another reviewer\'s verdict, which takes the use off the unreviewed list', async () => {
    const [use] = await cg.runtime.emergency.listUses('demo', { unreviewed: true });
    expect(await review('rex', use!.id, 'not_justified')).toMatchObject({ outcome: 'not_justified', reviewedBy: 'rex' });
    expect(await cg.runtime.emergency.listUses('demo', { unreviewed: true })).toHaveLength(0);
    await expect(review('rex', use!.id)).rejects.toMatchObject({ status: 409 });
  });
});
