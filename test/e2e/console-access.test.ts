// The console's Access section in Chromium, as the people of a clinic use it: the owner sets the
// emergency access settings (the webhook secret write-only) and a break-glass rule (one refused for
// lasting longer than the tenant allows, one removed); a nurse breaks the glass; her own review is
// refused by the server and the console says so; a compliance officer reviews it. An elevation is
// asked for and approved in the console, another rejected; the owner's own request is not theirs to
// approve. A delegation is made (part of a role, until a time on the clinic's clock) and ended; a
// review campaign started, an unused account's role revoked, another certified, the report
// downloaded, the campaign closed (the rest flagged). A location's administrator sees only their location's delegations and the pages their
// permissions allow, and someone without any of those permissions sees no Access section. Every
// screen is checked with axe-core at desktop and phone widths and photographed.
import '../support/raw-sql.ts';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { connectAdminApi, type AdminApi } from '../support/admin-api-client.ts';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';

jest.setTimeout(300_000);

const cli = { type: 'cli' as const, id: 'console-access-setup' };
const PASSWORD = 'a-long-enough-password';
const ZONE = 'America/Chicago';
const SECRET = 'a-webhook-secret-nobody-sees';

/** A day on the clinic's clock, `days` from now, as YYYY-MM-DD. */
const clinicDay = (days: number) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * 86_400_000));
/** A moment as the clinic's clock shows it: "2026-12-07, 17:00". */
const onClinicClock = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

const sections = (page: Page) => page.getByRole('navigation', { name: 'Sections' });
const accessPages = (page: Page) => page.getByRole('navigation', { name: 'Access pages' });

