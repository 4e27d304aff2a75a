// The admin console's Roles screens in Chromium, as an administrator clicks them: the list (holders,
// built-in roles, PHI), the clinic's custom role "Lead Therapist" made with the permission matrix
// (Patients R/C/E, Appointments R/C/E/D, Billing R, Notes C/E own only) against an application's
// catalogue registered through the admin API, and read back through that API; editing it; a parent's
// inherited permissions shown and one removed; a built-in role's deletion refused with the reason; a
// role still assigned deleted once its assignments are confirmed ended; derived roles added and
// removed. Each screen is checked with axe-core at desktop and phone widths and photographed.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../support/admin-api-client.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';

jest.setTimeout(240_000);

const PASSWORD = 'a-long-enough-password';
const CATALOGUE = [
  'patients:read', 'patients:create', 'patients:edit', 'patients:delete', 'patients:export',
  'appointments:read', 'appointments:create', 'appointments:edit', 'appointments:delete',
  'billing:read', 'billing:payments:create',
  'notes:read', 'notes:create', 'notes:edit', 'notes:delete',
];
const LEAD_THERAPIST = [
  'appointments:create', 'appointments:delete', 'appointments:edit', 'appointments:read',
  'billing:read', 'notes:create:own', 'notes:edit:own', 'patients:create', 'patients:edit', 'patients:read',
];

