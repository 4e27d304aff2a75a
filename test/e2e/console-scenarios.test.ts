// The administrators of the products Caregate serves, doing their jobs in the console in Chromium:
// the clinic (a provider with different roles at two locations; an invitation accepted through the
// emailed link; disable and re-enable), the tenant portal (a user type; unlocking a locked user; a
// random password), analytics (people with several roles; one report withheld from one person) and
// a location manager who sees and manages only their clinic's people. Setup that is not the
// scenario goes through the services; what the scenario checks is read back through them too.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';
import { createAgent, formOf } from '../support/browser-agent.ts';
import { startSmtpServer, type SmtpTestServer } from '../integration/notify/smtp-test-server.ts';

jest.setTimeout(240_000);

const cli = { type: 'cli' as const, id: 'scenario-setup' };
const PASSWORD = 'a-long-enough-password-for-scenarios';
const decode = (data: string) => data.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

(haveChromium ? describe : describe.skip)('console: the products’ administrators at work', () => {
  let cg: TestCaregate;
  let smtp: SmtpTestServer;
  let browser: Browser;
  let admin: ConsoleSession;
  const accounts = () => cg.runtime.accounts;

  /** Opens a user's page in the admin's console. */
  async function openUser(page: Page, username: string, heading: RegExp | string) {
    await page.goto(`${cg.baseUrl}/t/demo/admin/users/${username}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  async function action(page: Page, item: string, confirm: string) {
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: item }).click();
    await page.getByRole('dialog').getByRole('button', { name: confirm }).click();
  }

  beforeAll(async () => {
    smtp = await startSmtpServer({ disabledCommands: ['STARTTLS'] });
    cg = await startTestCaregate({ overrides: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Caregate <no-reply@test.example>' } });
    for (const [key, name] of [['north', 'North clinic'], ['south', 'South clinic']]) await accounts().locations.create('demo', { key, name }, cli);
    browser = await launchBrowser();
    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
    await smtp?.close();
  });

  describe('the clinic', () => {
    it('adds a provider with different roles at two locations', async () => {
      const { page } = admin;
      await page.goto(`${cg.baseUrl}/t/demo/admin/users/new`);
      await page.getByRole('heading', { level: 1, name: 'Add user' }).waitFor();
      await page.getByLabel('Given name').fill('Priya');
      await page.getByLabel('Family name').fill('Shah');
      await page.getByLabel('Username').fill('priya');
      await page.getByLabel('Set a password').check();
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('May access PHI (protected health information)').check();
      await page.getByLabel('North clinic').selectOption('provider');
      await page.getByLabel('South clinic').selectOption('front_desk');
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('heading', { level: 1, name: 'priya was added' }).waitFor();

      const priya = await accounts().users.get('demo', 'priya');
      expect(priya.assignments.map((a) => [a.role, a.scope]).sort()).toEqual([['front_desk', { type: 'location', key: 'south' }], ['provider', { type: 'location', key: 'north' }]]);
      expect(admin.problems).toEqual([]);
    });

    it('a provider role at a location for someone without PHI access is refused, with the reason beside the form', async () => {
      const { page } = admin;
      await page.goto(`${cg.baseUrl}/t/demo/admin/users/new`);
      await page.getByLabel('Username').fill('pavel');
      await page.getByLabel('North clinic').selectOption('provider');
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('alert').filter({ hasText: /PHI/ }).first().waitFor();
      await expect(accounts().users.get('demo', 'pavel')).rejects.toThrow('does not exist');
    });

    it('invites a user by email; they accept the emailed link and choose a password', async () => {
      const { page } = admin;
      const before = smtp.received.length;
      await page.goto(`${cg.baseUrl}/t/demo/admin/users/new`);
      await page.getByLabel('Username').fill('ivy');
      await page.getByLabel('Email').fill('ivy@clinic.example');
      await page.getByLabel('Send an invitation (they choose a password)').check();
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('heading', { level: 1, name: 'ivy was added' }).waitFor();
      await page.getByText('An activation link was emailed to ivy@clinic.example.').waitFor();
      await checkScreen(page, 'users-invited');

      const arrived = () => smtp.received.slice(before).find((m) => m.to.includes('ivy@clinic.example'));
      while (!arrived()) await new Promise((resolve) => setTimeout(resolve, 25));
      const link = new RegExp(`${cg.baseUrl}/t/demo/invite/[A-Za-z0-9_-]{43}`).exec(decode(arrived()!.data))![0];
      const context = await browser.newContext();
      const invitee = await context.newPage();
      await invitee.goto(link);
      await invitee.fill('input[name="password"]', PASSWORD);
      await invitee.fill('input[name="confirm"]', PASSWORD);
      await invitee.click('form:has(input[name="confirm"]) button[type="submit"]');
      await invitee.getByRole('heading', { name: 'Account activated' }).waitFor();
      await context.close();
      expect((await accounts().users.get('demo', 'ivy')).status).toBe('active');
    });

    it('disables a user, then re-enables them', async () => {
      const { page } = admin;
      await openUser(page, 'ivy', 'ivy');
      await action(page, 'Disable', 'Disable this user');
      await page.getByText('ivy is disabled.').waitFor();
      expect((await accounts().users.get('demo', 'ivy')).status).toBe('disabled');
      await action(page, 'Enable', 'Enable this user');
      await page.getByText('ivy is enabled.').waitFor();
      expect((await accounts().users.get('demo', 'ivy')).status).toBe('active');
    });
  });

  describe('the tenant portal', () => {
    it('creates a user with a user type', async () => {
      const { page } = admin;
      await page.goto(`${cg.baseUrl}/t/demo/admin/users/new`);
      await page.getByLabel('Username').fill('nora');
      await page.getByLabel('User type').selectOption('nurse');
      await page.getByLabel('Set a password').check();
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('heading', { level: 1, name: 'nora was added' }).waitFor();
      expect((await accounts().users.get('demo', 'nora')).userType).toBe('nurse');
      await page.goto(`${cg.baseUrl}/t/demo/admin/users?userType=nurse`);
      await page.getByRole('link', { name: 'nora', exact: true }).waitFor();
    });

    it('unlocks a user locked by failed sign-ins', async () => {
      const agent = createAgent();
      let form = await agent.follow(await agent.get(`${cg.issuer()}/account`));
      for (let i = 0; i < 5; i++) {
        const { action: to, fields } = formOf(form);
        form = await agent.follow(await agent.postForm(to, { ...fields, username: 'nora', password: `wrong-password-${i}` }));
      }
      expect((await cg.runtime.security.state('demo', 'nora')).lock).toMatchObject({ locked: true });

      const { page } = admin;
      await openUser(page, 'nora', 'nora');
      await page.getByRole('tab', { name: 'Sign-in methods' }).click();
      await page.getByText(/yes, since/).waitFor();
      await action(page, 'Unlock', 'Unlock this account');
      await page.getByText('nora is unlocked.').waitFor();
      expect((await cg.runtime.security.state('demo', 'nora')).lock).toMatchObject({ locked: false });
    });

    it('sets a random password, shown once, which the user must change', async () => {
      const { page } = admin;
      await page.getByRole('button', { name: 'Actions' }).click();
      await page.getByRole('button', { name: 'Reset password' }).click();
      await page.getByLabel('Set a random password (shown once)').check();
      await page.getByRole('dialog').getByRole('button', { name: 'Reset password' }).click();
      const shown = await page.getByTestId('temporary-password').textContent();
      expect(shown).toMatch(/^[A-Za-z0-9_-]{20}$/);
      await checkScreen(page, 'user-temporary-password');
      await page.getByRole('button', { name: 'Done' }).click();
      expect((await cg.runtime.security.state('demo', 'nora')).mustChangePassword).toBe(true);
    });
  });

  describe('analytics', () => {
    let clientId: string;

    beforeAll(async () => {
      const app = await accounts().applications.create('demo', { name: 'Analytics', redirectUris: ['https://analytics.example/cb'], permissions: ['sales_report:read', 'claims_report:read', 'wait_report:read'] }, cli);
      clientId = app.client_id;
      await accounts().roles.create('demo', { key: 'analyst', name: 'Analyst', permissions: ['sales_report:read', 'claims_report:read', 'wait_report:read'] }, cli);
      for (const username of ['ana', 'ben']) await accounts().users.create('demo', { username, password: PASSWORD }, [], cli);
    });

    it('gives two users more than one role, then withholds one report from one of them', async () => {
      const { page } = admin;
      for (const username of ['ana', 'ben']) {
        await openUser(page, username, username);
        await page.getByRole('tab', { name: 'Roles and locations' }).click();
        for (const role of ['analyst', 'reporting_user']) {
          await page.getByLabel('Role', { exact: true }).selectOption(role);
          await page.getByRole('button', { name: 'Assign', exact: true }).click();
          await page.getByText('Role assigned.').waitFor();
          await page.getByRole('cell', { name: role, exact: true }).waitFor();
        }
      }
      await page.getByRole('tab', { name: 'Effective access' }).click();
      await page.getByLabel('Application').selectOption(clientId);
      const claims = page.getByRole('checkbox', { name: 'claims_report:read' });
      await claims.waitFor();
      expect(await claims.isChecked()).toBe(true);
      await claims.uncheck();
      await page.getByText('claims_report:read is now withheld from ben in Analytics.').waitFor();
      await checkScreen(page, 'user-effective-access-override');

      const ben = await accounts().accessRules.explain('demo', 'ben', clientId);
      const ana = await accounts().accessRules.explain('demo', 'ana', clientId);
      expect(ben.permissions.sort()).toEqual(['sales_report:read', 'wait_report:read']);
      expect(ana.permissions.sort()).toEqual(['claims_report:read', 'sales_report:read', 'wait_report:read']);
      expect(ben.roles.sort()).toEqual(['analyst', 'reporting_user']);

      // Ticking it again removes the override: the role gives it once more.
      await page.getByRole('checkbox', { name: 'claims_report:read' }).check();
      await page.getByText('claims_report:read is now given to ben in Analytics.').waitFor();
      expect((await accounts().accessRules.listOverrides('demo', 'ben')).length).toBe(0);
    });
  });

  it('someone without admin permissions who signs in is told so, and sees no data', async () => {
    const outsider = await signInToConsole(browser, cg.baseUrl, { username: 'ivy', password: PASSWORD, waitFor: 'h1' });
    await outsider.page.getByRole('heading', { level: 1, name: 'No administrative rights' }).waitFor();
    expect(await outsider.page.getByRole('navigation', { name: 'Sections' }).count()).toBe(0);
    await checkScreen(outsider.page, 'no-admin-rights');
    await outsider.close();
  });

  describe('a location manager', () => {
    let manager: ConsoleSession;

    beforeAll(async () => {
      await accounts().roles.create('demo', {
        key: 'location_manager', name: 'Location manager',
        permissions: ['caregate.users:read', 'caregate.users:create', 'caregate.users:edit', 'caregate.assignments:read', 'caregate.assignments:create', 'caregate.assignments:delete',
          'caregate.locations:read', 'caregate.roles:read', 'inventory:*', 'reports:read'],
      }, cli);
      await accounts().users.create('demo', { username: 'lena', givenName: 'Lena', password: PASSWORD }, [{ role: 'location_manager', scope: { type: 'location', key: 'north' } }], cli);
      await accounts().users.create('demo', { username: 'sam', password: PASSWORD }, [{ role: 'inventory', scope: { type: 'location', key: 'south' } }], cli);
      await accounts().users.create('demo', { username: 'nick', password: PASSWORD }, [{ role: 'inventory', scope: { type: 'location', key: 'north' } }], cli);
      manager = await signInToConsole(browser, cg.baseUrl, { username: 'lena', password: PASSWORD, at: '/users' });
    });

    afterAll(async () => manager?.close());

    it("sees only their clinic's people, and sections they may use", async () => {
      const { page } = manager;
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      await page.locator('tbody tr').first().waitFor();
      const names = await page.locator('tbody tr td:nth-child(2) a').allTextContents();
      expect(names.sort()).toEqual(['lena', 'nick', 'priya']);
      const sections = await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents();
      expect(sections).toEqual(['Start', 'Users', 'Roles', 'Locations', 'Access']);
      await checkScreen(page, 'location-manager-users');
      expect(manager.problems).toEqual([]);
    });

    it('adds a user at their clinic; a user elsewhere is out of reach', async () => {
      const { page } = manager;
      await page.getByRole('link', { name: 'Add user' }).click();
      await page.getByLabel('Username').fill('nell');
      await page.getByLabel('Set a password').check();
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('North clinic').selectOption('inventory');
      expect(await page.getByLabel('South clinic').count()).toBe(0);
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('heading', { level: 1, name: 'nell was added' }).waitFor();
      expect((await accounts().users.get('demo', 'nell')).assignments).toEqual([expect.objectContaining({ role: 'inventory', scope: { type: 'location', key: 'north' } })]);

      await page.goto(`${cg.baseUrl}/t/demo/admin/users/sam`);
      await page.getByText(/Could not load this user/).waitFor();
      expect(manager.problems).toEqual([]);
    });
  });
});
