// The console's Directory screens in Chromium against a real OpenLDAP (test/support/slapd.ts), as an
// administrator clicks them: add an OpenLDAP source (its CA certificate uploaded as a file, a mapping
// rule), Test it, a dry run with its diff and nothing changed, then Sync now followed by the live
// progress bar to its result, and the people appear in Users. Skipped without slapd.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { connectAdminApi, type AdminApi } from '../support/admin-api-client.ts';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';
import { FIXTURE_USERS, GROUPS, NINA, OMAR, slapdAvailable, startSlapd, type TestSlapd } from '../support/slapd.ts';

jest.setTimeout(240_000);

const haveSlapd = slapdAvailable();
if (!haveSlapd) console.warn('Skipping the console Directory tests: no /usr/sbin/slapd or ldap-utils (apt-get install slapd ldap-utils).');

(haveChromium && haveSlapd ? describe : describe.skip)('console: Directory (OpenLDAP)', () => {
  let cg: TestCaregate;
  let adminApi: AdminApi;
  let ldap: TestSlapd;
  let browser: Browser;
  let admin: ConsoleSession;

  beforeAll(async () => {
    [cg, ldap] = await Promise.all([startTestCaregate(), startSlapd()]);
    adminApi = await connectAdminApi(cg);
    browser = await launchBrowser();
    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/directory' });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
    await ldap?.close();
  });

  it('teaches with an empty state, then adds an OpenLDAP source with its CA certificate file', async () => {
    const { page } = admin;
    await page.getByRole('heading', { level: 1, name: 'Directory' }).waitFor();
    await page.getByRole('heading', { name: 'No directory sources yet' }).waitFor();
    await checkScreen(page, 'directory-empty');
    await page.getByRole('link', { name: 'Add directory source' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add directory source' }).waitFor();

    await page.getByLabel('OpenLDAP').check();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Clinic LDAP');
    await expect(page.getByRole('textbox', { name: 'Key', exact: true }).inputValue()).resolves.toBe('clinic-ldap');
    await page.getByRole('textbox', { name: 'Server URLs' }).fill(ldap.url);
    await page.getByLabel('CA certificate (optional)').setInputFiles({ name: 'clinic-ca.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(ldap.caPem) });
    await page.getByText('clinic-ca.pem: 1 certificate read').waitFor();
    await page.getByRole('textbox', { name: 'Bind DN' }).fill(ldap.bindDn);
    await page.getByLabel('Bind password').fill(ldap.bindPassword);
    await page.getByRole('textbox', { name: 'Base DN for people' }).fill(ldap.peopleDn);
    await page.getByRole('textbox', { name: 'Base DN for groups' }).fill(ldap.groupsDn);
    await page.getByRole('button', { name: 'Add a rule' }).click();
    await page.getByLabel('Rule 1: equals').fill(GROUPS.reporting);
    await page.getByLabel('Rule 1: role').selectOption('report_viewer');
    await checkScreen(page, 'directory-add');
    await page.getByRole('button', { name: 'Add directory source' }).click();

    await page.getByRole('heading', { level: 1, name: 'Clinic LDAP' }).waitFor();
    const stored = (await adminApi.call('GET', '/directory-sources/clinic-ldap')).body;
    expect(stored).toMatchObject({ preset: 'openldap', urls: [ldap.url], bindDn: ldap.bindDn, baseDn: ldap.peopleDn, groupBaseDn: ldap.groupsDn, hasBindPassword: true,
      mappings: [{ claim: 'groups', equals: GROUPS.reporting, role: 'report_viewer' }] });
    expect(stored.caCertificates).toContain('BEGIN CERTIFICATE');
    expect(JSON.stringify(stored)).not.toContain(ldap.bindPassword);
    expect(admin.problems).toEqual([]);
  });

  it('Tests the source: each check passes against the live directory', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.getByRole('heading', { name: 'Test result: every check passed' }).waitFor();
    await page.locator('ul.checks li', { hasText: 'user search' }).getByText('Passed').waitFor();
    expect(admin.problems).toEqual([]);
  });

  it('a dry run shows its diff and changes nothing', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('region', { name: 'Sync' }).getByRole('status').filter({ hasText: `Dry run finished: ${FIXTURE_USERS.length} to create` }).waitFor();
    const diff = page.getByRole('table', { name: 'Dry run diff: nothing was changed' });
    await diff.waitFor();
    await diff.getByRole('cell', { name: NINA.uid }).waitFor();
    expect(await diff.locator('tbody tr').count()).toBe(FIXTURE_USERS.length);
    await checkScreen(page, 'directory-dry-run');
    const users = (await adminApi.call('GET', '/users')).body.map((u: { username: string }) => u.username);
    expect(users).not.toContain(NINA.uid);
    expect(admin.problems).toEqual([]);
  });

  it('Sync now follows the run with a progress bar to its result, and the people appear in Users', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Sync now' }).click();
    const bar = page.getByRole('progressbar', { name: 'Sync progress' });
    await bar.waitFor();
    await page.getByRole('region', { name: 'Sync' }).getByRole('status').filter({ hasText: `Sync finished: ${FIXTURE_USERS.length} created` }).waitFor();
    // Finished: the bar is full.
    const [value, max] = await Promise.all([bar.getAttribute('value'), bar.getAttribute('max')]);
    expect(value).toBe(max);
    await page.getByRole('heading', { name: /What the sync changed/ }).waitFor();
    await page.getByRole('button', { name: /^Show the sync of/ }).first().waitFor();
    await checkScreen(page, 'directory-source');

    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    for (const person of FIXTURE_USERS) await page.getByRole('link', { name: person.uid, exact: true }).waitFor();
    // The mapping rule gave Omar (in Reporting) the Report Viewer role.
    const omar = (await adminApi.call('GET', `/users/${OMAR.uid}`)).body;
    expect(omar.assignments.map((a: { role: string }) => a.role)).toContain('report_viewer');

    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Directory' }).click();
    await page.getByRole('link', { name: 'Clinic LDAP' }).waitFor();
    await page.getByRole('cell', { name: 'succeeded' }).waitFor();
    await checkScreen(page, 'directory-list');
    expect(admin.problems).toEqual([]);
  });

  it('deletes the source after the key is typed', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Clinic LDAP' }).click();
    await page.getByRole('heading', { level: 1, name: 'Clinic LDAP' }).waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Clinic LDAP?' });
    await expect(dialog.getByRole('button', { name: 'Delete directory source' }).isDisabled()).resolves.toBe(true);
    await dialog.getByLabel('Type clinic-ldap to confirm').fill('clinic-ldap');
    await dialog.getByRole('button', { name: 'Delete directory source' }).click();
    await page.getByText('Clinic LDAP was deleted.').waitFor();
    await page.getByRole('heading', { name: 'No directory sources yet' }).waitFor();
    expect((await adminApi.call('GET', '/directory-sources/clinic-ldap')).status).toBe(404);
    expect(admin.problems).toEqual([]);
  });
});