(haveChromium ? describe : describe.skip)('console: Roles', () => {
  let cg: TestCaregate;
  let api: AdminApi;
  let browser: Browser;
  let admin: ConsoleSession;

  beforeAll(async () => {
    cg = await startTestCaregate();
    api = await connectAdminApi(cg);
    // The clinic's EHR and its permission catalogue, registered as an administrator would through the admin API.
    const app = await api.call('POST', '/applications', { body: { name: 'Clinic EHR', redirectUris: ['https://ehr.clinic.example/callback'], permissions: CATALOGUE } });
    expect(app.status).toBe(201);
    browser = await launchBrowser();
    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/roles' });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
  });

  it('lists the roles with their holders, built-in roles marked and PHI shown', async () => {
    const { page } = admin;
    await page.getByRole('heading', { level: 1, name: 'Roles' }).waitFor();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Owner / Admin', exact: true }) });
    await row.getByText('Built-in').waitFor();
    const holders = Number(await row.locator('td.num').textContent());
    expect(holders).toBeGreaterThanOrEqual(1);
    const billing = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Billing', exact: true }) });
    await expect(billing.locator('.role-phi').textContent()).resolves.toBe('Yes');
    await checkScreen(page, 'roles-list');
    expect(admin.problems).toEqual([]);
  });

  it('creates "Lead Therapist" with the permission matrix, exactly as ticked', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Add role' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add role' }).waitFor();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Lead Therapist');
    expect(await page.getByRole('textbox', { name: 'Key', exact: true }).inputValue()).toBe('lead_therapist');
    await page.getByLabel('Description').fill('Runs the therapy team: patients, the schedule, their own notes');

    const matrix = page.getByRole('table', { name: 'Permissions in Clinic EHR' });
    const tick = (name: string) => matrix.getByRole('checkbox', { name, exact: true }).check();
    for (const action of ['Read', 'Create', 'Edit']) await tick(`Patients: ${action}`);
    for (const action of ['Read', 'Create', 'Edit', 'Delete']) await tick(`Appointments: ${action}`);
    await tick('Billing: Read');
    for (const action of ['Create', 'Edit']) {
      await tick(`Notes: ${action}`);
      await tick(`Notes: ${action}, own only`);
    }
    // The catalogue's custom action is a column of its own; Appointments offers no Export.
    await matrix.getByRole('columnheader', { name: 'Payments: create' }).waitFor();
    expect(await matrix.getByRole('checkbox', { name: 'Appointments: Export', exact: true }).count()).toBe(0);
    await checkScreen(page, 'role-editor');

    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('heading', { level: 1, name: 'Lead Therapist' }).waitFor();
    await page.getByText('Role Lead Therapist was created.').waitFor();
    const role = await api.call('GET', '/roles/lead_therapist');
    expect(role.status).toBe(200);
    expect([...role.body.permissions].sort()).toEqual(LEAD_THERAPIST);
    expect(role.body).toMatchObject({ name: 'Lead Therapist', builtin: false, requiresPhi: false, removedPermissions: [], holders: 0, effectivePermissions: LEAD_THERAPIST });
    expect(admin.problems).toEqual([]);
  });

  it('edits it: unticks one, makes it require PHI', async () => {
    const { page } = admin;
    const matrix = page.getByRole('table', { name: 'Permissions in Clinic EHR' });
    await expect(matrix.getByRole('checkbox', { name: 'Notes: Edit, own only' }).isChecked()).resolves.toBe(true);
    await matrix.getByRole('checkbox', { name: 'Appointments: Delete', exact: true }).uncheck();
    await page.getByLabel('Requires PHI access').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Role Lead Therapist was saved.').waitFor();
    const role = (await api.call('GET', '/roles/lead_therapist')).body;
    expect([...role.permissions].sort()).toEqual(LEAD_THERAPIST.filter((p) => p !== 'appointments:delete'));
    expect(role.requiresPhi).toBe(true);
    expect(admin.problems).toEqual([]);
  });

  it("shows a parent's permissions as inherited, and removes one of them from the child only", async () => {
    const { page } = admin;
    await page.goto(`${cg.baseUrl}/t/demo/admin/roles/new`);
    await page.getByRole('heading', { level: 1, name: 'Add role' }).waitFor();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Therapy Assistant');
    await page.getByLabel('Inherits from').selectOption('lead_therapist');
    const matrix = page.getByRole('table', { name: 'Permissions in Clinic EHR' });
    const inherited = matrix.getByRole('checkbox', { name: 'Patients: Edit (inherited)' });
    await expect(inherited.isChecked()).resolves.toBe(true);
    await expect(inherited.isDisabled()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Remove inherited patients:edit' }).click();
    await expect(matrix.getByRole('checkbox', { name: 'Patients: Edit', exact: true }).isChecked()).resolves.toBe(false);
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('heading', { level: 1, name: 'Therapy Assistant' }).waitFor();
    const role = (await api.call('GET', '/roles/therapy_assistant')).body;
    expect(role).toMatchObject({ permissions: [], removedPermissions: ['patients:edit'], requiresPhi: false });
    expect(role.effectivePermissions).not.toContain('patients:edit');
    expect(role.effectivePermissions).toContain('patients:read');
    // The child goes, so that its parent can be deleted below.
    expect((await api.call('DELETE', '/roles/therapy_assistant')).status).toBe(204);
  });

  it("shows why a built-in role cannot be deleted, and changes nothing", async () => {
    const { page } = admin;
    await page.goto(`${cg.baseUrl}/t/demo/admin/roles/billing`);
    await page.getByRole('heading', { level: 1, name: 'Billing' }).waitFor();
    await page.getByRole('button', { name: 'Delete role' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Billing?' });
    await dialog.getByRole('button', { name: /delete/i }).click();
    await dialog.getByRole('alert').filter({ hasText: 'built in: edit it instead of deleting it' }).waitFor();
    await checkScreen(page, 'role-delete-refused');
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect((await api.call('GET', '/roles/billing')).status).toBe(200);
    expect(admin.problems).toEqual([]);
  });

  it('deletes a role still assigned once the assignments it ends are confirmed', async () => {
    const { page } = admin;
    for (const username of ['tess', 'uma']) {
      const created = await api.call('POST', '/users', { body: { username, password: PASSWORD, phiAccess: true, assignments: [{ role: 'lead_therapist', scope: { type: 'tenant' } }] } });
      expect(created.status).toBe(201);
    }
    await page.goto(`${cg.baseUrl}/t/demo/admin/roles`);
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Lead Therapist', exact: true }) });
    await expect(row.locator('td.num').textContent()).resolves.toBe('2');
    await row.getByRole('link', { name: 'Lead Therapist' }).click();
    await page.getByRole('heading', { level: 1, name: 'Lead Therapist' }).waitFor();
    await page.getByRole('button', { name: 'Delete role' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Lead Therapist?' });
    await dialog.getByText('still assigned 2 times').waitFor();
    await dialog.getByRole('button', { name: 'End 2 assignments and delete' }).click();
    // The notice first: it shows for 8 seconds, from the moment the API answers.
    await page.getByText('Role Lead Therapist was deleted and its 2 assignments ended.').waitFor();
    await page.getByRole('heading', { level: 1, name: 'Roles' }).waitFor();
    expect((await api.call('GET', '/roles/lead_therapist')).status).toBe(404);
    expect((await api.call('GET', '/users/tess/assignments')).body).toEqual([]);
    expect(admin.problems).toEqual([]);
  });

  it('shows an escalation refusal beside the form: a role editor cannot give a role what they do not hold', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'role_editor', name: 'Role editor', permissions: ['caregate.roles:read', 'caregate.roles:edit', 'reports:read'] }, { type: 'cli', id: 'test' });
    expect((await api.call('POST', '/users', { body: { username: 'rhea', password: PASSWORD, assignments: [{ role: 'role_editor', scope: { type: 'tenant' } }] } })).status).toBe(201);
    const rhea = await signInToConsole(browser, cg.baseUrl, { username: 'rhea', password: PASSWORD, at: '/roles/report_viewer' });
    try {
      const { page } = rhea;
      await page.getByRole('heading', { level: 1, name: 'Report Viewer' }).waitFor();
      // Neither creating nor deleting roles is hers: those controls are not shown.
      expect(await page.getByRole('button', { name: 'Delete role' }).count()).toBe(0);
      await page.getByRole('checkbox', { name: 'Billing: Read', exact: true }).check();
      await page.getByRole('button', { name: 'Save changes' }).click();
      const refusal = page.locator('.form-refusal');
      await refusal.filter({ hasText: 'you cannot give role "report_viewer" permissions you do not hold' }).waitFor();
      await refusal.getByText('billing:read', { exact: true }).waitFor();
      expect((await api.call('GET', '/roles/report_viewer')).body.permissions).toEqual(['reports:read']);
      await page.goto(`${cg.baseUrl}/t/demo/admin/roles`);
      await page.getByRole('heading', { level: 1, name: 'Roles' }).waitFor();
      expect(await page.getByRole('link', { name: 'Add role' }).count()).toBe(0);
      expect(rhea.problems).toEqual([]);
    } finally {
      await rhea.close();
    }
  });

  it('adds and removes a derived role', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Derived roles' }).click();
    await page.getByRole('heading', { level: 1, name: 'Derived roles' }).waitFor();
    await page.getByText('No derived roles yet').waitFor();
    await page.getByLabel('Source role').selectOption('provider');
    await page.getByLabel('Also hold', { exact: true }).selectOption('report_viewer');
    await page.getByRole('button', { name: 'Add derived role' }).click();
    await page.getByText('Holders of Provider now also hold Report Viewer.').waitFor();
    const table = page.getByRole('table', { name: 'Derived roles' });
    await table.getByRole('cell', { name: 'role Provider' }).waitFor();
    expect((await api.call('GET', '/derived-roles')).body).toMatchObject([{ sourceRole: 'provider', targetRole: 'report_viewer' }]);

    // By permission, and a refusal beside the form: a role cannot derive itself.
    await page.getByLabel('Any role carrying a permission').check();
    await page.getByLabel('Source permission').fill('billing:read');
    await page.getByLabel('Also hold', { exact: true }).selectOption('billing_user');
    await page.getByRole('button', { name: 'Add derived role' }).click();
    await table.getByRole('cell', { name: 'a role with billing:read' }).waitFor();
    await page.getByLabel('A role', { exact: true }).check();
    await page.getByLabel('Source role').selectOption('inventory');
    await page.getByLabel('Also hold', { exact: true }).selectOption('inventory');
    await page.getByRole('button', { name: 'Add derived role' }).click();
    await page.locator('.field-error').filter({ hasText: 'a role cannot derive itself' }).waitFor();
    await checkScreen(page, 'roles-derived');

    await page.getByRole('button', { name: 'Remove: holders of Provider also hold Report Viewer' }).click();
    await page.getByRole('dialog', { name: 'Remove this derived role?' }).getByRole('button', { name: 'Remove derived role' }).click();
    await page.getByText('The derived role was removed.').waitFor();
    // The list reloads after the notice: wait for the row to go.
    await table.getByRole('cell', { name: 'role Provider' }).waitFor({ state: 'detached' });
    expect((await api.call('GET', '/derived-roles')).body).toMatchObject([{ sourcePermission: 'billing:read', targetRole: 'billing_user' }]);
    expect(admin.problems).toEqual([]);
  });
});
