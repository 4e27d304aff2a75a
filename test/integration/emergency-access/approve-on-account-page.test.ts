// A break-glass rule's named approver who holds no admin permission at all (no console, no
// caregate.policy:read, no caregate.access:review) approves from their own account page: the
// approval email links there first; the page lists what waits for them (who, which role where,
// the reason, when, until when) with Approve and Deny; approving grants the use and is audited as
// theirs. Everyone else is refused by the same approval service and nothing changes: a user who is
// no approver (403), a post without the page's CSRF token (403), the person who asked (403). An
// approver whose sign-in is older than five minutes signs in again before approving, not denying.
import '../../support/raw-sql.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestCaregate } from '../../support/caregate.ts';
import type { AdminApi } from '../../support/admin-api-client.ts';
import { createAgent, formOf, signIn, type Agent, type Page } from '../../support/browser-agent.ts';
import { consoleScreenOf } from '../../support/console-routes.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';
import { waitForMail, type SmtpTestServer } from '../notify/smtp-test-server.ts';
import { startWithMail } from './fixtures.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const REASON = 'Admin unreachable, payroll must run tonight';

let cg: TestCaregate;
let api: AdminApi;
let smtp: SmtpTestServer;
const ids: Record<string, string> = {};
const agents: Record<string, Agent> = {};

/** `username` asks for emergency access under the rule "owner-bypass", as the account page would. */
async function ask(username: string) {
  const tenant = (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!;
  const who = (await cg.runtime.storage.users.findOneBy({ id: ids[username]! }))!;
  return cg.runtime.emergency.invoke(tenant, who, { rule: 'owner-bypass', reason: REASON }, { at: new Date(), amr: ['pwd'] }, { type: 'user', id: who.id });
}

/** `username`'s account page, signed in (once per person) in their own browser. */
async function accountPage(username: string): Promise<Page> {
  const account = `${cg.issuer()}/account`;
  if (!agents[username]) {
    agents[username] = createAgent();
    await signIn(agents[username], account, username, PASSWORD, account);
  }
  return agents[username].get(account);
}

/** The approval form on `page` for the use `id`, as the page gives it. */
function approvalForm(page: Page, id: string) {
  const index = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].findIndex((f) => f[2]!.includes(`value="${id}"`));
  expect(index).toBeGreaterThanOrEqual(0);
  return formOf(page, index);
}

const statusOf = async (id: string) => (await cg.runtime.storage.query<{ status: string }>('SELECT status FROM access_requests WHERE id = $1', [id]))[0]!.status;
const auditOf = (action: string, id: string) =>
  cg.runtime.storage.query<{ outcome: string; actor_id: string; details: { reason?: string } }>('SELECT outcome, actor_id, details FROM audit_events WHERE action = $1 AND target_id = $2 ORDER BY seq', [action, id]);

beforeAll(async () => {
  ({ cg, api, smtp } = await startWithMail());
  const { accounts } = cg.runtime;
  await accounts.roles.create('demo', { key: 'practice_admin', name: 'Practice admin', permissions: ['chart:read', 'chart:edit'] }, cli);
  await accounts.roles.create('demo', { key: 'compliance', name: 'Compliance', permissions: ['caregate.access:review'] }, cli);
  // olive asks and also holds the reviewer role (so only the self-approval rule stops her); ned is
  // the rule's named approver and holds nothing; oscar holds nothing and approves nothing.
  for (const [username, roles] of [['olive', ['compliance']], ['ned', []], ['oscar', []]] as const) {
    const displayName = username === 'olive' ? 'Olive Quinn' : undefined;
    ids[username] = (await accounts.users.create('demo', { username, displayName, password: PASSWORD, email: `${username}@clinic.example` }, roles.map((role) => ({ role })), cli)).id;
  }
  const rule = await api.call('POST', '/emergency-access/rules', {
    body: { key: 'owner-bypass', role: 'practice_admin', eligibleUsers: ['olive'], minutes: 60, reviewerRole: 'compliance', approvalsRequired: 1, approvers: ['ned'] },
  });
  expect(rule.status).toBe(201);
});

