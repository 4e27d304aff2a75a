// The console's issue-18 screens in Chromium, as an administrator clicks them: a service account
// created and given a role, a key issued (its value shown once, then accepted by the admin API),
// rotated (the old value refused once the overlap ends) and revoked (the new value refused); the
// tenant-wide network rule set through the 409 "you are outside" confirmation and removed; a role's
// network rule; an assignment with a weekly window, shown in words; a limit on a role's permission
// added, changed and removed; and someone without the permissions seeing neither the screen nor the
// section, their direct API calls refused with nothing changed. Each screen passes axe-core at
// desktop and 390 px and is photographed into test-output/console.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { connectAdminApi, type AdminApi } from '../support/admin-api-client.ts';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser, openScreen, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';

jest.setTimeout(240_000);

const cli = { type: 'cli' as const, id: 'console-integrations-setup' };
const READER_PASSWORD = 'users-reader-password-1';

/** A call to the admin API from the page, with the console's own token (as a curious person would make it). */
async function callAsPage(page: Page, method: string, path: string, body?: unknown): Promise<number> {
  return page.evaluate(async ({ method, path, body }) => {
    // Run in the page: its sessionStorage and <body data-api> (this file is typed without the DOM library).
    const browser = globalThis as unknown as { sessionStorage: { getItem(key: string): string | null }; document: { body: { dataset: Record<string, string> } } };
    const { token } = JSON.parse(browser.sessionStorage.getItem('caregate.console') ?? '{}');
    const response = await fetch(`${browser.document.body.dataset.api}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.status;
  }, { method, path, body });
}

(haveChromium ? describe : describe.skip)('console: service accounts, network rules, time windows, limits', () => {
  let cg: TestCaregate;
  let adminApi: AdminApi;
  let browser: Browser;
  let admin: ConsoleSession;

  beforeAll(async () => {
    cg = await startTestCaregate();
    adminApi = await connectAdminApi(cg);
    await cg.runtime.accounts.roles.create('demo', { key: 'directory_reader', name: 'Directory reader', permissions: ['caregate.users:read'] }, cli);
    await cg.runtime.accounts.roles.create('demo', { key: 'billing_approver', name: 'Billing approver', permissions: ['billing:charges:approve', 'billing:charges:read'] }, cli);
    await cg.runtime.accounts.users.create('demo', { username: 'wendy', givenName: 'Wendy', password: 'correct-horse-battery-7' }, [], cli);
    browser = await launchBrowser();
    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/service-accounts' });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
  });

  it('creates a service account, gives it a role, issues a key shown once that the API accepts, rotates it and revokes it', async () => {
    const { page } = admin;
    await page.getByRole('heading', { level: 1, name: 'Service accounts' }).waitFor();
    await page.getByRole('heading', { name: 'No service accounts yet' }).waitFor();
    await checkScreen(page, 'service-accounts-empty');

    await page.getByRole('button', { name: 'Add service account' }).first().click();
    const add = page.getByRole('dialog', { name: 'Add service account' });
    await add.getByLabel('Account name').fill('Warehouse Export');
    await add.getByRole('button', { name: 'Add service account' }).click();
    // The API's objection is shown beside the field, and nothing was created.
    await add.locator('.field.invalid').getByText('must be lowercase letters').waitFor();
    await add.getByLabel('Account name').fill('warehouse-export');
    await add.getByLabel('Display name').fill('Nightly export to the data warehouse');
    await add.getByRole('button', { name: 'Add service account' }).click();
    await page.getByRole('heading', { level: 1, name: 'warehouse-export' }).waitFor();

    // Its role, through the same form as a person's.
    await page.getByRole('combobox', { name: 'Role' }).selectOption('directory_reader');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByRole('table', { name: 'Roles held directly' }).getByRole('cell', { name: 'directory_reader', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Issue a key' }).click();
    const issue = page.getByRole('dialog', { name: 'Issue a key for warehouse-export' });
    await issue.getByLabel('Name').fill('nightly export');
    await issue.getByLabel('caregate.users:read').check();
    await expect(issue.getByLabel('Works until').inputValue()).resolves.toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await issue.getByLabel('Requests per minute').fill('120');
    await checkScreen(page, 'service-account-issue-key');
    await issue.getByRole('button', { name: 'Issue key' }).click();

    const shown = page.getByRole('dialog', { name: 'nightly export: the key — shown once' });
    await shown.getByText('You will not see this key again.').waitFor();
    const key = (await shown.getByTestId('api-key-value').textContent())!;
    expect(key).toMatch(/^cgk_demo_/);
    await shown.getByRole('button', { name: 'Copy key' }).waitFor();
    await checkScreen(page, 'service-account-key-shown');
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.content()).not.toContain(key);

    // The key works against the admin API, with what it carries and no more.
    expect((await adminApi.call('GET', '/users', { token: key })).status).toBe(200);
    expect((await adminApi.call('GET', '/roles', { token: key })).status).toBe(403);
    const listed = (await adminApi.call('GET', '/api-keys?account=warehouse-export')).body;
    expect(listed).toMatchObject([{ name: 'nightly export', state: 'active', permissions: ['caregate.users:read'], rateLimitPerMinute: 120, owner: 'admin' }]);

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'warehouse-export' }).waitFor();
    const keys = page.getByRole('region', { name: 'API keys of warehouse-export' });
    await keys.getByRole('cell', { name: 'nightly export owner admin' }).waitFor();
    await keys.getByText('active').waitFor();
    await checkScreen(page, 'service-account');

    // Rotation with no overlap: a new value shown once; the old one stops at once.
    await page.getByRole('button', { name: 'Rotate nightly export' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate nightly export?' });
    await rotate.getByLabel('Overlap (minutes)').fill('0');
    await rotate.getByRole('button', { name: 'Rotate key' }).click();
    const rotated = page.getByRole('dialog', { name: 'nightly export: the new key — shown once' });
    const newKey = (await rotated.getByTestId('api-key-value').textContent())!;
    expect(newKey).toMatch(/^cgk_demo_/);
    expect(newKey).not.toBe(key);
    await rotated.getByText('You will not see this key again.').waitFor();
    await rotated.getByRole('button', { name: 'I have copied it' }).click();
    expect((await adminApi.call('GET', '/users', { token: key })).status).toBe(401);
    expect((await adminApi.call('GET', '/users', { token: newKey })).status).toBe(200);

    // Revocation, after a confirmation: the next request with the key is refused.
    await page.getByRole('button', { name: 'Revoke nightly export' }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke nightly export?' });
    await checkScreen(page, 'service-account-revoke');
    await revoke.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText('nightly export was revoked.').waitFor();
    expect((await adminApi.call('GET', '/users', { token: newKey })).status).toBe(401);
    await keys.getByText('revoked').waitFor();
    expect((await adminApi.call('GET', '/api-keys?account=warehouse-export')).body.map((k: { state: string }) => k.state).sort()).toEqual(['expired', 'revoked']);
    expect(admin.problems).toEqual([]);
  });

  it('gives an assignment a weekly window, refuses a bad one beside its field, and shows it in words', async () => {
    const { page } = admin;
    await openScreen(page, cg.baseUrl, 'demo', '/users/wendy?tab=roles', /wendy/);
    await page.getByRole('combobox', { name: 'Role' }).selectOption('billing_approver');
    await page.getByLabel('Only at certain times of the week').check();
    await page.getByText('Times are in this organisation\'s time zone').waitFor();
    await page.getByRole('button', { name: 'Add another range' }).click();
    const second = page.getByRole('group', { name: /^Range 2/ });
    for (const day of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri']) await second.getByLabel(day, { exact: true }).uncheck();
    await second.getByLabel('Sat', { exact: true }).check();
    await second.getByLabel('Range 2: from').fill('09:00');
    await second.getByLabel('Range 2: until').fill('09:00');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    // The API's objection ("start and end must differ") sits under the field it is about.
    await second.locator('.field.invalid').getByText('start and end must differ').waitFor();
    await page.getByRole('alert').getByText('Range 2, until: start and end must differ').waitFor();
    expect((await adminApi.call('GET', '/users/wendy')).body.assignments).toEqual([]);

    await second.getByLabel('Range 2: until').fill('12:00');
    await checkScreen(page, 'users-assign-window');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByRole('cell', { name: 'Mon–Fri 09:00–17:00; Sat 09:00–12:00' }).waitFor();
    const [assignment] = (await adminApi.call('GET', '/users/wendy')).body.assignments;
    expect(assignment.timeWindow).toEqual([{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }, { days: ['sat'], start: '09:00', end: '12:00' }]);
    await checkScreen(page, 'users-roles-window');
    expect(admin.problems).toEqual([]);
  });

  it('adds, changes and removes a limit on a role\'s permission, shown in the role view, and sets the role\'s network rule', async () => {
    const { page } = admin;
    await openScreen(page, cg.baseUrl, 'demo', '/roles/billing_approver', 'Billing approver');
    await page.getByRole('combobox', { name: 'Limit another permission' }).selectOption('billing:charges:approve');
    await page.getByRole('button', { name: 'Add a limit' }).click();
    await page.getByLabel('Largest amount for billing:charges:approve').fill('500');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Role Billing approver was saved.').waitFor();
    await page.locator('.limits-in-effect').getByText('up to 500').waitFor();
    expect((await adminApi.call('GET', '/roles/billing_approver')).body.constraints).toEqual({ 'billing:charges:approve': { maxAmount: 500 } });

    await page.getByLabel('Largest amount for billing:charges:approve').fill('750');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.limits-in-effect').getByText('up to 750').waitFor();
    expect((await adminApi.call('GET', '/roles/billing_approver')).body.constraints).toEqual({ 'billing:charges:approve': { maxAmount: 750 } });
    await checkScreen(page, 'role-limits');

    // The role's network rule: a malformed range refused beside the field, then a good one.
    const network = page.getByRole('region', { name: 'Networks this role may be used from' });
    await network.getByLabel('Allowed address ranges').fill('10.20.0.1/16');
    await network.getByRole('button', { name: 'Set the rule' }).click();
    await network.locator('.field.invalid').waitFor();
    await network.getByLabel('Allowed address ranges').fill('10.20.0.0/16\n2001:db8:5::/48');
    await network.getByLabel('What these ranges are').fill('Main Street clinic');
    await network.getByRole('button', { name: 'Set the rule' }).click();
    await network.locator('code.range', { hasText: '2001:db8:5::/48' }).waitFor();
    expect((await adminApi.call('GET', '/network-rules')).body.roles).toMatchObject([{ role: 'billing_approver', ranges: ['10.20.0.0/16', '2001:db8:5::/48'] }]);
    await checkScreen(page, 'role-network-rule');

    await page.getByRole('button', { name: 'Remove the limit on billing:charges:approve' }).click();
    await page.getByRole('button', { name: 'Save changes' }).click();
    // The role view drops the limit once the saved role comes back without it.
    await page.locator('.limits-in-effect').waitFor({ state: 'detached' });
    expect((await adminApi.call('GET', '/roles/billing_approver')).body.constraints).toEqual({});
    expect(admin.problems).toEqual([]);
  });

  it('sets the tenant-wide network rule only after the "you are outside" confirmation, and removes it', async () => {
    const { page } = admin;
    await openScreen(page, cg.baseUrl, 'demo', '/security', 'Sign-in & security');
    const section = page.getByRole('region', { name: 'Network rules' });
    await section.getByText('No rule: people may sign in from anywhere.').waitFor();
    // The role rule set above is listed, linked to its role.
    await section.getByRole('link', { name: 'Billing approver' }).waitFor();

    await section.getByLabel('Allowed address ranges').fill('10.20.0.0/33');
    await section.getByRole('button', { name: 'Set the rule' }).click();
    await section.locator('.field.invalid').waitFor();

    await section.getByLabel('Allowed address ranges').fill('10.20.0.0/16, 2001:db8:5::/48');
    await section.getByRole('button', { name: 'Set the rule' }).click();
    await section.getByText('You are outside these ranges.').waitFor();
    expect((await adminApi.call('GET', '/network-rules')).body.tenant).toBeNull();
    await checkScreen(page, 'security-network-outside');
    const anyway = section.getByRole('button', { name: 'Save the rule anyway' });
    await expect(anyway.isDisabled()).resolves.toBe(true);
    await section.getByLabel('Allow even though I am outside these ranges').check();
    await anyway.click();
    await page.getByText('The network rule for the whole organisation was saved.').waitFor();
    expect((await adminApi.call('GET', '/network-rules')).body.tenant).toMatchObject({ ranges: ['10.20.0.0/16', '2001:db8:5::/48'] });
    await section.locator('code.range', { hasText: '10.20.0.0/16' }).first().waitFor();
    await checkScreen(page, 'security-network-rule');

    // Removed again (after a confirmation), so people may sign in from here once more.
    await section.getByRole('button', { name: 'Remove the rule' }).click();
    await page.getByRole('dialog', { name: 'Remove the network rule for the whole organisation?' }).getByRole('button', { name: 'Remove the rule' }).click();
    await section.getByText('No rule: people may sign in from anywhere.').waitFor();
    expect((await adminApi.call('GET', '/network-rules')).body.tenant).toBeNull();
    expect(admin.problems).toEqual([]);
  });

  it('shows neither the screen nor the section to someone without the permissions, and the API refuses their calls', async () => {
    await cg.runtime.accounts.users.create('demo', { username: 'vera', givenName: 'Vera', password: READER_PASSWORD }, [{ role: 'directory_reader', scope: { type: 'tenant' } }], cli);
    const reader = await signInToConsole(browser, cg.baseUrl, { username: 'vera', password: READER_PASSWORD, at: '/users' });
    try {
      const { page } = reader;
      const nav = page.getByRole('navigation', { name: 'Sections' });
      await nav.getByRole('link', { name: 'Users' }).waitFor();
      expect(await nav.getByRole('link', { name: 'Service accounts' }).count()).toBe(0);
      expect(await nav.getByRole('link', { name: 'Sign-in & security' }).count()).toBe(0);
      // Her Roles tab of a user offers no assignment form (and so no window editor).
      await openScreen(page, cg.baseUrl, 'demo', '/users/wendy?tab=roles', /wendy/);
      await page.getByRole('cell', { name: 'Mon–Fri 09:00–17:00; Sat 09:00–12:00' }).waitFor();
      expect(await page.getByRole('button', { name: 'Assign', exact: true }).count()).toBe(0);

      // Each is refused (403), and the only trace is the refusal itself: nothing was changed.
      const head = await adminApi.auditHead();
      expect(await callAsPage(page, 'GET', '/service-accounts')).toBe(403);
      expect(await callAsPage(page, 'POST', '/service-accounts', { username: 'sneaky' })).toBe(403);
      expect(await callAsPage(page, 'POST', '/service-accounts/warehouse-export/keys', { name: 'k', permissions: ['caregate.users:read'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() })).toBe(403);
      expect(await callAsPage(page, 'PUT', '/network-rules/tenant', { ranges: ['0.0.0.0/0'], allowOutsideCaller: true })).toBe(403);
      expect(await callAsPage(page, 'PUT', '/roles/billing_approver/network-rule', { ranges: ['0.0.0.0/0'] })).toBe(403);
      expect(await callAsPage(page, 'PATCH', '/roles/billing_approver', { constraints: { 'billing:charges:approve': { maxAmount: 1000000 } } })).toBe(403);
      const written = await cg.runtime.storage.query<{ action: string }>("SELECT e.action FROM audit_events e JOIN tenants t ON t.id = e.tenant_id WHERE t.slug = 'demo' AND e.seq > $1 ORDER BY e.seq", [head]);
      expect(written.map((e) => e.action)).toEqual(Array(6).fill('admin.forbidden'));
      expect((await adminApi.call('GET', '/service-accounts')).body.map((a: { username: string }) => a.username)).toEqual(['warehouse-export']);
      const rules = (await adminApi.call('GET', '/network-rules')).body;
      expect(rules.tenant).toBeNull();
      expect(rules.roles).toMatchObject([{ role: 'billing_approver', ranges: ['10.20.0.0/16', '2001:db8:5::/48'] }]);
      expect((await adminApi.call('GET', '/roles/billing_approver')).body.constraints).toEqual({});
      expect((await adminApi.call('GET', '/api-keys?account=warehouse-export')).body).toHaveLength(2);
      expect(reader.problems).toEqual([]);
    } finally {
      await reader.close();
    }
  });
});
