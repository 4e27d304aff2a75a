// The console's Sign-in & security and Identity providers screens in Chromium, as an administrator
// clicks them: the policy form (the lockout threshold and the time zone changed and saved, read
// back through GET /policy; someone who may only read the policy sees it disabled), "require
// two-step sign-in for the console" turned on and a fresh console sign-in then asking for a second
// step, and an OpenID Connect identity provider added against a live upstream and Tested.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { connectAdminApi, type AdminApi } from '../support/admin-api-client.ts';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';
import { startUpstreamOidc, type UpstreamOidc } from '../support/upstream-oidc.ts';

jest.setTimeout(180_000);

const cli = { type: 'cli' as const, id: 'console-security-setup' };
const READER_PASSWORD = 'policy-reader-password-1';

(haveChromium ? describe : describe.skip)('console: Sign-in & security, Identity providers', () => {
  let cg: TestCaregate;
  let adminApi: AdminApi;
  let browser: Browser;
  let admin: ConsoleSession;
  let upstream: UpstreamOidc;

  beforeAll(async () => {
    cg = await startTestCaregate();
    upstream = await startUpstreamOidc();
    adminApi = await connectAdminApi(cg);
    browser = await launchBrowser();
    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/security' });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
    await upstream?.stop();
  });

  it('shows the policy as a form, and saves the lockout threshold and the time zone', async () => {
    const { page } = admin;
    await page.getByRole('heading', { level: 1, name: 'Sign-in & security' }).waitFor();
    await checkScreen(page, 'security');
    await expect(page.getByLabel('Failed sign-ins before the account locks').inputValue()).resolves.toBe('5');

    // A value out of bounds is named beside its field, and nothing is sent.
    await page.getByLabel('Failed sign-ins before the account locks').fill('500');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Must be between 1 and 100 attempts.', { exact: true }).waitFor();
    expect((await adminApi.call('GET', '/policy')).body.lockout.threshold).toBe(5);

    await page.getByLabel('Failed sign-ins before the account locks').fill('7');
    await page.getByRole('combobox', { name: 'Time zone' }).selectOption('America/Chicago');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('The security policy was saved.').waitFor();
    const policy = (await adminApi.call('GET', '/policy')).body;
    expect(policy.lockout.threshold).toBe(7);
    expect(policy.timeZone).toBe('America/Chicago');
    // Only what changed was sent: the rest are still the defaults.
    expect(policy.sessions.idleSeconds).toBe(1800);
    expect(policy.mfa.console).toBe(false);

    // The form shows the saved values after a reload.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign-in & security' }).waitFor();
    await expect(page.getByLabel('Failed sign-ins before the account locks').inputValue()).resolves.toBe('7');
    await expect(page.getByRole('combobox', { name: 'Time zone' }).inputValue()).resolves.toBe('America/Chicago');
    expect(admin.problems).toEqual([]);
  });

  it('shows the policy read-only to someone who may only read it', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'policy_reader', name: 'Policy reader', permissions: ['caregate.policy:read'] }, cli);
    await cg.runtime.accounts.users.create('demo', { username: 'rita', givenName: 'Rita', password: READER_PASSWORD }, [{ role: 'policy_reader', scope: { type: 'tenant' } }], cli);
    const reader = await signInToConsole(browser, cg.baseUrl, { username: 'rita', password: READER_PASSWORD, at: '/security' });
    try {
      const { page } = reader;
      await page.getByRole('heading', { level: 1, name: 'Sign-in & security' }).waitFor();
      await page.getByText('You can read this policy').waitFor();
      await expect(page.getByLabel('Failed sign-ins before the account locks').isDisabled()).resolves.toBe(true);
      await expect(page.getByRole('combobox', { name: 'Time zone' }).isDisabled()).resolves.toBe(true);
      expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
      await checkScreen(page, 'security-read-only');
      expect(reader.problems).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  it('adds an OpenID Connect identity provider, shows the redirect URI to register, and Tests it', async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Identity providers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Identity providers' }).waitFor();
    await page.getByRole('heading', { name: 'No identity providers yet' }).waitFor();
    await checkScreen(page, 'identity-providers-empty');
    await page.getByRole('link', { name: 'Add identity provider' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add identity provider' }).waitFor();
    await page.getByLabel('Another OpenID Connect provider').check();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Northwell');
    await expect(page.getByRole('textbox', { name: 'Key', exact: true }).inputValue()).resolves.toBe('northwell');
    await page.getByRole('textbox', { name: 'Issuer URL' }).fill(upstream.issuer);
    await page.getByRole('textbox', { name: 'Client ID' }).fill('caregate-northwell');
    await page.getByLabel('Client secret', { exact: false }).fill('northwell-upstream-secret');
    await page.getByLabel('Email domains').fill('northwell.example');
    await page.getByRole('button', { name: 'Add a rule' }).click();
    await page.getByLabel('Rule 1: equals').fill('Reporting');
    await page.getByLabel('Rule 1: role').selectOption('report_viewer');
    await checkScreen(page, 'identity-providers-add');
    await page.getByRole('button', { name: 'Add identity provider' }).click();

    await page.getByRole('heading', { level: 1, name: 'Northwell' }).waitFor();
    const redirectUri = (await page.locator('.copy-value', { hasText: 'Redirect URI' }).locator('code').textContent())!;
    expect(redirectUri).toMatch(new RegExp(`^${cg.baseUrl}/.*northwell/callback$`));
    upstream.addClient({ client_id: 'caregate-northwell', client_secret: 'northwell-upstream-secret', redirect_uris: [redirectUri] });
    // The secret is never shown again, anywhere on the page.
    expect(await page.content()).not.toContain('northwell-upstream-secret');

    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.getByRole('heading', { name: 'Test result: every check passed' }).waitFor();
    await page.locator('ul.checks li', { hasText: 'discovery' }).getByText('Passed').waitFor();
    await checkScreen(page, 'identity-provider');

    const stored = (await adminApi.call('GET', '/connections/northwell')).body;
    expect(stored).toMatchObject({ type: 'oidc', preset: 'generic', issuer: upstream.issuer, clientId: 'caregate-northwell', domains: ['northwell.example'], mappings: [{ claim: 'groups', equals: 'Reporting', role: 'report_viewer' }] });
    expect(JSON.stringify(stored)).not.toContain('northwell-upstream-secret');

    // Disable it, from its page; then the list shows it disabled.
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('dialog', { name: 'Disable Northwell?' }).getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Northwell is disabled').waitFor();
    expect((await adminApi.call('GET', '/connections/northwell')).body.enabled).toBe(false);
    await page.getByRole('link', { name: 'Identity providers' }).first().click();
    await page.getByRole('link', { name: 'Northwell' }).waitFor();
    await checkScreen(page, 'identity-providers-list');
    expect(admin.problems).toEqual([]);
  });

  it('turns on two-step sign-in for the console; a fresh console sign-in then asks for a second step', async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sign-in & security' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign-in & security' }).waitFor();
    await page.getByLabel('Require two-step sign-in for the console').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('The security policy was saved.').waitFor();
    expect((await adminApi.call('GET', '/policy')).body.mfa).toMatchObject({ console: true, mode: 'optional' });

    const context = await browser.newContext();
    try {
      const fresh = await context.newPage();
      await fresh.goto(`${cg.baseUrl}/t/demo/admin`);
      await fresh.waitForSelector('input[name="username"]');
      await fresh.fill('input[name="username"]', 'admin');
      await fresh.fill('input[name="password"]', BOOTSTRAP_PASSWORD);
      await fresh.click('form[action$="/login"] button[type="submit"]');
      // The admin has no second factor yet: the sign-in sends them to set one up, not to the console.
      await fresh.getByRole('heading', { level: 1, name: 'Set up two-step sign-in' }).waitFor();
      expect(await fresh.locator('nav[aria-label="Sections"]').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
