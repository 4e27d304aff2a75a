// The admin console's Applications screens in Chromium, as an administrator clicks them: register an
// OpenID Connect application and see its secret once (copied with the button), rotate the secret with
// an overlap (both secrets authenticate until it ends), register a SAML service provider from its
// metadata file, edit redirect URIs with a bad one (the error beside the field), delete with the name
// typed. Then the HRA seed scenario: three HRAs registered here; a marketer without PHI access given
// Customizer and Report Viewer for each on the Users screens, Raw Data Downloader refused with the
// reason shown, and an account expired after 90 days of inactivity re-enabled.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { SAML } from '@node-saml/node-saml';
import type { Browser, Page } from 'playwright-core';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';
import { selfSignedCertificate } from '../support/self-signed-certificate.ts';

jest.setTimeout(240_000);

const cli = { type: 'cli' as const, id: 'console-applications-setup' };
const PASSWORD = 'a-long-enough-password-for-the-console';
const LAB = 'https://lab.example/saml';

(haveChromium ? describe : describe.skip)('console: Applications', () => {
  let cg: TestCaregate;
  let browser: Browser;
  let admin: ConsoleSession;
  let dir: string;
  const accounts = () => cg.runtime.accounts;
  const appNamed = async (name: string) => (await accounts().applications.list('demo')).find((a) => a.name === name);

  /** Whether the tenant's issuer accepts these client credentials (RFC 7009 revocation answers 200 to an authenticated client). */
  async function authenticates(clientId: string, secret: string): Promise<boolean> {
    const res = await fetch(`${cg.issuer()}/token/revocation`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'no-such-token' }),
    });
    await res.arrayBuffer();
    return res.status === 200;
  }

  async function openApplications(page: Page) {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('heading', { level: 1, name: 'Applications' }).waitFor();
  }

  async function registerOidc(page: Page, name: string, redirectUri: string, permissions: string[]) {
    await openApplications(page);
    await page.getByRole('link', { name: 'Register an application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Register an application' }).waitFor();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
    await page.getByLabel('Redirect URI 1', { exact: true }).fill(redirectUri);
    for (const permission of permissions) {
      await page.getByLabel('New permission').fill(permission);
      await page.getByRole('button', { name: 'Add permission' }).click();
    }
    await page.getByRole('button', { name: 'Register application' }).click();
    return page.getByRole('dialog', { name: `${name}: client secret — shown once` });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-apps-'));
    cg = await startTestCaregate();
    browser = await launchBrowser();
    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/applications' });
    await admin.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: cg.baseUrl });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('registering and managing applications', () => {
    let chartId: string;
    let firstSecret: string;

    it('lists the applications with their kind, and the list passes axe at desktop and phone widths', async () => {
      const { page } = admin;
      await page.getByRole('heading', { level: 1, name: 'Applications' }).waitFor();
      await accounts().applications.create('demo', { name: 'Lab results', saml: { entityId: 'https://results.example/saml', acs: [{ url: 'https://results.example/acs', index: 0 }] } }, cli);
      await accounts().applications.create('demo', { name: 'Patient portal', redirectUris: ['https://portal.example/cb'], public: true }, cli);
      await page.reload();
      const table = page.getByRole('table', { name: 'Applications' });
      await table.waitFor();
      await expect(table.getByRole('row', { name: /Lab results/ }).textContent()).resolves.toContain('SAML');
      await expect(table.getByRole('row', { name: /Patient portal/ }).textContent()).resolves.toMatch(/OpenID Connect.*Public/);
      await checkScreen(page, 'applications-list');
      expect(admin.problems).toEqual([]);
    });

    it('registers an OIDC application: a bad permission is refused inline, and the client id and secret are shown once, with copy buttons', async () => {
      const { page } = admin;
      await page.getByRole('link', { name: 'Register an application' }).click();
      await page.getByRole('heading', { level: 1, name: 'Register an application' }).waitFor();
      await checkScreen(page, 'applications-register');
      await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Chart');
      await page.getByLabel('Redirect URI 1', { exact: true }).fill('https://chart.example/cb');
      await page.getByRole('button', { name: 'Add a post-logout URI' }).click();
      await page.getByLabel('Post-logout URI 1', { exact: true }).fill('https://chart.example/bye');
      await page.getByLabel('New permission').fill('Patients');
      await page.getByRole('button', { name: 'Add permission' }).click();
      await page.getByText('Must look like feature:action in lowercase').waitFor();
      await expect(page.getByLabel('New permission').getAttribute('aria-invalid')).resolves.toBe('true');
      for (const permission of ['patients:read', 'patients:edit', 'notes:edit:own']) {
        await page.getByLabel('New permission').fill(permission);
        await page.getByLabel('New permission').press('Enter');
      }
      await page.getByRole('button', { name: 'Remove patients:edit' }).click();
      await page.getByLabel('Require consent').check();
      await page.getByLabel('Back-channel logout URI').fill('https://chart.example/backchannel');
      await page.getByRole('button', { name: 'Register application' }).click();

      const dialog = page.getByRole('dialog', { name: 'Chart: client secret — shown once' });
      await dialog.waitFor();
      await dialog.getByText('Shown once — copy it now.').waitFor();
      chartId = (await dialog.getByTestId('client-id').textContent())!;
      firstSecret = (await dialog.getByTestId('client-secret').textContent())!;
      expect(firstSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await checkScreen(page, 'applications-secret');
      await dialog.getByRole('button', { name: 'Copy client secret' }).click();
      await page.getByText('Client secret copied.').waitFor();
      await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(firstSecret);

      const chart = await appNamed('Chart');
      expect(chart).toMatchObject({
        clientId: chartId, public: false, requireConsent: true, redirectUris: ['https://chart.example/cb'], postLogoutRedirectUris: ['https://chart.example/bye'],
        grantTypes: ['authorization_code', 'refresh_token'], permissions: ['patients:read', 'notes:edit:own'], backchannelLogoutUri: 'https://chart.example/backchannel',
      });
      await expect(authenticates(chartId, firstSecret)).resolves.toBe(true);

      await dialog.getByRole('button', { name: 'I have copied it' }).click();
      await page.getByRole('heading', { level: 1, name: 'Chart' }).waitFor();
      expect(page.url()).toContain(`/applications/${chartId}`);
      // Shown once: the application's page never shows it again.
      await expect(page.getByText(firstSecret).count()).resolves.toBe(0);
      expect(admin.problems).toEqual([]);
    });

    it("shows the application's page, and rotates the secret with an overlap: the new one shown once, the old one working until the time shown", async () => {
      const { page } = admin;
      await checkScreen(page, 'application-page');
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      const ask = page.getByRole('dialog', { name: 'Rotate the client secret?' });
      await ask.getByLabel('Overlap').selectOption({ label: '1 day' });
      await ask.getByRole('button', { name: 'Rotate secret' }).click();
      const shown = page.getByRole('dialog', { name: 'New client secret — shown once' });
      await shown.waitFor();
      const secret = (await shown.getByTestId('client-secret').textContent())!;
      expect(secret).not.toBe(firstSecret);
      await shown.getByText(/The previous secret keeps working until .+\(UTC\)/).waitFor();
      await expect(authenticates(chartId, secret)).resolves.toBe(true);
      await expect(authenticates(chartId, firstSecret)).resolves.toBe(true);
      const until = (await appNamed('Chart'))!.previousSecretExpiresAt!;
      expect(Math.abs(new Date(until).getTime() - Date.now() - 86_400_000)).toBeLessThan(120_000);
      await shown.getByRole('button', { name: 'I have copied it' }).click();
      await page.getByRole('tab', { name: 'Client ID and secret' }).click();
      await page.getByText(/Still works until/).waitFor();
      expect(admin.problems).toEqual([]);
    });

    it('edits the redirect URIs: a bad one is refused beside its field and nothing is saved; corrected, the list is replaced', async () => {
      const { page } = admin;
      await page.getByRole('tab', { name: 'Settings' }).click();
      await page.getByRole('button', { name: 'Add a redirect URI' }).click();
      await page.getByLabel('Redirect URI 2', { exact: true }).fill('http://chart.example/callback');
      await page.getByRole('button', { name: 'Save settings' }).click();
      const bad = page.getByLabel('Redirect URI 2', { exact: true });
      await bad.and(page.locator('[aria-invalid="true"]')).waitFor();
      const errorId = (await bad.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-error'))!;
      await expect(page.locator(`[id="${errorId}"]`).textContent()).resolves.toMatch(/must be an absolute https URL/);
      await expect(page.getByLabel('Redirect URI 1', { exact: true }).getAttribute('aria-invalid')).resolves.toBeNull();
      expect((await appNamed('Chart'))!.redirectUris).toEqual(['https://chart.example/cb']);

      await bad.fill('https://chart.example/callback');
      await page.getByRole('button', { name: 'Remove redirect URI 1' }).click();
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByText('Saved. The change applies from the next sign-in.').waitFor();
      expect((await appNamed('Chart'))!.redirectUris).toEqual(['https://chart.example/callback']);
      await expect(page.getByLabel('Redirect URI 1', { exact: true }).inputValue()).resolves.toBe('https://chart.example/callback');
      expect(admin.problems).toEqual([]);
    });

    it('registers a SAML service provider from its metadata file read in the browser, with a setting changed over it, and edits it', async () => {
      const { page } = admin;
      const [signing, encryption] = await Promise.all([selfSignedCertificate('lab-signing'), selfSignedCertificate('lab-encryption')]);
      const sp = new SAML({ issuer: LAB, callbackUrl: `${LAB}/acs`, logoutCallbackUrl: `${LAB}/slo`, idpCert: signing.cert, privateKey: signing.key, decryptionPvk: encryption.key });
      const file = join(dir, 'lab-sp-metadata.xml');
      writeFileSync(file, sp.generateServiceProviderMetadata(encryption.cert, signing.cert));

      await openApplications(page);
      await page.getByRole('link', { name: 'Register an application' }).click();
      await page.getByLabel('SAML service provider').check();
      await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Lab portal');
      await page.getByLabel('Metadata file (XML)').setInputFiles(file);
      await page.getByText('Read from lab-sp-metadata.xml.').waitFor();
      await expect(page.getByLabel('Entity ID').inputValue()).resolves.toBe(LAB);
      await expect(page.getByLabel('ACS URL 1', { exact: true }).inputValue()).resolves.toBe(`${LAB}/acs`);
      await expect(page.getByLabel('Require signed requests').isChecked()).resolves.toBe(true);
      // node-saml's metadata asks for email-address NameIDs; the form shows what the file says.
      await expect(page.getByLabel('NameID format').inputValue()).resolves.toBe('email');
      await page.getByLabel('Encrypt assertions').check();
      await page.getByRole('button', { name: 'Register application' }).click();
      const dialog = page.getByRole('dialog', { name: 'Lab portal is registered' });
      await dialog.waitFor();
      await expect(dialog.getByTestId('client-secret').count()).resolves.toBe(0);
      await dialog.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('heading', { level: 1, name: 'Lab portal' }).waitFor();
      expect(await appNamed('Lab portal')).toMatchObject({
        grantTypes: [], public: true, redirectUris: [],
        saml: { entityId: LAB, acs: [{ url: `${LAB}/acs`, isDefault: true }], encryptAssertion: true, requireSignedRequests: true, encryptionCertificate: encryption.body, nameIdFormat: 'email' },
      });

      // The SAML tab: PUT /applications/{id}/saml with the whole settings, edited.
      await page.getByRole('tab', { name: 'SAML' }).click();
      await page.getByLabel('NameID format').selectOption('transient');
      await page.getByLabel('ACS URL 1', { exact: true }).fill('http://lab.example/acs');
      await page.getByRole('button', { name: 'Save SAML settings' }).click();
      await page.getByLabel('ACS URL 1', { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor();
      await page.getByText(/must be https/).first().waitFor();
      await page.getByLabel('ACS URL 1', { exact: true }).fill(`${LAB}/acs2`);
      await page.getByRole('button', { name: 'Save SAML settings' }).click();
      await page.getByText('SAML settings saved.').waitFor();
      expect((await appNamed('Lab portal'))!.saml).toMatchObject({ nameIdFormat: 'transient', acs: [{ url: `${LAB}/acs2`, index: 0 }], encryptAssertion: true, signingCertificates: [signing.body] });
      // SAML-only: no "Remove SAML" (it would leave nothing); delete the application instead.
      await expect(page.getByRole('button', { name: 'Remove SAML' }).count()).resolves.toBe(0);
      expect(admin.problems).toEqual([]);
    });

    it('deletes an application only once its name is typed', async () => {
      const { page } = admin;
      await openApplications(page);
      await page.getByRole('link', { name: 'Chart', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Chart' }).waitFor();
      await page.getByRole('button', { name: 'Delete' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete this application?' });
      const confirm = dialog.getByRole('button', { name: 'Delete application' });
      await expect(confirm.isDisabled()).resolves.toBe(true);
      await dialog.getByLabel('Type Chart to confirm').fill('Char');
      await expect(confirm.isDisabled()).resolves.toBe(true);
      await dialog.getByLabel('Type Chart to confirm').fill('Chart');
      await confirm.click();
      await page.getByText('Chart was deleted.').waitFor();
      await page.getByRole('heading', { level: 1, name: 'Applications' }).waitFor();
      await expect(page.getByRole('link', { name: 'Chart', exact: true }).count()).resolves.toBe(0);
      expect(await appNamed('Chart')).toBeUndefined();
      await expect(authenticates(chartId, firstSecret)).resolves.toBe(false);
      expect(admin.problems).toEqual([]);
    });
  });

  describe('the HRA console', () => {
    const HRAS = ['HRA North', 'HRA South', 'HRA East'];

    it('registers the three HRAs', async () => {
      const { page } = admin;
      for (const name of HRAS) {
        const slug = name.split(' ')[1]!.toLowerCase();
        const dialog = await registerOidc(page, name, `https://hra-${slug}.example/callback`, ['studies:read', 'studies:edit', 'forms:*', 'reports:read', 'participants:read', 'participants:export']);
        await dialog.waitFor();
        await dialog.getByRole('button', { name: 'I have copied it' }).click();
        await page.getByRole('heading', { level: 1, name }).waitFor();
      }
      await openApplications(page);
      for (const name of HRAS) await page.getByRole('link', { name, exact: true }).waitFor();
      expect(admin.problems).toEqual([]);
    });

    it('adds a marketer without PHI access as Customizer and Report Viewer for each HRA; Raw Data Downloader is refused with the reason shown', async () => {
      const { page } = admin;
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
      await page.getByRole('link', { name: 'Add user' }).click();
      await page.getByRole('heading', { level: 1, name: 'Add user' }).waitFor();
      await page.getByLabel('Given name').fill('Mara');
      await page.getByLabel('Family name').fill('Keller');
      await page.getByLabel('Username').fill('mara');
      await page.getByLabel('Email').fill('mara@marketing.example');
      await page.getByLabel('Set a password').check();
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await expect(page.getByLabel('May access PHI (protected health information)').isChecked()).resolves.toBe(false);
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('heading', { level: 1, name: 'mara was added' }).waitFor();
      await page.getByRole('link', { name: 'Open their page' }).click();
      await page.getByRole('heading', { level: 1, name: 'Mara Keller (mara)' }).waitFor();
      await page.getByRole('tab', { name: 'Roles and locations' }).click();

      for (const hra of HRAS) {
        for (const role of ['customizer', 'report_viewer']) {
          await page.getByLabel('Role', { exact: true }).selectOption(role);
          await page.getByLabel('Where').selectOption({ label: `Application: ${hra}` });
          await page.getByRole('button', { name: 'Assign', exact: true }).click();
          await page.getByText('Role assigned.').waitFor();
          await page.getByRole('row', { name: new RegExp(`${role} Application: ${hra}`) }).waitFor();
        }
      }
      const mara = await accounts().users.get('demo', 'mara');
      expect(mara.phiAccess).toBe(false);
      expect(mara.assignments.map((a) => `${a.role}@${'name' in a.scope ? a.scope.name : ''}`).sort()).toEqual(
        HRAS.flatMap((h) => [`customizer@${h}`, `report_viewer@${h}`]).sort(),
      );

      // Raw Data Downloader requires PHI access, which mara does not have: refused, the reason beside the form.
      await page.getByLabel('Role', { exact: true }).selectOption('raw_data_downloader');
      await page.getByLabel('Where').selectOption({ label: 'Application: HRA North' });
      await page.getByRole('button', { name: 'Assign', exact: true }).click();
      await page.getByRole('tabpanel').getByText(/requires PHI access; user "mara" does not have the PHI flag/).waitFor();
      expect((await accounts().users.get('demo', 'mara')).assignments.some((a) => a.role === 'raw_data_downloader')).toBe(false);
      await checkScreen(page, 'hra-marketer-roles');
      expect(admin.problems).toEqual([]);
    });

    it('re-enables a user whose account expired after 90 days without use', async () => {
      const { page } = admin;
      await accounts().tenants.updatePolicy('demo', { accounts: { inactivityDays: 90 } }, cli);
      const olga = await accounts().users.create('demo', { username: 'olga', givenName: 'Olga', familyName: 'Brandt', password: PASSWORD }, [{ role: 'report_viewer' }], cli);
      await cg.runtime.storage.query(`UPDATE users SET created_at = now() - interval '200 days', last_login_at = now() - interval '91 days' WHERE id = $1`, [olga.id]);
      const expired = await cg.runtime.security.expireInactive('demo');
      expect(expired.map((a) => a.username)).toEqual(['olga']);

      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
      await page.getByLabel('Search').fill('olga');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: 'olga', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Olga Brandt (olga)' }).waitFor();
      await page.getByText('expired', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Actions' }).click();
      await page.getByRole('button', { name: 'Re-enable (expired)' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Enable this user' }).click();
      await page.getByText('olga is enabled.').waitFor();
      expect((await accounts().users.findUser('demo', 'olga')).status).toBe('active');
      // A new period starts: the next sweep leaves her alone.
      await expect(cg.runtime.security.expireInactive('demo')).resolves.toEqual([]);
      expect(admin.problems).toEqual([]);
    });
  });
});