(haveChromium ? describe : describe.skip)('console: Access', () => {
  let cg: TestCaregate;
  let api: AdminApi;
  let browser: Browser;
  let owner: ConsoleSession;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    cg = await startTestCaregate();
    api = await connectAdminApi(cg);
    const { accounts } = cg.runtime;
    expect((await api.call('PATCH', '/policy', { body: { timeZone: ZONE } })).status).toBe(200);
    await accounts.locations.create('demo', { key: 'north', name: 'Northside clinic' }, cli);
    for (const [key, name, permissions] of [
      ['er_physician', 'ER physician', ['chart:read', 'chart:edit']],
      ['on_call', 'On call', ['chart:read']],
      ['compliance', 'Compliance', ['caregate.access:review']],
      ['clinic_lead', 'Clinic lead', ['schedule:read', 'schedule:edit', 'staff:read']],
      ['site_admin', 'Site administrator', ['caregate.users:read', 'caregate.locations:read', 'caregate.assignments:read', 'caregate.assignments:create', 'caregate.assignments:delete']],
      ['people_reader', 'People reader', ['caregate.users:read']],
    ] as const) await accounts.roles.create('demo', { key, name, permissions: [...permissions] }, cli);
    const people: Array<[string, string, Array<{ role: string; scope?: { type: 'tenant' } | { type: 'location'; key: string } }>]> = [
      ['nina', 'Nina', [{ role: 'on_call' }, { role: 'compliance' }]],
      ['rex', 'Rex', [{ role: 'compliance' }]],
      ['mara', 'Mara', [{ role: 'clinic_lead' }]],
      ['dave', 'Dave', []],
      ['oscar', 'Oscar', [{ role: 'report_viewer' }]],
      ['lena', 'Lena', [{ role: 'site_admin', scope: { type: 'location', key: 'north' } }]],
      ['nate', 'Nate', [{ role: 'clinic_lead', scope: { type: 'location', key: 'north' } }]],
      ['dora', 'Dora', [{ role: 'report_viewer', scope: { type: 'location', key: 'north' } }]],
      ['vera', 'Vera', [{ role: 'people_reader' }]],
    ];
    for (const [username, givenName, roles] of people) {
      ids[username] = (await accounts.users.create('demo', { username, givenName, password: PASSWORD, email: `${username}@clinic.example` }, roles.map((r) => ({ scope: { type: 'tenant' as const }, ...r })), cli)).id;
    }
    // Oscar has not signed in since his account was made, 200 days ago: the review highlights him.
    await cg.runtime.storage.query(`UPDATE users SET created_at = now() - interval '200 days' WHERE id = $1`, [ids.oscar]);
    ids.admin = (await cg.runtime.storage.users.findOneBy({ username: 'admin' }))!.id;
    browser = await launchBrowser();
    owner = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/access' });
  });

  afterAll(async () => {
    await owner?.close();
    await browser?.close();
    await cg?.close();
  });

  it('opens on Emergency access, with empty lists that say what to do; saves the settings with a write-only webhook secret', async () => {
    const { page } = owner;
    await page.getByRole('heading', { level: 1, name: 'Emergency access' }).waitFor();
    expect(page.url()).toMatch(/\/admin\/access\/emergency$/);
    await expect(accessPages(page).getByRole('link').allTextContents()).resolves.toEqual(['Emergency access', 'Access requests', 'Delegations', 'Access reviews']);
    await page.getByRole('heading', { name: 'Emergency access has not been used' }).waitFor();
    await page.getByRole('heading', { name: 'No emergency access rules yet' }).waitFor();
    await checkScreen(page, 'access-emergency-empty');

    await page.getByLabel('Longest grant (minutes)').fill('120');
    await page.getByLabel('Webhook URL').fill('http://127.0.0.1:9/emergency');
    await page.getByRole('button', { name: 'Save settings' }).click();
    // A webhook needs a secret: said beside the secret's field, and nothing saved.
    await page.locator('.field.invalid', { has: page.getByLabel('Webhook secret') }).getByText('a webhook needs a secret to sign with').waitFor();
    expect((await api.call('GET', '/emergency-access/settings')).body.webhookUrl).toBeNull();

    await page.getByLabel('Webhook secret').fill(SECRET);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('The emergency access settings were saved.').waitFor();
    expect((await api.call('GET', '/emergency-access/settings')).body).toMatchObject({ maxMinutes: 120, webhookUrl: 'http://127.0.0.1:9/emergency', webhookSecretSet: true });
    await page.getByText('A secret is set and is never shown.').waitFor();
    await expect(page.getByLabel('Webhook secret').inputValue()).resolves.toBe('');
    expect(await page.content()).not.toContain(SECRET);

    // No webhook any more; the secret stays for when one is set again.
    await page.getByLabel('Webhook URL').fill('');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('The emergency access settings were saved.').waitFor();
    expect((await api.call('GET', '/emergency-access/settings')).body).toMatchObject({ maxMinutes: 120, webhookUrl: null, webhookSecretSet: true });
    expect(owner.problems).toEqual([]);
  });

  it('adds a break-glass rule (one lasting longer than the tenant allows is refused beside its field) and removes another', async () => {
    const { page } = owner;
    await page.getByRole('button', { name: 'Add a rule' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an emergency access rule' });
    await dialog.getByLabel('Rule name').fill('er-night');
    await dialog.getByLabel('Role taken in an emergency').selectOption('er_physician');
    await dialog.getByLabel('Lasts (minutes)').fill('600');
    await dialog.getByRole('checkbox', { name: 'On call' }).check();
    await dialog.getByLabel('Reviewed by holders of').selectOption('compliance');
    await checkScreen(page, 'access-emergency-add-rule');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await dialog.locator('.field.invalid', { has: page.getByLabel('Lasts (minutes)') }).getByText("at most the tenant's maximum of 120").waitFor();
    expect((await api.call('GET', '/emergency-access/rules')).body).toEqual([]);

    await dialog.getByLabel('Lasts (minutes)').fill('60');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('The rule er-night was added.').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'er-night' });
    await row.getByText('holders of On call').waitFor();
    await row.getByText('Holders of Compliance').waitFor();
    expect((await api.call('GET', '/emergency-access/rules')).body).toMatchObject([{
      key: 'er-night', role: 'er_physician', roleName: 'ER physician', eligibleRoles: ['on_call'], eligibleRoleNames: ['On call'], minutes: 60, reviewerRole: 'compliance', reviewerRoleName: 'Compliance',
    }]);

    expect((await api.call('POST', '/emergency-access/rules', { body: { key: 'spare', role: 'er_physician', eligibleUsers: ['dave'], reviewerRole: 'compliance' } })).status).toBe(201);
    await page.reload();
    const spare = page.getByRole('row').filter({ hasText: 'spare' });
    await spare.getByText('dave').waitFor();
    await spare.getByRole('button', { name: 'Remove the rule spare' }).click();
    await page.getByRole('dialog', { name: 'Remove the rule spare?' }).getByRole('button', { name: 'Remove rule' }).click();
    await page.getByText('The rule spare was removed.').waitFor();
    expect((await api.call('GET', '/emergency-access/rules')).body.map((r: { key: string }) => r.key)).toEqual(['er-night']);
    await checkScreen(page, 'access-emergency-rules');
    expect(owner.problems).toEqual([]);
  });

  it('shows a use of break-glass; the user\'s own review is refused with the server\'s reason; another reviewer records it', async () => {
    const tenant = (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!;
    const nina = (await cg.runtime.storage.users.findOneBy({ id: ids.nina! }))!;
    const use = await cg.runtime.emergency.invoke(tenant, nina, { rule: 'er-night', reason: 'Patient crashing in bay 3, ER physician unreachable' }, { at: new Date(), amr: ['pwd'] }, { type: 'user', id: ids.nina! });

    const self = await signInToConsole(browser, cg.baseUrl, { username: 'nina', password: PASSWORD, at: '/access/emergency' });
    try {
      const { page } = self;
      // Nina may review uses (compliance), not read the policy: no rules, no settings.
      await page.getByRole('heading', { level: 1, name: 'Emergency access' }).waitFor();
      await page.getByRole('heading', { name: 'Uses' }).waitFor();
      expect(await page.getByRole('heading', { name: 'Rules' }).count()).toBe(0);
      expect(await page.getByRole('heading', { name: 'Settings' }).count()).toBe(0);
      // Nina may not read roles, yet the use names its role: the API gives the name with it.
      await page.getByRole('button', { name: "Review nina's use of ER physician" }).click();
      const dialog = page.getByRole('dialog', { name: "Review nina's emergency access" });
      await dialog.getByLabel('Justified', { exact: true }).check();
      await dialog.getByLabel('Note').fill('It was needed');
      await dialog.getByRole('button', { name: 'Record review' }).click();
      await dialog.getByRole('alert').getByText('you cannot review your own use of emergency access; another reviewer must').waitFor();
      await checkScreen(page, 'access-emergency-self-review-refused');
      expect((await api.call('GET', '/emergency-access/uses')).body[0]).toMatchObject({ id: use.id, reviewOutcome: null });
    } finally {
      await self.close();
    }

    const reviewer = await signInToConsole(browser, cg.baseUrl, { username: 'rex', password: PASSWORD, at: '/access' });
    try {
      const { page } = reviewer;
      await page.getByRole('heading', { level: 1, name: 'Emergency access' }).waitFor();
      await page.getByLabel('Only uses awaiting review').check();
      const row = page.getByRole('row').filter({ hasText: 'Patient crashing in bay 3' });
      await row.getByText('Awaiting review').waitFor();
      await row.getByText('Everywhere').waitFor();
      await checkScreen(page, 'access-emergency-uses');
      await row.getByRole('button', { name: "Review nina's use of ER physician" }).click();
      const dialog = page.getByRole('dialog', { name: "Review nina's emergency access" });
      await dialog.getByLabel('Not justified').check();
      await dialog.getByRole('button', { name: 'Record review' }).click();
      // The note is required: the API's objection beside it.
      await dialog.locator('.field.invalid').getByText('say why').waitFor();
      await dialog.getByLabel('Note').fill('The ER physician was on site; no emergency access was needed.');
      await dialog.getByRole('button', { name: 'Record review' }).click();
      await page.getByText("The review of nina's emergency access was recorded.").waitFor();
      await page.getByRole('heading', { name: 'Nothing awaits review' }).waitFor();
      await page.getByLabel('Only uses awaiting review').uncheck();
      await page.getByRole('row').filter({ hasText: 'Patient crashing in bay 3' }).getByText('Not justified').waitFor();
      expect((await api.call('GET', '/emergency-access/uses')).body[0]).toMatchObject({ id: use.id, reviewOutcome: 'not_justified', reviewedBy: ids.rex });
      expect(reviewer.problems).toEqual([]);
    } finally {
      await reviewer.close();
    }
  });

  it('shows a use waiting for approval under a two-person rule, refused by a reviewer in the console; the owner names approval levels and clears them', async () => {
    expect((await api.call('POST', '/emergency-access/rules', {
      body: { key: 'dave-bypass', role: 'er_physician', eligibleUsers: ['dave'], minutes: 30, reviewerRole: 'compliance', approvalsRequired: 1 },
    })).status).toBe(201);
    const tenant = (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!;
    const dave = (await cg.runtime.storage.users.findOneBy({ id: ids.dave! }))!;
    const use = await cg.runtime.emergency.invoke(tenant, dave, { rule: 'dave-bypass', reason: 'Locked out of the rota on a Sunday night' }, { at: new Date(), amr: ['pwd'] }, { type: 'user', id: ids.dave! });
    expect(use).toMatchObject({ status: 'pending' });

    const reviewer = await signInToConsole(browser, cg.baseUrl, { username: 'rex', password: PASSWORD, at: '/access/emergency' });
    try {
      const { page } = reviewer;
      const row = page.getByRole('row').filter({ hasText: 'Locked out of the rota' });
      await row.getByText('Awaiting approval (0 of 1)').waitFor();
      await checkScreen(page, 'access-emergency-awaiting-approval');
      await row.getByRole('button', { name: "Refuse dave's use of ER physician" }).click();
      const dialog = page.getByRole('dialog', { name: "Refuse dave's emergency access" });
      await dialog.getByLabel('Note (optional)').fill('Not an emergency: the rota can wait until Monday.');
      await dialog.getByRole('button', { name: 'Refuse' }).click();
      await page.getByText("dave's emergency access was refused.").waitFor();
      await row.getByText('Refused').waitFor();
      expect((await api.call('GET', '/emergency-access/uses')).body.find((u: { id: string }) => u.id === use.id)).toMatchObject({ status: 'rejected', decidedBy: ids.rex });
      expect(reviewer.problems).toEqual([]);
    } finally {
      await reviewer.close();
    }

    const { page } = owner;
    await page.goto(`${cg.baseUrl}/t/demo/admin/access/emergency`);
    const settings = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Settings' }) });
    await settings.getByRole('button', { name: 'Add a level' }).click();
    await settings.getByLabel('Level 1', { exact: true }).selectOption({ label: "The requester's manager" });
    await settings.getByRole('button', { name: 'Add a level' }).click();
    await settings.getByLabel('Level 2', { exact: true }).selectOption('clinic_lead');
    await checkScreen(page, 'access-emergency-approval-levels');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('The emergency access settings were saved.').waitFor();
    expect((await api.call('GET', '/emergency-access/settings')).body.approvalLevels).toEqual([{ manager: true }, { role: 'clinic_lead' }]);
    await settings.getByRole('button', { name: 'Remove level 2' }).click();
    await settings.getByRole('button', { name: 'Remove level 1' }).click();
    await settings.getByRole('button', { name: 'Save settings' }).click();
    // The same notice as before says it was saved: wait for the stored levels themselves.
    while ((await api.call('GET', '/emergency-access/settings')).body.approvalLevels.length) await new Promise((r) => setTimeout(r, 100));
    expect(await settings.getByLabel('Level 1', { exact: true }).count()).toBe(0);
  });

  it('asks for access in the console; an approver approves one and rejects another; nobody approves their own request', async () => {
    const requester = await signInToConsole(browser, cg.baseUrl, { username: 'nina', password: PASSWORD, at: '/access/requests' });
    try {
      const { page } = requester;
      await page.getByRole('heading', { level: 1, name: 'Access requests' }).waitFor();
      await page.getByText('You have asked for no access.').waitFor();
      // Nina may not read roles or locations, yet the form offers them by name (and her limit).
      await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Clinic lead' });
      await page.getByText('at most 2 hours').waitFor();
      await page.getByLabel('For how long (minutes)').fill('30');
      await page.getByLabel('Reason').fill('Covering the Friday schedule while Mara is out');
      await page.getByRole('button', { name: 'Ask for access' }).click();
      // No reason: the API's objection beside the field.
      await page.getByLabel('Reason').fill('');
      await page.getByRole('button', { name: 'Ask for access' }).click();
      await page.locator('.field.invalid').getByText('give a reason').waitFor();
      await page.getByLabel('Reason').fill('Checking last week\'s rota');
      await page.getByLabel('Where').selectOption({ label: 'Location: Northside clinic' });
      await page.getByLabel('For one use only').check();
      await page.getByRole('button', { name: 'Ask for access' }).click();
      await page.getByText('Your request was sent; approvers are emailed.').waitFor();
      // Both listed once the list reloads: the second row's note shows it.
      await page.getByRole('table', { name: 'Your requests' }).getByText('Waiting for an approver.').nth(1).waitFor();
      expect(await page.getByRole('table', { name: 'Your requests' }).getByRole('cell', { name: 'Clinic lead', exact: true }).count()).toBe(2);
      // The place is named for her too (her request's own id is not its place).
      await page.getByRole('table', { name: 'Your requests' }).getByRole('row').filter({ hasText: 'Checking last week' }).getByRole('cell', { name: 'Location: Northside clinic', exact: true }).waitFor();
      await checkScreen(page, 'access-requests-mine');
    } finally {
      await requester.close();
    }

    const { page } = owner;
    await sections(page).getByRole('link', { name: 'Access' }).click();
    await accessPages(page).getByRole('link', { name: 'Access requests' }).click();
    await page.getByRole('heading', { level: 1, name: 'Access requests' }).waitFor();
    await page.getByRole('heading', { name: 'Requests to decide (2 pending)' }).waitFor();
    // The owner asks for something for themselves: listed as theirs, with no way to approve it here.
    await page.getByLabel('Role', { exact: true }).selectOption('analytics_admin');
    await page.getByLabel('Reason').fill('Quarterly dashboards');
    await page.getByRole('button', { name: 'Ask for access' }).click();
    await page.getByText('Your request was sent; approvers are emailed.').waitFor();
    const mine = page.getByRole('table', { name: 'Your requests' });
    await mine.getByText('Another approver decides it: nobody approves their own request.').waitFor();
    expect(await mine.getByRole('button').count()).toBe(0);
    const own = (await api.call('GET', '/access-requests')).body.find((r: { userId: string }) => r.userId === ids.admin);
    await expect(cg.runtime.elevations.approve('demo', own.id, {}, { type: 'user', id: ids.admin! })).rejects.toMatchObject({ status: 403, details: { reason: 'self_approval' } });
    await checkScreen(page, 'access-requests-decide');

    const friday = page.getByRole('row').filter({ hasText: 'Covering the Friday schedule' });
    await friday.getByRole('button', { name: "Approve nina's request for Clinic lead" }).click();
    const approve = page.getByRole('dialog', { name: "Approve nina's request?" });
    await approve.getByText('nina gets Clinic lead (Everywhere) for 30 minutes, from now.').waitFor();
    await approve.getByLabel('Note to the requester (optional)').fill('Approved for Friday only');
    await approve.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('nina holds Clinic lead now, for 30 minutes.').waitFor();
    await friday.getByText('granted').waitFor();

    const rota = page.getByRole('row').filter({ hasText: 'Checking last week' });
    await rota.getByRole('cell', { name: 'Location: Northside clinic', exact: true }).waitFor();
    await rota.getByRole('button', { name: "Reject nina's request for Clinic lead" }).click();
    await page.getByRole('dialog', { name: "Reject nina's request?" }).getByRole('button', { name: 'Reject request' }).click();
    await page.getByText("nina's request was rejected; they are told.").waitFor();
    await rota.getByText('rejected').waitFor();

    const grants = await cg.runtime.storage.assignments.findBy({ userId: ids.nina!, origin: 'elevation' });
    expect(grants).toHaveLength(1);
    const statuses = (await api.call('GET', '/access-requests')).body.filter((r: { userId: string }) => r.userId === ids.nina).map((r: { status: string; oneTime: boolean }) => [r.status, r.oneTime]).sort();
    expect(statuses).toEqual([['granted', false], ['rejected', true]]);
    expect(owner.problems).toEqual([]);
  });

  it("delegates part of Mara's role to Dave until a time on the clinic's clock, and ends it early", async () => {
    const { page } = owner;
    await accessPages(page).getByRole('link', { name: 'Delegations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Delegations' }).waitFor();
    await page.getByRole('heading', { name: 'No delegations running or scheduled' }).waitFor();
    await page.getByLabel('Whose role (username)').fill('mara');
    await page.getByRole('button', { name: 'Show their roles' }).click();
    await page.getByLabel("mara's role to pass on").waitFor();
    await page.getByLabel('To (username)').fill('dave');
    const day = clinicDay(2);
    await page.getByLabel('Until').fill(`${day}T17:00`);
    await page.getByLabel('Only some of its permissions').check();
    await page.getByRole('checkbox', { name: 'schedule:read' }).check();
    await page.getByLabel('Reason (optional)').fill('Mara on leave');
    await checkScreen(page, 'access-delegations-form');
    await page.getByRole('button', { name: 'Delegate', exact: true }).click();
    await page.getByText(/^dave acts for mara as Clinic lead until/).waitFor();

    const [made] = (await api.call('GET', '/delegations')).body;
    expect(made).toMatchObject({ delegator: { username: 'mara' }, delegate: { username: 'dave' }, role: 'clinic_lead', permissions: ['schedule:read'], status: 'active' });
    // 17:00 on the clinic's clock, not the browser's.
    expect(onClinicClock(made.expiresAt)).toBe(`${day}, 17:00`);
    const row = page.getByRole('row').filter({ hasText: 'schedule:read' });
    await row.getByText('active').waitFor();
    await checkScreen(page, 'access-delegations');

    await row.getByRole('button', { name: 'End now: dave acting for mara' }).click();
    await page.getByRole('dialog', { name: 'End this delegation now?' }).getByRole('button', { name: 'End delegation' }).click();
    await page.getByText("dave's delegation ended.").waitFor();
    await page.getByRole('heading', { name: 'No delegations running or scheduled' }).waitFor();
    await page.getByLabel('Show ended delegations too').check();
    await page.getByRole('row').filter({ hasText: 'schedule:read' }).getByText('ended').waitFor();
    expect((await api.call('GET', '/delegations?ended=true')).body[0]).toMatchObject({ id: made.id, status: 'ended' });
    expect(owner.problems).toEqual([]);
  });

  it('starts a review campaign, highlights the unused account, revokes its role, downloads the report and closes the campaign', async () => {
    const { page } = owner;
    await accessPages(page).getByRole('link', { name: 'Access reviews' }).click();
    await page.getByRole('heading', { level: 1, name: 'Access reviews' }).waitFor();
    await page.getByRole('heading', { name: 'No access reviews yet' }).waitFor();
    await checkScreen(page, 'access-reviews-empty');
    await page.getByRole('button', { name: 'Start a campaign' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start an access review' });
    await dialog.getByLabel('Name').fill('Q1 review, whole clinic');
    // Undecided items are flagged at the deadline (the default): closing early takes nobody's access away.
    await expect(dialog.getByLabel('Flagged for follow-up (the access stays)').isChecked()).resolves.toBe(true);
    await checkScreen(page, 'access-reviews-start');
    await dialog.getByRole('button', { name: 'Start campaign' }).click();
    await page.getByRole('heading', { level: 1, name: 'Q1 review, whole clinic' }).waitFor();
    await page.getByText(/^Q1 review, whole clinic started with \d+ items to review\.$/).waitFor();

    const oscar = page.getByRole('row').filter({ hasText: 'oscar' });
    await oscar.getByText('Unused 90+ days').waitFor();
    await expect(oscar.getAttribute('class')).resolves.toContain('unused');
    // The owner's own access is not theirs to review.
    expect(await page.getByRole('row').filter({ hasText: /^admin/ }).count()).toBe(0);
    // A service account is named by its application (the admin API client's here), never svc-{client id}.
    await page.getByRole('row').filter({ hasText: 'svc admin (service account)' }).first().waitFor();
    expect(await page.getByRole('cell').filter({ hasText: /^svc-/ }).count()).toBe(0);
    await checkScreen(page, 'access-review-campaign');

    await oscar.getByRole('textbox', { name: /^Note on oscar/ }).fill('Left the clinic in the summer');
    await oscar.getByRole('button', { name: /^Revoke oscar/ }).click();
    await page.getByRole('dialog', { name: 'Revoke Report Viewer from oscar?' }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('oscar: Report Viewer revoked.').waitFor();
    await page.getByRole('row').filter({ hasText: 'oscar' }).getByText('Revoked').waitFor();
    expect(await cg.runtime.storage.assignments.findBy({ userId: ids.oscar! })).toEqual([]);

    const rex = page.getByRole('row').filter({ hasText: 'rex' });
    await rex.getByRole('button', { name: /^Certify rex/ }).click();
    await page.getByText('rex: Compliance certified.').waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report (CSV)' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^access-review-.+\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toMatch(/oscar.*report_viewer.*revoked.*Left the clinic in the summer/);
    expect(csv).toMatch(/rex.*compliance.*certified/);

    await page.getByRole('button', { name: 'Close campaign' }).click();
    await page.getByRole('dialog', { name: 'Close Q1 review, whole clinic now?' }).getByRole('button', { name: 'Close campaign' }).click();
    await page.getByText('Q1 review, whole clinic is closed.').waitFor();
    await page.locator('dl.facts').getByText('closed').waitFor();
    expect(await page.getByRole('button', { name: 'Close campaign' }).count()).toBe(0);
    expect((await api.call('GET', '/access-reviews')).body[0]).toMatchObject({ status: 'closed', onDeadline: 'flag', undecided: 0 });

    await page.getByRole('link', { name: '← Access reviews' }).click();
    const listed = page.getByRole('row').filter({ hasText: 'Q1 review, whole clinic' });
    await listed.getByText('closed').waitFor();
    await listed.getByText(/of \d+ decided/).waitFor();
    await checkScreen(page, 'access-reviews-list');
    expect(owner.problems).toEqual([]);
  });

  it("shows a location's administrator only their location's delegations and the pages their permissions allow; no Access section without them", async () => {
    const nate = (await api.call('GET', '/users/nate/assignments')).body[0];
    const until = new Date(Date.now() + 3 * 86_400_000).toISOString();
    expect((await api.call('POST', '/delegations', { body: { assignment: nate.id, delegate: 'dora', expiresAt: until } })).status).toBe(201);
    const mara = (await api.call('GET', '/users/mara/assignments')).body[0];
    const maraToDave = await api.call('POST', '/delegations', { body: { assignment: mara.id, delegate: 'dave', expiresAt: until } });
    expect({ status: maraToDave.status, body: maraToDave.body }).toMatchObject({ status: 201 });

    const site = await signInToConsole(browser, cg.baseUrl, { username: 'lena', password: PASSWORD, at: '/access' });
    try {
      const { page } = site;
      await page.getByRole('heading', { level: 1, name: 'Access requests' }).waitFor();
      await expect(accessPages(page).getByRole('link').allTextContents()).resolves.toEqual(['Access requests', 'Delegations']);
      // Lena decides no requests: no such list.
      expect(await page.getByRole('heading', { name: /^Requests to decide/ }).count()).toBe(0);
      await accessPages(page).getByRole('link', { name: 'Delegations' }).click();
      await page.getByRole('heading', { level: 1, name: 'Delegations' }).waitFor();
      const rows = page.getByRole('table', { name: 'Delegations' }).locator('tbody tr');
      await rows.first().waitFor();
      await expect(rows.allTextContents()).resolves.toEqual([expect.stringContaining('dora')]);
      await rows.first().getByText('Location: Northside clinic').waitFor();
      await checkScreen(page, 'access-delegations-location-admin');
      // A page her permissions do not open says so, and shows nothing of it.
      await page.goto(`${cg.baseUrl}/t/demo/admin/access/emergency`);
      await page.getByText('This page needs a permission you do not hold.').waitFor();
      expect(await page.getByRole('heading', { name: 'Uses' }).count()).toBe(0);
      expect(site.problems).toEqual([]);
    } finally {
      await site.close();
    }

    const reader = await signInToConsole(browser, cg.baseUrl, { username: 'vera', password: PASSWORD });
    try {
      await sections(reader.page).getByRole('link', { name: 'Users' }).waitFor();
      expect(await sections(reader.page).getByRole('link', { name: 'Access' }).count()).toBe(0);
    } finally {
      await reader.close();
    }
  });
});
