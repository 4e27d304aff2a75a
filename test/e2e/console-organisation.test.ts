// The admin console's Institutions, Teams and Locations screens in Chromium, as an administrator
// clicks them — and the research-teams scenario: a team with permissions (a role given to the team
// at an institution), the Everyone team, a user in two teams and an institution, an invitation sent
// again, ownership transferred. The location tree: a region and a clinic below it, renamed, moved,
// deletion refused while something depends on it and done once empty. Each screen and a dialog are
// checked with axe-core at desktop and phone widths and photographed into test-output/console.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';

jest.setTimeout(180_000);

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

/** Clicks the nav entry `name` and waits for its heading. */
async function section(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** The success notice `text` appeared. */
const notice = (page: Page, text: string | RegExp) => page.getByRole('status').getByText(text).waitFor();

(haveChromium ? describe : describe.skip)('console: Institutions, Teams, Locations (research teams)', () => {
  let cg: TestCaregate;
  let browser: Browser;
  let admin: ConsoleSession;

  beforeAll(async () => {
    cg = await startTestCaregate();
    const { accounts } = cg.runtime;
    // Rita works with two teams at a research site; Ivy was invited and has not come yet; Olga is
    // an administrator everywhere, to whom the owner hands the organisation.
    await accounts.users.create('demo', { username: 'rita', password: PASSWORD, givenName: 'Rita', familyName: 'Levi' }, [], cli);
    await accounts.users.create('demo', { username: 'ivy', invite: true, givenName: 'Ivy', familyName: 'Chen' }, [], cli);
    await accounts.users.create('demo', { username: 'olga', password: PASSWORD, givenName: 'Olga', familyName: 'Berg' }, [{ role: 'admin', scope: { type: 'tenant' } }], cli);
    browser = await launchBrowser();
    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/institutions' });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
  });

  it('institutions: teaches when empty, adds, renames, deletes an empty one', async () => {
    const { page } = admin;
    await page.getByRole('heading', { level: 1, name: 'Institutions' }).waitFor();
    await page.getByRole('heading', { name: 'No institutions yet' }).waitFor();
    await checkScreen(page, 'institutions-empty');
    await page.getByRole('button', { name: 'Add your first institution' }).click();
    const add = page.getByRole('dialog', { name: 'Add an institution' });
    await add.getByLabel('Name').fill('Boston site');
    expect(await add.getByLabel('Key').inputValue()).toBe('boston-site');
    await checkScreen(page, 'institutions-add-dialog');
    await add.getByRole('button', { name: 'Add institution' }).click();
    await notice(page, 'Boston site was added.');
    await page.getByRole('button', { name: 'Add institution' }).click();
    await page.getByRole('dialog', { name: 'Add an institution' }).getByLabel('Name').fill('Temporary site');
    await page.getByRole('dialog', { name: 'Add an institution' }).getByRole('button', { name: 'Add institution' }).click();
    await page.getByRole('cell', { name: 'Temporary site', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Rename Boston site' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename Boston site' });
    await rename.getByLabel('New name').fill('Boston research site');
    await rename.getByRole('button', { name: 'Rename' }).click();
    await notice(page, 'Renamed to Boston research site.');
    await page.getByRole('cell', { name: 'boston-site', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Delete Temporary site' }).click();
    await page.getByRole('dialog', { name: 'Delete Temporary site?' }).getByRole('button', { name: 'Delete institution' }).click();
    await notice(page, 'Temporary site was deleted.');
    await page.getByRole('cell', { name: 'Temporary site', exact: true }).waitFor({ state: 'detached' });
    await checkScreen(page, 'institutions-list');
    expect(admin.problems).toEqual([]);
  });

  it('teams: the Everyone team marked (everyone a member, not deletable); a team with a role at the institution and two members', async () => {
    const { page } = admin;
    await section(page, 'Teams');
    await page.getByRole('cell', { name: /Everyone in the organisation is a member/ }).waitFor();
    await checkScreen(page, 'teams-list');

    await page.getByRole('link', { name: 'Everyone', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Everyone' }).waitFor();
    await page.getByText('everyone is a member; it cannot be deleted').waitFor();
    await page.getByRole('link', { name: 'rita', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Delete team' }).count()).toBe(0);
    expect(await page.getByLabel('Add a member by username').count()).toBe(0);
    await checkScreen(page, 'team-everyone');

    for (const name of ['Study coordinators', 'Data managers']) {
      await section(page, 'Teams');
      await page.getByRole('button', { name: 'Add team' }).click();
      const add = page.getByRole('dialog', { name: 'Add a team' });
      await add.getByLabel('Name').fill(name);
      await add.getByRole('button', { name: 'Add team' }).click();
      await page.getByRole('heading', { level: 1, name }).waitFor();
      await page.getByText(`${name} has no members yet.`).waitFor();
      await page.getByLabel('Add a member by username').fill('rita');
      await page.getByRole('button', { name: 'Add member' }).click();
      await notice(page, `rita is now in ${name}.`);
      await page.getByRole('link', { name: 'rita', exact: true }).waitFor();
    }

    // Data managers: an unknown username is refused beside the field; Rita is removed and added back.
    await page.getByLabel('Add a member by username').fill('nobody-here');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.locator('.field-error').getByText(/nobody-here/).waitFor();
    await page.getByRole('button', { name: 'Remove rita from Data managers' }).click();
    await page.getByRole('dialog', { name: 'Remove rita from Data managers?' }).getByRole('button', { name: 'Remove member' }).click();
    await notice(page, 'rita left Data managers.');
    await page.getByLabel('Add a member by username').fill('rita');
    await page.getByRole('button', { name: 'Add member' }).click();
    await notice(page, 'rita is now in Data managers.');

    // Study coordinators hold Report Viewer at the Boston research site.
    await section(page, 'Teams');
    await page.getByRole('link', { name: 'Study coordinators', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Study coordinators' }).waitFor();
    await page.getByText('Study coordinators holds no role yet.').waitFor();
    await page.getByLabel('Role', { exact: true }).selectOption('report_viewer');
    await page.getByLabel('Where').selectOption('institution:boston-site');
    await page.getByRole('button', { name: 'Assign role' }).click();
    await notice(page, /Study coordinators holds the role now/);
    await page.getByRole('cell', { name: 'Institution: Boston research site', exact: true }).waitFor();
    await checkScreen(page, 'team-page');

    // Take one away again: a tenant-wide role given and removed.
    await page.getByLabel('Role', { exact: true }).selectOption('customizer');
    await page.getByLabel('Where').selectOption('tenant');
    await page.getByRole('button', { name: 'Assign role' }).click();
    await page.getByRole('cell', { name: 'Everywhere', exact: true }).waitFor();
    await page.getByRole('button', { name: /^Take away Customizer \(Everywhere\)/ }).click();
    await page.getByRole('dialog', { name: 'Take this role away?' }).getByRole('button', { name: 'Take away' }).click();
    await notice(page, /no longer holds Customizer/);
    await page.getByRole('cell', { name: 'Everywhere', exact: true }).waitFor({ state: 'detached' });

    // Renamed; the key stays.
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('dialog', { name: 'Rename Study coordinators' }).getByLabel('New name').fill('Research coordinators');
    await page.getByRole('dialog', { name: 'Rename Study coordinators' }).getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { level: 1, name: 'Research coordinators' }).waitFor();
    expect(admin.problems).toEqual([]);
  });

  it("Rita's page: in two teams, and holding a role at the institution through one", async () => {
    const { page } = admin;
    await section(page, 'Users');
    await page.getByRole('link', { name: 'rita', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Rita Levi (rita)' }).waitFor();
    await page.getByRole('tab', { name: 'Teams' }).click();
    const teams = page.getByRole('tabpanel');
    for (const key of ['study-coordinators', 'data-managers', 'everyone']) await teams.getByRole('listitem').filter({ hasText: key }).waitFor();
    await page.getByRole('tab', { name: 'Effective access' }).click();
    const why = page.getByRole('table', { name: 'Why' });
    await why.getByRole('cell', { name: 'Institution: boston-site', exact: true }).waitFor();
    await why.getByRole('cell', { name: 'Through team study-coordinators' }).waitFor();
    expect(admin.problems).toEqual([]);
  });

  it('a team is deleted after confirming; its members stay', async () => {
    const { page } = admin;
    await section(page, 'Teams');
    await page.getByRole('link', { name: 'Data managers', exact: true }).click();
    await page.getByRole('button', { name: 'Delete team' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete Data managers?' });
    await confirm.getByText('Its members stay').waitFor();
    await confirm.getByRole('button', { name: 'Delete team' }).click();
    await page.getByRole('heading', { level: 1, name: 'Teams' }).waitFor();
    await page.getByRole('link', { name: 'Everyone', exact: true }).waitFor();
    expect(await page.getByRole('link', { name: 'Data managers', exact: true }).count()).toBe(0);
    expect(await cg.runtime.storage.users.findOneBy({ username: 'rita' })).not.toBeNull();
  });

  it('resends the invitation of an invited user from Actions', async () => {
    const { page } = admin;
    await section(page, 'Users');
    await page.getByRole('link', { name: 'ivy', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Ivy Chen (ivy)' }).waitFor();
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Resend invitation' }).click();
    await page.getByRole('dialog', { name: 'Resend the invitation?' }).getByRole('button', { name: 'Resend the invitation' }).click();
    await notice(page, 'The invitation was sent again.');
    expect(admin.problems).toEqual([]);
  });

  it('locations: teaches when empty; a region and a clinic below it, renamed, moved; deletion refused while not empty, then done', async () => {
    const { page } = admin;
    await section(page, 'Locations');
    await page.getByRole('heading', { name: 'No locations yet' }).waitFor();
    await page.getByText(/Add your first clinic/).first().waitFor();
    await checkScreen(page, 'locations-empty');

    await page.getByRole('button', { name: 'Add your first clinic' }).click();
    let add = page.getByRole('dialog', { name: 'Add a location' });
    await add.getByLabel('Name').fill('North region');
    await add.getByRole('button', { name: 'Add location' }).click();
    await notice(page, 'North region was added.');
    await page.getByRole('button', { name: 'Add below North region' }).click();
    add = page.getByRole('dialog', { name: 'Add a location below North region' });
    await add.getByLabel('Name').fill('Leeds clinic');
    await add.getByRole('button', { name: 'Add location' }).click();
    await notice(page, 'Leeds clinic was added.');
    await page.getByRole('button', { name: 'Add location' }).click();
    add = page.getByRole('dialog', { name: 'Add a location' });
    await add.getByLabel('Name').fill('South region');
    await add.getByLabel('Parent').selectOption('');
    await add.getByRole('button', { name: 'Add location' }).click();
    await notice(page, 'South region was added.');
    // The clinic is drawn below its region.
    await page.locator('ul.tree.root > li', { hasText: 'North region' }).locator('ul.tree').getByText('Leeds clinic').waitFor();

    await page.getByRole('button', { name: 'Rename Leeds clinic' }).click();
    await page.getByRole('dialog', { name: 'Rename Leeds clinic' }).getByLabel('New name').fill('Leeds General clinic');
    await page.getByRole('dialog', { name: 'Rename Leeds clinic' }).getByRole('button', { name: 'Rename' }).click();
    await notice(page, 'Renamed to Leeds General clinic.');

    // A region cannot move below itself: its own clinic is not offered.
    await page.getByRole('button', { name: 'Move North region' }).click();
    let move = page.getByRole('dialog', { name: 'Move North region' });
    // The choices are filled from the locations the dialog loads: wait for them, not for the box.
    await move.getByLabel('New parent').locator('option', { hasText: 'South region' }).waitFor({ state: 'attached' });
    const offered = await move.getByLabel('New parent').locator('option').allTextContents();
    expect(offered).toEqual(['Top level (no parent)', 'South region']);
    await move.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: 'Move Leeds General clinic' }).click();
    move = page.getByRole('dialog', { name: 'Move Leeds General clinic' });
    await move.getByLabel('New parent').selectOption('south-region');
    await checkScreen(page, 'locations-move-dialog');
    await move.getByRole('button', { name: 'Move' }).click();
    await notice(page, 'Leeds General clinic now lies below South region.');
    await page.locator('ul.tree.root > li', { hasText: 'South region' }).locator('ul.tree').getByText('Leeds General clinic').waitFor();
    await checkScreen(page, 'locations-tree');

    // Not empty: a location below it (explained at once), or a role held at it (the server says so).
    await page.getByRole('button', { name: 'Delete South region' }).click();
    const blocked = page.getByRole('dialog', { name: 'South region cannot be deleted' });
    await blocked.getByText('1 location lies below South region (Leeds General clinic). Move or delete it first.').waitFor();
    await blocked.getByRole('button', { name: 'Close' }).click();
    const rita = await cg.runtime.accounts.users.findUser('demo', 'rita');
    const held = await cg.runtime.accounts.assignments.assign('demo', { userId: rita.id }, { role: 'report_viewer', scope: { type: 'location', key: 'leeds-clinic' } }, cli);
    await page.getByRole('button', { name: 'Delete Leeds General clinic' }).click();
    let confirm = page.getByRole('dialog', { name: 'Delete Leeds General clinic?' });
    await confirm.getByRole('button', { name: 'Delete location' }).click();
    await confirm.getByRole('alert').getByText(/It cannot be deleted: .*1 role assignment at it; remove those roles first/).waitFor();
    await checkScreen(page, 'locations-delete-refused');
    await confirm.getByRole('button', { name: 'Close' }).click();
    await cg.runtime.accounts.assignments.remove('demo', held.id, cli);

    await page.getByRole('button', { name: 'Delete Leeds General clinic' }).click();
    confirm = page.getByRole('dialog', { name: 'Delete Leeds General clinic?' });
    await confirm.getByRole('button', { name: 'Delete location' }).click();
    await notice(page, 'Leeds General clinic was deleted.');
    // The notice comes before the tree has reloaded: until it has, South region still shows the
    // clinic below it, and deleting it would (rightly) be refused. Wait for the clinic to leave.
    await page.locator('ul.tree.root').getByText('Leeds General clinic').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Delete South region' }).click();
    const southDialog = page.getByRole('dialog', { name: 'Delete South region?' });
    await southDialog.getByRole('button', { name: 'Delete location' }).click();
    await notice(page, 'South region was deleted.');
    const tree = page.locator('ul.tree.root');
    await tree.getByText('South region').waitFor({ state: 'detached' });
    await tree.getByText('North region').waitFor();
    expect(admin.problems).toEqual([]);
  });

  it('a location manager sees and manages only their subtree: no top level, their own location neither moved nor deleted', async () => {
    const { accounts } = cg.runtime;
    await accounts.locations.create('demo', { key: 'york-clinic', name: 'York clinic', parent: 'north-region' }, cli);
    await accounts.locations.create('demo', { key: 'west-region', name: 'West region' }, cli);
    await accounts.roles.create('demo', { key: 'location_manager', name: 'Location manager', permissions: ['caregate.users:read', 'caregate.locations:*'] }, cli);
    await accounts.users.create('demo', { username: 'lena', password: PASSWORD }, [{ role: 'location_manager', scope: { type: 'location', key: 'north-region' } }], cli);
    const lena = await signInToConsole(browser, cg.baseUrl, { username: 'lena', password: PASSWORD, at: '/locations' });
    try {
      const { page } = lena;
      await page.getByRole('heading', { level: 1, name: 'Locations' }).waitFor();
      await page.getByText('2 locations within your scope').waitFor();
      const tree = page.locator('ul.tree.root');
      await tree.getByText('York clinic').waitFor();
      expect(await tree.getByText('West region').count()).toBe(0);
      for (const absent of ['Move North region', 'Delete North region']) expect(await page.getByRole('button', { name: absent }).count()).toBe(0);
      await page.getByRole('button', { name: 'Add location' }).click();
      const add = page.getByRole('dialog', { name: 'Add a location' });
      await add.getByLabel('Parent').locator('option', { hasText: 'York clinic' }).waitFor({ state: 'attached' });
      expect(await add.getByLabel('Parent').locator('option').allTextContents()).toEqual(['North region', 'North region › York clinic']);
      await add.getByLabel('Name').fill('York annex');
      await add.getByLabel('Parent').selectOption('york-clinic');
      await add.getByRole('button', { name: 'Add location' }).click();
      await notice(page, 'York annex was added.');
      await page.getByRole('button', { name: 'Move York annex' }).click();
      const move = page.getByRole('dialog', { name: 'Move York annex' });
      await move.getByLabel('New parent').locator('option', { hasText: 'York clinic' }).waitFor({ state: 'attached' });
      expect(await move.getByLabel('New parent').locator('option').allTextContents()).toEqual(['North region', 'North region › York clinic']);
      await move.getByLabel('New parent').selectOption('north-region');
      await move.getByRole('button', { name: 'Move' }).click();
      await notice(page, 'York annex now lies below North region.');
      await checkScreen(page, 'locations-manager');
      expect(lena.problems).toEqual([]);
    } finally {
      await lena.close();
    }
  });

  it('transfers ownership to another tenant-wide administrator (as the owner)', async () => {
    const { page } = admin;
    await section(page, 'Users');
    await page.getByRole('link', { name: 'olga', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Olga Berg (olga)' }).waitFor();
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Transfer ownership to this user' }).click();
    await page.getByRole('dialog', { name: 'Transfer ownership?' }).getByRole('button', { name: 'Transfer ownership' }).click();
    await notice(page, 'olga now owns this organisation.');
    await page.getByText('Owner of this organisation').waitFor();
    expect((await cg.runtime.storage.users.findOneBy({ username: 'olga' }))?.ownership).toBe('owner');
    expect(admin.problems).toEqual([]);
  });
});
