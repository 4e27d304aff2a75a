// `caregate access-review …`, `emergency …` and `access-request …` as an operator runs them: real
// child processes (`node bin/caregate.js --json …`) on a fresh store beside a running server (the
// commands go through it in embedded mode; an elevation request is asked for through its admin
// API, since asking is a person's or an integration's own act). What the features do is covered
// through the services (test/integration/access-review/, emergency-access/); here, that the
// command line reaches them, prints one JSON document (the report as CSV), fails with the documented
// exit code, and refuses a user acting with --as what they may not do, with nothing changed.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';
import { cliRunner, serveForCli, type CliRunner } from '../../support/cli-runner.ts';
import { spawnCaregate, type CaregateProcess } from '../../support/caregate-process.ts';
import { freePort } from '../../support/caregate.ts';

const PASSWORD = 'first-long-password-of-tests';
const WEBHOOK_SECRET = 'a-webhook-signing-secret-of-tests';
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
jest.setTimeout(300_000);

let db: FreshDatabase | undefined;
let dir: TempDataDir;
let operator: CliRunner;
let server: CaregateProcess;

/** The running server (on PostgreSQL, one beside the commands, which open the store themselves). */
async function startServer(): Promise<CaregateProcess> {
  const embedded = await serveForCli(operator);
  if (embedded) return embedded;
  const port = await freePort();
  return spawnCaregate(port, { ...operator.env, CAREGATE_BASE_URL: `http://127.0.0.1:${port}`, CAREGATE_BOOTSTRAP_PASSWORD: 'bootstrap-password-of-a-cli-suite' }, 180_000);
}

