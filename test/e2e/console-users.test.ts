// The admin console's Users screens in Chromium, as an administrator clicks them: the list with
// search, Add user (a generated password shown once), the user's page and its Actions. Each screen
// is checked with axe-core at desktop and phone widths, and photographed into test-output/console.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';

jest.setTimeout(180_000);

(haveChromium ? describe : describe.skip)('console: Users', () => {
  let cg: TestCaregate;
  let browser: Browser;
  let admin: ConsoleSession;

  beforeAll(async () => {
    cg = await startTestCaregate();
    browser = await launchBrowser();
    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/users' });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
  });

  it('lists the users, and the list passes axe at desktop and phone widths', async () => {
    const { page } = admin;
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByRole('link', { name: 'admin', exact: true }).waitFor();
    await checkScreen(page, 'users-list');
  });

  it('adds a user with a generated password shown once, then finds them by name', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Add user' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add user' }).waitFor();
    await checkScreen(page, 'users-add');
    await page.getByLabel('Given name').fill('Grace');
    await page.getByLabel('Family name').fill('Hopper');
    await page.getByLabel('Username').fill('grace');
    await page.getByLabel('Generate a password (shown once)').check();
    await page.getByLabel('Report Viewer').check();
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('heading', { level: 1, name: 'grace was added' }).waitFor();
    const password = await page.getByTestId('generated-password').textContent();
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);

    await page.getByRole('link', { name: 'Users', exact: true }).first().click();
    await page.getByLabel('Search').fill('Hopper');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'grace', exact: true }).waitFor();
    // The unfiltered list also shows grace: wait for the search result to replace it.
    await page.locator('tbody tr').nth(1).waitFor({ state: 'detached' });
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(admin.problems).toEqual([]);
  });

  it("shows the user's page with tabs, and disables and re-enables them from Actions", async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'grace', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Grace Hopper (grace)' }).waitFor();
    await checkScreen(page, 'user-profile');
    await page.getByRole('tab', { name: 'Roles and locations' }).click();
    await page.getByRole('cell', { name: 'report_viewer', exact: true }).waitFor();
    await page.getByRole('tab', { name: 'Effective access' }).click();
    await page.getByRole('table', { name: 'Why' }).waitFor();
    await checkScreen(page, 'user-access');

    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog', { name: 'Disable this user?' }).getByRole('button', { name: 'Disable this user' }).click();
    await page.getByText('grace is disabled.').waitFor();
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Enable this user' }).click();
    await page.getByText('grace is enabled.').waitFor();
    // The Activity tab tells it in sentences, as the activity log does.
    await page.getByRole('tab', { name: 'Activity' }).click();
    await page.getByRole('cell', { name: /disabled grace/ }).first().waitFor();
    await page.getByRole('cell', { name: /enabled grace/ }).first().waitFor();
    expect(admin.problems).toEqual([]);
  });
});