afterAll(async () => {
  await cg?.close();
  await smtp?.close();
});

describe('a named approver without any admin permission', () => {
  let use: { id: string };

  beforeAll(async () => {
    use = await ask('olive');
    expect(use).toMatchObject({ status: 'pending' });
  });

  it('holds no role at all, and is mailed a link to their account page as the first way to approve', async () => {
    expect(await cg.runtime.storage.assignments.countBy({ userId: ids.ned! })).toBe(0);
    const mail = await waitForMail(smtp, 'ned@clinic.example', /Emergency access needs your approval: olive asks for Practice admin/);
    const ways = mail.text.split('\n').map((line) => line.trim()).filter((line) => /https?:\/\/|POST \//.test(line));
    expect(ways[0]).toBe(`Approve or deny it on your account page: ${cg.issuer()}/account#approvals`);
    // Reviewers of emergency access, who may use the console, are shown its emergency access screen.
    const consoleLink = /(http\S+\/t\/demo\/admin\S*)/.exec(mail.text)?.[1];
    expect(consoleScreenOf(consoleLink!, 'demo')).toBe('EmergencyAccess');
  });

  it('sees the request on their account page: who, which role where, the reason, when and until when', async () => {
    const page = await accountPage('ned');
    expect(page.status).toBe(200);
    const section = /<section id="approvals"[\s\S]*?<\/section>/.exec(page.html)?.[0] ?? '';
    expect(section).toContain('Emergency access waiting for your approval');
    // By name, with the username an administrator searches by.
    expect(section).toContain('Olive Quinn (olive) asks for Practice admin (tenant-wide), for 60 minutes');
    expect(section).toContain(REASON);
    const pending = (await cg.runtime.storage.query<{ created_at: Date; pending_until: Date }>('SELECT created_at, pending_until FROM access_requests WHERE id = $1', [use.id]))[0]!;
    // On the organisation's clock (UTC here: the policy names no other zone), as the console shows times.
    const minute = (d: Date) => `${new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', dateStyle: 'medium', timeStyle: 'short' }).format(new Date(d))} (UTC)`;
    expect(section).toContain(`Asked ${minute(pending.created_at)}`);
    expect(section).toContain(`lapses ${minute(pending.pending_until)}`);
    expect(section).toMatch(/<button type="submit" name="decision" value="approve">Approve<\/button>/);
    expect(section).toMatch(/<button type="submit" name="decision" value="deny"[^>]*>Deny<\/button>/);
  });

  it("shows its times, and the sign-in's, on the organisation's clock when the policy names one", async () => {
    expect((await api.call('PATCH', '/policy', { body: { timeZone: 'America/Chicago' } })).status).toBe(200);
    try {
      const page = await accountPage('ned');
      const pending = (await cg.runtime.storage.query<{ created_at: Date }>('SELECT created_at FROM access_requests WHERE id = $1', [use.id]))[0]!;
      const chicago = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/Chicago', dateStyle: 'medium', timeStyle: 'short' }).format(new Date(pending.created_at));
      expect(page.html).toContain(`Asked ${chicago} (America/Chicago)`);
      expect(page.html).toMatch(/signed in [^<]+ \(America\/Chicago\) · last seen [^<]+ \(America\/Chicago\)/);
      expect(page.html).not.toContain('(UTC)');
    } finally {
      expect((await api.call('PATCH', '/policy', { body: { timeZone: 'UTC' } })).status).toBe(200);
    }
  });

  it('is not shown to someone who approves nothing, nor the request to the person who asked', async () => {
    expect((await accountPage('oscar')).html).not.toContain('id="approvals"');
    const own = await accountPage('olive');
    expect(own.html).toContain('Nothing is waiting for you.');
    expect(own.html).not.toContain(use.id);
  });

  it('refuses the same form from someone who is no approver (403, audited), changing nothing', async () => {
    const { action, fields } = approvalForm(await accountPage('ned'), use.id);
    const oscarsToken = formOf(await accountPage('oscar')).fields.csrf!;
    const reply = await leavesTenantUnchanged(cg, () => agents.oscar!.postForm(action, { ...fields, csrf: oscarsToken, decision: 'approve' }));
    expect(reply.status).toBe(403);
    expect(reply.html).toContain('Only the rule');
    expect(await statusOf(use.id)).toBe('pending');
    expect((await auditOf('break_glass.approve', use.id)).map((e) => [e.outcome, e.actor_id, e.details.reason])).toEqual([['failure', ids.oscar, 'not_approver']]);
  });

  it('refuses a post without the page\'s CSRF token (403), changing nothing', async () => {
    const { action, fields } = approvalForm(await accountPage('ned'), use.id);
    const { csrf: _dropped, ...withoutToken } = fields;
    const reply = await leavesTenantUnchanged(cg, () => agents.ned!.postForm(action, { ...withoutToken, decision: 'approve' }));
    expect(reply.status).toBe(403);
    const forged = await leavesTenantUnchanged(cg, () => agents.ned!.postForm(action, { ...fields, csrf: 'forged', decision: 'approve' }));
    expect(forged.status).toBe(403);
    expect(await statusOf(use.id)).toBe('pending');
  });

  it('refuses the person who asked approving her own request (403), though she holds the reviewer role', async () => {
    const { action, fields } = approvalForm(await accountPage('ned'), use.id);
    const olivesToken = formOf(await accountPage('olive')).fields.csrf!;
    const reply = await leavesTenantUnchanged(cg, () => agents.olive!.postForm(action, { ...fields, csrf: olivesToken, decision: 'approve' }));
    expect(reply.status).toBe(403);
    expect(reply.html).toContain('You cannot approve your own emergency access');
    expect(await statusOf(use.id)).toBe('pending');
    expect((await auditOf('break_glass.approve', use.id)).at(-1)).toMatchObject({ outcome: 'failure', actor_id: ids.olive, details: { reason: 'self_approval' } });
  });

  it('approves it: the use is granted, the approval audited as theirs, and the list no longer shows it', async () => {
    const page = await accountPage('ned');
    const { action, fields } = approvalForm(page, use.id);
    const reply = await agents.ned!.postForm(action, { ...fields, note: 'confirmed by phone', decision: 'approve' });
    expect([reply.status, reply.location]).toEqual([303, `${cg.issuer()}/account?done=use-granted#approvals`]);
    expect(await statusOf(use.id)).toBe('granted');
    expect(await cg.runtime.storage.assignments.countBy({ userId: ids.olive!, origin: 'break-glass' })).toBe(1);
    const approved = (await auditOf('break_glass.approve', use.id)).filter((e) => e.outcome === 'success');
    expect(approved).toEqual([expect.objectContaining({ actor_id: ids.ned })]);
    const after = await agents.ned!.follow(reply);
    expect(after.html).toContain('You approved the emergency access. It has started');
    expect(after.html).toContain('Nothing is waiting for you.');
    await waitForMail(smtp, 'olive@clinic.example', /Access request approved/);
  });

  it('answers a second decision on a use already decided with why (409), changing nothing', async () => {
    const { fields } = formOf(await accountPage('ned'));
    const reply = await leavesTenantUnchanged(cg, () => agents.ned!.postForm(`${cg.issuer()}/account/approvals`, { csrf: fields.csrf!, use: use.id, decision: 'deny' }));
    expect(reply.status).toBe(409);
    expect(reply.html).toContain('This use is already granted.');
  });
});

describe('a named approver who denies', () => {
  it('ends the request: nothing granted, audited as theirs, the person told', async () => {
    await cg.runtime.storage.query(`UPDATE assignments SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND origin = 'break-glass'`, [ids.olive]);
    const use = await ask('olive');
    const { action, fields } = approvalForm(await accountPage('ned'), use.id);
    const reply = await agents.ned!.postForm(action, { ...fields, note: 'payroll can wait until Monday', decision: 'deny' });
    expect([reply.status, reply.location]).toEqual([303, `${cg.issuer()}/account?done=use-rejected#approvals`]);
    expect(await statusOf(use.id)).toBe('rejected');
    expect(await auditOf('break_glass.reject', use.id)).toEqual([expect.objectContaining({ outcome: 'success', actor_id: ids.ned })]);
    expect((await cg.runtime.storage.assignments.findBy({ userId: ids.olive!, origin: 'break-glass' })).filter((g) => g.expiresAt! > new Date())).toHaveLength(0);
    await waitForMail(smtp, 'olive@clinic.example', /Access request rejected/);
  });
});

describe('an approver whose sign-in is older than five minutes', () => {
  /** Moves `username`'s sign-in in this browser `seconds` into the past, as time would. */
  async function ageSignIn(username: string, seconds: number) {
    const tenant = (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!;
    const sessionId = agents[username]!.jar.get(`_session.${tenant.slug}`)!;
    const key = `oidc:${tenant.id}:Session:${sessionId}`;
    const session = JSON.parse((await cg.runtime.ephemeral.get(key))!) as { loginTs: number };
    await cg.runtime.ephemeral.set(key, JSON.stringify({ ...session, loginTs: session.loginTs - seconds }), 3600);
  }

  it('is sent to sign in again (password asked, not skipped) before approving, back to the list, and nothing is decided until then', async () => {
    await cg.runtime.storage.query(`UPDATE assignments SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND origin = 'break-glass'`, [ids.olive]);
    const use = await ask('olive');
    const { action, fields } = approvalForm(await accountPage('ned'), use.id);
    await ageSignIn('ned', 6 * 60);
    const reply = await leavesTenantUnchanged(cg, () => agents.ned!.postForm(action, { ...fields, decision: 'approve' }));
    expect(reply.status).toBe(303);
    const to = new URL(reply.location!);
    expect(`${to.origin}${to.pathname}`).toBe(`${cg.issuer()}/auth`);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({ prompt: 'login', state: 'approvals', redirect_uri: `${cg.issuer()}/account/callback` });
    expect(await statusOf(use.id)).toBe('pending');
    expect(await auditOf('break_glass.approve', use.id)).toEqual([]);

    // The password is asked again although the browser is signed in; then the list is where they left it.
    const login = await agents.ned!.follow(await agents.ned!.get(reply.location!), `${cg.issuer()}/account`);
    expect(login.html).toMatch(/name="password"/);
    const back = await signIn(agents.ned!, reply.location!, 'ned', PASSWORD, `${cg.issuer()}/account`);
    const landed = await agents.ned!.follow(back);
    expect(landed.url).toBe(`${cg.issuer()}/account#approvals`);
    expect(landed.html).toContain(use.id);
    const again = approvalForm(landed, use.id);
    const approved = await agents.ned!.postForm(again.action, { ...again.fields, decision: 'approve' });
    expect([approved.status, approved.location]).toEqual([303, `${cg.issuer()}/account?done=use-granted#approvals`]);
    expect(await statusOf(use.id)).toBe('granted');
  });

  it('may still deny: denying gives nothing away', async () => {
    await cg.runtime.storage.query(`UPDATE assignments SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND origin = 'break-glass'`, [ids.olive]);
    const use = await ask('olive');
    const { action, fields } = approvalForm(await accountPage('ned'), use.id);
    await ageSignIn('ned', 6 * 60);
    const reply = await agents.ned!.postForm(action, { ...fields, decision: 'deny' });
    expect([reply.status, reply.location]).toEqual([303, `${cg.issuer()}/account?done=use-rejected#approvals`]);
    expect(await statusOf(use.id)).toBe('rejected');
  });
});