/** An integration's service account asks for a role for a while, through the admin API with a client credentials token. */
async function askForElevation(client: { client_id: string; client_secret: string }, role: string): Promise<{ id: string }> {
  const resource = `${server.url}/admin/api`;
  const tokenResponse = await fetch(`${server.url}/t/acme/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const res = await fetch(`${resource}/v1/t/acme/access-requests`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ role, minutes: 30, reason: 'month-end export' }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

beforeAll(async () => {
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  operator = cliRunner({ dataDir: dir.path, db, user: 'cli-review-operator' });
  server = await startServer();
  await operator.ok(['tenant', 'create', 'acme', '--name', 'Acme Health']);
  await operator.ok(['location', 'create', '--tenant', 'acme', '--key', 'north']);
  await operator.ok(['role', 'create', '--tenant', 'acme', '--key', 'reviewer', '--permission', 'caregate.reviews:decide', '--permission', 'caregate.users:read', '--permission', 'reports:read']);
  // May edit policy, but may not grant provider: a break-glass rule for it is more than she holds.
  await operator.ok(['role', 'create', '--tenant', 'acme', '--key', 'policy_admin', '--permission', 'caregate.policy:read', '--permission', 'caregate.policy:edit']);
  await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'ann', '--password', PASSWORD, '--role', 'report_viewer']);
  await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'rita', '--password', PASSWORD, '--role', 'reviewer']);
  await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'pat', '--password', PASSWORD, '--role', 'policy_admin']);
  await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'nora', '--password', PASSWORD]);
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await dir?.cleanup();
});

describe(`caregate access-review (${testMode()} store)`, () => {
  let campaign: { id: string };
  let items: Array<{ id: string; username: string; role: string }>;

  it('access-review start snapshots who holds what; bad input exits 2, an unknown location 4', async () => {
    campaign = await operator.ok(['access-review', 'start', '--tenant', 'acme', '--name', 'Q3 review', '--deadline', inDays(30), '--unused-days', '30']);
    expect(campaign).toEqual(expect.objectContaining({ id: expect.any(String), name: 'Q3 review', status: 'open', scope: { type: 'tenant' }, onDeadline: 'flag', unusedDays: 30 }));
    expect(campaign).toEqual(expect.objectContaining({ items: 3, undecided: 3 }));
    expect((await operator.refused(['access-review', 'start', '--tenant', 'acme', '--name', 'x', '--deadline', inDays(3), '--scope', 'region:west'])).code).toBe(2);
    expect((await operator.refused(['access-review', 'start', '--tenant', 'acme', '--name', 'x', '--deadline', inDays(-1)])).error.error_description).toMatch(/^deadline: must be in the future/);
    expect((await operator.refused(['access-review', 'start', '--tenant', 'acme', '--name', 'x', '--deadline', inDays(3), '--scope', 'location:nowhere'])).code).toBe(4);
    const usage = await operator.refused(['access-review', 'start', '--tenant', 'acme', '--name', 'x']);
    expect([usage.code, usage.error.error]).toEqual([2, 'invalid_usage']);
  });

  it('access-review list and items show the campaign and what is to decide', async () => {
    expect((await operator.ok(['access-review', 'list', '--tenant', 'acme'])).map((c: any) => c.id)).toEqual([campaign.id]);
    const mine = await operator.ok(['access-review', 'items', campaign.id, '--tenant', 'acme']);
    expect(mine.campaign).toEqual(expect.objectContaining({ id: campaign.id }));
    items = mine.items;
    expect(items.map((i) => `${i.username}:${i.role}`).sort()).toEqual(['ann:report_viewer', 'pat:policy_admin', 'rita:reviewer']);
    const human = await operator.run(['access-review', 'items', campaign.id, '--tenant', 'acme'], { json: false });
    expect(human.stdout).toContain(`${items.find((i) => i.username === 'ann')!.id}\tann\treport_viewer\ttenant`);
    expect((await operator.refused(['access-review', 'items', 'nope', '--tenant', 'acme'])).code).toBe(2);
    expect((await operator.refused(['access-review', 'items', NO_SUCH_ID, '--tenant', 'acme'])).code).toBe(4);
  });

  it('a reviewer with --as decides the items of users she may manage, never her own (exit 6, the item stays undecided)', async () => {
    const item = (username: string) => items.find((i) => i.username === username)!.id;
    // Not pat's: he holds admin permissions she lacks.
    expect((await operator.ok(['access-review', 'items', campaign.id, '--tenant', 'acme', '--as', 'rita'])).items.map((i: any) => i.username)).toEqual(['ann']);
    expect((await operator.refused(['access-review', 'decide', campaign.id, item('pat'), '--tenant', 'acme', '--decision', 'revoke', '--as', 'rita'])).code).toBe(6);
    const own = await operator.refused(['access-review', 'decide', campaign.id, item('rita'), '--tenant', 'acme', '--decision', 'certify', '--as', 'rita']);
    expect([own.code, own.error.error]).toEqual([6, 'self_review_refused']);
    expect(await operator.ok(['access-review', 'decide', campaign.id, item('ann'), '--tenant', 'acme', '--decision', 'certify', '--note', 'still needs reports', '--as', 'rita']))
      .toEqual(expect.objectContaining({ id: item('ann'), decision: 'certified', note: 'still needs reports' }));
    expect((await operator.refused(['access-review', 'decide', campaign.id, item('ann'), '--tenant', 'acme', '--decision', 'revoke'])).code).toBe(5);
    expect((await operator.refused(['access-review', 'decide', campaign.id, item('pat'), '--tenant', 'acme', '--decision', 'maybe'])).code).toBe(2);
  });

  it('with --as, a user without the review permissions is refused every command (exit 6)', async () => {
    const item = items.find((i) => i.username === 'pat')!.id;
    for (const command of [
      ['start', '--name', 'mine', '--deadline', inDays(3)], ['list'], ['items', campaign.id], ['decide', campaign.id, item, '--decision', 'revoke'], ['close', campaign.id], ['report', campaign.id, '--output', join(dir.path, 'x.csv')],
    ]) {
      expect([command[0], (await operator.refused(['access-review', ...command, '--tenant', 'acme', '--as', 'nora'])).error.error]).toEqual([command[0], 'insufficient_permissions']);
    }
    expect((await operator.refused(['access-review', 'close', campaign.id, '--tenant', 'acme', '--as', 'rita'])).code).toBe(6);
    expect((await operator.ok(['access-review', 'list', '--tenant', 'acme']))[0]).toEqual(expect.objectContaining({ status: 'open', undecided: 2 }));
  });

  it('access-review report prints the CSV, or writes it to --output (needed with --json), readable by the operator alone', async () => {
    const printed = await operator.run(['access-review', 'report', campaign.id, '--tenant', 'acme'], { json: false });
    expect(printed.code).toBe(0);
    const lines = printed.stdout.split('\n');
    expect(lines[0]).toBe('item,user,kind,role,scope,origin,last_sign_in,last_used,uses_30_days,unused,decision,reviewer,decided_at,note');
    expect(lines).toHaveLength(5); // the header, three items, and the final newline
    expect(printed.stdout).toMatch(/,ann,assignment,report_viewer,.*,certified,rita,.*,still needs reports\n/);

    expect((await operator.refused(['access-review', 'report', campaign.id, '--tenant', 'acme'])).error.error_description).toContain('--output is required with --json');
    const file = join(dir.path, 'q3-review.csv');
    expect(await operator.ok(['access-review', 'report', campaign.id, '--tenant', 'acme', '--output', file])).toEqual({ file, campaign: campaign.id });
    expect(readFileSync(file, 'utf8')).toBe(printed.stdout);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('access-review close flags what is undecided; closing again exits 5', async () => {
    expect(await operator.ok(['access-review', 'close', campaign.id, '--tenant', 'acme'])).toEqual({ id: campaign.id, status: 'closed', revoked: 0, flagged: 2, nextCampaignId: null });
    expect((await operator.refused(['access-review', 'close', campaign.id, '--tenant', 'acme'])).code).toBe(5);
  });
});

describe(`caregate emergency (${testMode()} store)`, () => {
  it('emergency settings shows them, and changes only what is named (the webhook secret from standard input, never printed)', async () => {
    expect(await operator.ok(['emergency', 'settings', '--tenant', 'acme'])).toEqual(expect.objectContaining({ maxMinutes: 240, webhookUrl: null, webhookSecretSet: false }));
    expect(await operator.ok(['emergency', 'settings', '--tenant', 'acme', '--max-minutes', '120'])).toEqual(expect.objectContaining({ maxMinutes: 120, webhookUrl: null }));
    const noSecret = await operator.refused(['emergency', 'settings', '--tenant', 'acme', '--webhook-url', 'https://hooks.example/cg']);
    expect([noSecret.code, noSecret.error.error_description]).toEqual([5, expect.stringContaining('webhookSecret')]);
    expect(await operator.ok(['emergency', 'settings', '--tenant', 'acme', '--webhook-url', 'https://hooks.example/cg', '--webhook-secret-stdin'], { input: `${WEBHOOK_SECRET}\n` }))
      .toEqual(expect.objectContaining({ maxMinutes: 120, webhookUrl: 'https://hooks.example/cg', webhookSecretSet: true }));
    expect(await operator.ok(['emergency', 'settings', '--tenant', 'acme', '--max-minutes', '90'])).toEqual(expect.objectContaining({ maxMinutes: 90, webhookUrl: 'https://hooks.example/cg', webhookSecretSet: true }));
    const human = await operator.run(['emergency', 'settings', '--tenant', 'acme'], { json: false });
    expect(human.stdout).toMatch(/^Longest emergency or elevation grant: 90 minutes\nWebhook: https:\/\/hooks\.example\/cg\n/);
    expect(await operator.ok(['emergency', 'settings', '--tenant', 'acme', '--no-webhook'])).toEqual(expect.objectContaining({ maxMinutes: 90, webhookUrl: null }));
    expect(operator.printed.join('')).not.toContain(WEBHOOK_SECRET);
    expect((await operator.refused(['emergency', 'settings', '--tenant', 'acme', '--max-minutes', 'long'])).code).toBe(2);
    expect((await operator.refused(['emergency', 'settings', '--tenant', 'acme', '--webhook-url', 'https://hooks.example/cg', '--no-webhook'])).code).toBe(2);
  });

  it('emergency rule add, list and remove manage break-glass rules', async () => {
    const rule = await operator.ok(['emergency', 'rule', 'add', '--tenant', 'acme', '--key', 'er-provider', '--role', 'provider@location:north', '--eligible-role', 'report_viewer', '--eligible-user', 'rita',
      '--reviewer-role', 'reviewer', '--minutes', '30']);
    expect(rule).toEqual(expect.objectContaining({ key: 'er-provider', role: 'provider', reviewerRole: 'reviewer', scopeType: 'location', minutes: 30 }));
    const twoPerson = await operator.ok(['emergency', 'rule', 'add', '--tenant', 'acme', '--key', 'er-two', '--role', 'report_viewer', '--eligible-user', 'ann', '--reviewer-role', 'reviewer', '--approvals-required', '1', '--approver', 'rita']);
    expect(twoPerson).toEqual(expect.objectContaining({ key: 'er-two', approvalsRequired: 1, approverUserIds: [expect.any(String)] }));
    expect(await operator.ok(['emergency', 'rule', 'remove', 'er-two', '--tenant', 'acme'])).toEqual({ removed: 'er-two' });
    expect((await operator.refused(['emergency', 'rule', 'add', '--tenant', 'acme', '--key', 'er-provider', '--role', 'provider', '--eligible-role', 'report_viewer', '--reviewer-role', 'reviewer'])).code).toBe(5);
    expect((await operator.refused(['emergency', 'rule', 'add', '--tenant', 'acme', '--key', 'too-long', '--role', 'provider', '--eligible-role', 'report_viewer', '--reviewer-role', 'reviewer', '--minutes', '500'])).code).toBe(5);
    expect((await operator.refused(['emergency', 'rule', 'add', '--tenant', 'acme', '--key', 'nobody', '--role', 'provider', '--reviewer-role', 'reviewer'])).error.error_description).toMatch(/eligibleRoles: name eligibleRoles or eligibleUsers/);
    const usage = await operator.refused(['emergency', 'rule', 'add', '--tenant', 'acme', '--key', 'x', '--role', 'provider', '--eligible-role', 'report_viewer']);
    expect([usage.code, usage.error.error, usage.error.error_description]).toEqual([2, 'invalid_usage', expect.stringContaining('--reviewer-role')]);

    expect(await operator.ok(['emergency', 'rule', 'list', '--tenant', 'acme'])).toEqual([expect.objectContaining({ key: 'er-provider', role: 'provider', eligibleRoles: ['report_viewer'] })]);
    const human = await operator.run(['emergency', 'rule', 'list', '--tenant', 'acme'], { json: false });
    expect(human.stdout).toBe('er-provider\tprovider@location\t30 min\treviewed by reviewer\teligible: role report_viewer, 1 named user(s)\n');
  });

  it('with --as, a user without the permission, or who could not grant the rule\'s role, is refused (exit 6) and nothing changes', async () => {
    for (const command of [['settings'], ['settings', '--max-minutes', '5'], ['rule', 'list'], ['rule', 'remove', 'er-provider'], ['uses'], ['review', NO_SUCH_ID, '--outcome', 'justified', '--note', 'fine']]) {
      expect([command.join(' '), (await operator.refused(['emergency', ...command, '--tenant', 'acme', '--as', 'nora'])).error.error]).toEqual([command.join(' '), 'insufficient_permissions']);
    }
    // Holding caregate.policy:edit is not enough: the rule lets others take a role she may not grant.
    const escalation = await operator.refused(['emergency', 'rule', 'add', '--tenant', 'acme', '--key', 'pats', '--role', 'provider', '--eligible-user', 'pat', '--reviewer-role', 'reviewer', '--as', 'pat']);
    expect([escalation.code, escalation.error.error]).toEqual([6, 'escalation_refused']);
    expect((await operator.refused(['emergency', 'rule', 'remove', 'er-provider', '--tenant', 'acme', '--as', 'pat'])).error.error).toBe('escalation_refused');
    expect((await operator.ok(['emergency', 'settings', '--tenant', 'acme', '--as', 'pat'])).maxMinutes).toBe(90);
    expect((await operator.ok(['emergency', 'rule', 'list', '--tenant', 'acme'])).map((r: any) => r.key)).toEqual(['er-provider']);
  });

  it('emergency uses lists none yet; a review names a use that exists, with an outcome the service knows', async () => {
    expect(await operator.ok(['emergency', 'uses', '--tenant', 'acme'])).toEqual([]);
    expect(await operator.ok(['emergency', 'uses', '--tenant', 'acme', '--unreviewed'])).toEqual([]);
    expect((await operator.refused(['emergency', 'review', NO_SUCH_ID, '--tenant', 'acme', '--outcome', 'justified', '--note', 'fine'])).code).toBe(4);
    expect((await operator.refused(['emergency', 'review', NO_SUCH_ID, '--tenant', 'acme', '--outcome', 'fine', '--note', 'fine'])).code).toBe(2);
    expect((await operator.refused(['emergency', 'review', 'nope', '--tenant', 'acme', '--outcome', 'justified', '--note', 'fine'])).code).toBe(2);
  });

  it('emergency rule remove removes a rule; again exits 4', async () => {
    expect(await operator.ok(['emergency', 'rule', 'remove', 'er-provider', '--tenant', 'acme'])).toEqual({ removed: 'er-provider' });
    expect((await operator.refused(['emergency', 'rule', 'remove', 'er-provider', '--tenant', 'acme'])).code).toBe(4);
  });
});

describe(`caregate access-request (${testMode()} store)`, () => {
  let asker: { client_id: string; client_secret: string };

  beforeAll(async () => {
    asker = await operator.ok(['app', 'create', '--tenant', 'acme', '--name', 'Exporter', '--grant', 'client_credentials', '--admin-api']);
  });

  it('access-request list shows requests; approve grants one, reject refuses another; a decided one exits 5', async () => {
    expect(await operator.ok(['access-request', 'list', '--tenant', 'acme'])).toEqual([]);
    const first = await askForElevation(asker, 'report_viewer');
    const second = await askForElevation(asker, 'reporting_user');
    expect((await operator.ok(['access-request', 'list', '--tenant', 'acme', '--status', 'pending'])).map((r: any) => [r.id, r.role, r.status]).sort())
      .toEqual([[first.id, 'report_viewer', 'pending'], [second.id, 'reporting_user', 'pending']].sort());

    // With --as, a user without caregate.access:approve decides nothing.
    for (const verb of ['approve', 'reject']) expect((await operator.refused(['access-request', verb, first.id, '--tenant', 'acme', '--as', 'nora'])).code).toBe(6);
    expect((await operator.refused(['access-request', 'list', '--tenant', 'acme', '--as', 'nora'])).code).toBe(6);

    const approved = await operator.ok(['access-request', 'approve', first.id, '--tenant', 'acme', '--note', 'for the month end']);
    expect(approved).toEqual(expect.objectContaining({ id: first.id, status: 'granted', role: 'report_viewer', endsAt: expect.any(String) }));
    const rejected = await operator.run(['access-request', 'reject', second.id, '--tenant', 'acme'], { json: false });
    expect([rejected.code, rejected.stdout]).toEqual([0, `Request ${second.id} is rejected.\n`]);
    expect((await operator.refused(['access-request', 'approve', second.id, '--tenant', 'acme'])).code).toBe(5);
    expect((await operator.ok(['access-request', 'list', '--tenant', 'acme', '--status', 'granted'])).map((r: any) => r.id)).toEqual([first.id]);
  });

  it('with approval levels set, a person approves the level awaiting a decision (--level); the operator, who is not one, is refused', async () => {
    await operator.ok(['role', 'create', '--tenant', 'acme', '--key', 'approver', '--permission', 'caregate.access:approve', '--permission', 'reports:read', '--permission', 'dashboards:read']);
    await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'alex', '--password', PASSWORD, '--role', 'approver']);
    expect((await operator.ok(['emergency', 'settings', '--tenant', 'acme', '--approval-level', 'role:approver'])).approvalLevels).toEqual([{ role: 'approver' }]);
    expect((await operator.ok(['emergency', 'settings', '--tenant', 'acme', '--max-minutes', '60'])).approvalLevels).toEqual([{ role: 'approver' }]);
    expect((await operator.refused(['emergency', 'settings', '--tenant', 'acme', '--approval-level', 'boss'])).code).toBe(2);

    const request = await askForElevation(asker, 'reporting_user');
    expect((await operator.refused(['access-request', 'approve', request.id, '--tenant', 'acme'])).code).toBe(6);
    expect((await operator.refused(['access-request', 'approve', request.id, '--tenant', 'acme', '--level', '2', '--as', 'alex'])).code).toBe(5);
    expect(await operator.ok(['access-request', 'approve', request.id, '--tenant', 'acme', '--level', '1', '--as', 'alex'])).toEqual(expect.objectContaining({ id: request.id, status: 'granted', role: 'reporting_user' }));
    expect((await operator.ok(['emergency', 'settings', '--tenant', 'acme', '--no-approval-levels'])).approvalLevels).toEqual([]);
  });

  it('bad ids and statuses exit 2, an unknown request 4', async () => {
    expect((await operator.refused(['access-request', 'approve', 'nope', '--tenant', 'acme'])).code).toBe(2);
    expect((await operator.refused(['access-request', 'reject', NO_SUCH_ID, '--tenant', 'acme'])).code).toBe(4);
    expect((await operator.refused(['access-request', 'list', '--tenant', 'acme', '--status', 'open'])).code).toBe(2);
    expect((await operator.refused(['access-request', 'approve', NO_SUCH_ID, '--tenant', 'acme', '--level', 'first'])).code).toBe(2);
  });
});
