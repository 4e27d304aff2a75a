// The account page's access pages in a real Chromium: "Acting for a colleague" (delegating one of
// one's own roles, or part of it, for a range of days; ending it) and emergency access (break-glass
// with a reason; approving someone else's, as a rule's named approver, from the account page).
// Each page is checked with axe-core at desktop and 390 px and photographed; the forms are then
// used as a person would, and attacked as someone else would: without the form's CSRF token,
// ending another person's delegation, passing on an assignment that is not one's own.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, DESKTOP, haveChromium, launchBrowser } from '../support/console-browser.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password-for-tests';
const DAY_MS = 86_400_000;

(haveChromium ? describe : describe.skip)('the account page\'s access pages in Chromium', () => {
  let cg: TestCaregate;
  let browser: Browser;
  const ids: Record<string, string> = {};

  /** A fresh browser profile signed in as `username`, on `/t/demo/account{at}`. */
  async function signedIn(username: string, at: string): Promise<Page> {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    page.on('console', (m) => m.type() === 'error' && !/status of 4\d\d/.test(m.text()) && problems.push(m.text()));
    await page.goto(`${cg.issuer()}/account${at}`);
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('form[action$="/login"] button[type="submit"]');
    await page.waitForURL(`${cg.issuer()}/account${at}`);
    page.once('close', () => expect(problems).toEqual([]));
    return page;
  }

  const delegationsOf = async (username: string) => cg.runtime.accounts.delegations.mine('demo', { type: 'user', id: ids[username]! });
  const csrfOf = (page: Page) => page.locator('input[name="csrf"]').first().inputValue();
  const inDays = (n: number) => new Date(Date.now() + n * DAY_MS).toISOString().slice(0, 10);

  beforeAll(async () => {
    cg = await startTestCaregate();
    const { accounts, emergency } = cg.runtime;
    await accounts.locations.create('demo', { key: 'north', name: 'North clinic' }, cli);
    await accounts.roles.create('demo', { key: 'ward_manager', name: 'Ward manager', permissions: ['schedule:edit', 'schedule:approve', 'staff:read'] }, cli);
    await accounts.roles.create('demo', { key: 'on_call', name: 'On call', permissions: ['pager:read'] }, cli);
    await accounts.roles.create('demo', { key: 'er_physician', name: 'ER physician', permissions: ['chart:edit', 'chart:read'] }, cli);
    await accounts.roles.create('demo', { key: 'compliance', name: 'Compliance', permissions: ['caregate.access:review'] }, cli);
    const users: Array<[string, Array<{ role: string; scope?: { type: 'location'; key: string } }>]> = [
      ['nina', [{ role: 'ward_manager', scope: { type: 'location', key: 'north' } }, { role: 'on_call' }]],
      ['omar', []],
      ['rex', [{ role: 'compliance' }, { role: 'ward_manager' }]],
      // pia may take emergency access once ned approves; ned holds no role at all.
      ['pia', []],
      ['ned', []],
    ];
    for (const [username, roles] of users) ids[username] = (await accounts.users.create('demo', { username, password: PASSWORD, email: `${username}@clinic.example` }, roles, cli)).id;
    await emergency.createRule('demo', { key: 'er', role: 'er_physician', eligibleRoles: ['on_call'], minutes: 60, reviewerRole: 'compliance' }, cli);
    await emergency.createRule('demo', { key: 'second-pair', role: 'er_physician', eligibleUsers: ['pia'], minutes: 30, reviewerRole: 'compliance', approvalsRequired: 1, approvers: ['ned'] }, cli);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await cg?.close();
  });

  describe('acting for a colleague', () => {
    let page: Page;
    beforeAll(async () => {
      page = await signedIn('nina', '/delegations');
    });
    afterAll(async () => page?.close());

    it('shows what nina may pass on, accessibly at both widths', async () => {
      await expect(page.getByRole('heading', { level: 2, name: 'Let a colleague act for you' })).toBeTruthy();
      expect(await page.locator('form.delegate-form h3').allTextContents()).toEqual([expect.stringContaining('ward_manager'), expect.stringContaining('on_call')]);
      expect(await page.locator('form.delegate-form h3').first().textContent()).toContain('North clinic');
      await checkScreen(page, 'account-delegations');
    });

    it('passes on part of a role to omar until a day, shown on both sides; ending it ends it', async () => {
      const form = page.locator('form.delegate-form').first();
      await form.getByLabel('Colleague (username)').fill('omar');
      await form.getByLabel('Last day').fill(inDays(3));
      await form.locator('summary').click();
      await form.getByRole('checkbox', { name: 'schedule:approve' }).check();
      await form.getByLabel('Why (optional, kept in the record)').fill('annual leave');
      await form.getByRole('button', { name: 'Let them act for me' }).click();
      await page.getByRole('status').filter({ hasText: 'omar now acts for you' }).waitFor();
      const given = (await delegationsOf('nina')).given;
      expect(given).toEqual([expect.objectContaining({ delegate: expect.objectContaining({ username: 'omar' }), role: 'ward_manager', permissions: ['schedule:approve'], status: 'active' })]);
      // It ends at the end of the last day on the organisation's clock (UTC unless the policy says otherwise).
      expect(new Date(given[0]!.expiresAt!).toISOString()).toBe(`${inDays(4)}T00:00:00.000Z`);
      expect((await delegationsOf('omar')).received).toHaveLength(1);
      await checkScreen(page, 'account-delegations-given');

      await page.locator('#given').getByRole('button', { name: 'End now' }).click();
      await page.getByRole('status').filter({ hasText: 'The delegation has ended.' }).waitFor();
      expect((await delegationsOf('nina')).given.map((d) => d.status)).toEqual(['ended']);
    });

    it('says why when the colleague does not exist, and creates nothing', async () => {
      const before = (await delegationsOf('nina')).given.length;
      const form = page.locator('form.delegate-form').nth(1);
      await form.getByLabel('Colleague (username)').fill('nobody-here');
      await form.getByLabel('Last day').fill(inDays(2));
      await form.getByRole('button', { name: 'Let them act for me' }).click();
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').textContent()).toMatch(/nobody-here|does not exist|not found/i);
      expect((await delegationsOf('nina')).given).toHaveLength(before);
      await checkScreen(page, 'account-delegations-error');
    });

    it('refuses a form without its CSRF token (403), another person\'s delegation (404) and an assignment that is not hers, changing nothing', async () => {
      const request = page.context().request;
      const base = `${cg.issuer()}/account/delegations`;
      const rexAssignment = (await cg.runtime.storage.assignments.findOneByOrFail({ userId: ids.rex!, origin: 'manual' })).id;
      const theirs = await cg.runtime.accounts.delegations.create('demo', { assignment: rexAssignment, delegate: 'omar', expiresAt: new Date(Date.now() + DAY_MS) }, { type: 'user', id: ids.rex! }, { as: 'delegator' });
      const csrf = await csrfOf(page);

      const noToken = await request.post(base, { form: { assignment: rexAssignment, delegate: 'omar', lastDay: inDays(2) }, maxRedirects: 0 });
      expect(noToken.status()).toBe(403);
      const endTheirs = await request.post(`${base}/end`, { form: { csrf, delegation: theirs.id }, maxRedirects: 0 });
      expect(endTheirs.status()).toBe(404);
      const passTheirs = await request.post(base, { form: { csrf, assignment: rexAssignment, delegate: 'omar', lastDay: inDays(2) }, maxRedirects: 0 });
      expect(passTheirs.status()).toBeGreaterThanOrEqual(400);
      const garbage = await request.post(`${base}/end`, { form: { csrf, delegation: 'not-an-id' }, maxRedirects: 0 });
      expect(garbage.status()).toBe(404);

      expect((await delegationsOf('rex')).given.map((d) => d.status)).toEqual(['active']);
      expect((await delegationsOf('nina')).given.every((d) => d.status === 'ended')).toBe(true);
      expect((await delegationsOf('omar')).received.filter((d) => d.status === 'active').map((d) => d.delegator.username)).toEqual(['rex']);
    });
  });

  describe('emergency access', () => {
    it('asks for a reason and grants the access, accessibly at both widths', async () => {
      const page = await signedIn('nina', '/emergency');
      // People read the role's name, not its key.
      await page.getByRole('radio', { name: 'ER physician (tenant-wide), for 60 minutes' }).waitFor();
      await checkScreen(page, 'account-emergency');
      await page.getByLabel('Why do you need it? (required)').fill('Patient in ER, on-call physician unreachable');
      await page.getByRole('button', { name: 'Use emergency access now' }).click();
      await page.getByRole('status').filter({ hasText: 'You now hold ER physician (tenant-wide)' }).waitFor();
      expect(await cg.runtime.storage.assignments.countBy({ userId: ids.nina!, origin: 'break-glass' })).toBe(1);
      await checkScreen(page, 'account-emergency-granted');
      await page.close();
    });

    it('lists what waits for a named approver on their account page, accessibly at both widths; Approve grants it', async () => {
      const tenant = (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!;
      const pia = (await cg.runtime.storage.users.findOneBy({ id: ids.pia! }))!;
      const use = await cg.runtime.emergency.invoke(tenant, pia, { rule: 'second-pair', reason: 'Night shift, ER physician off sick' }, { at: new Date(), amr: ['pwd'] }, { type: 'user', id: pia.id });
      const page = await signedIn('ned', '');
      const item = page.locator('#approvals li').filter({ hasText: 'pia asks for ER physician (tenant-wide), for 30 minutes' });
      await item.waitFor();
      expect(await item.textContent()).toContain('Night shift, ER physician off sick');
      await checkScreen(page, 'account-approvals');
      await item.getByLabel('Note (optional, kept in the record)').fill('confirmed by phone');
      await item.getByRole('button', { name: 'Approve' }).click();
      await page.getByRole('status').filter({ hasText: 'You approved the emergency access. It has started' }).waitFor();
      expect(await cg.runtime.storage.assignments.countBy({ userId: ids.pia!, origin: 'break-glass' })).toBe(1);
      expect((await cg.runtime.emergency.listUses('demo')).find((u) => u.id === use.id)).toMatchObject({ status: 'granted' });
      expect(await page.locator('#approvals').textContent()).toContain('Nothing is waiting for you.');
      await checkScreen(page, 'account-approvals-done');
      await page.close();
    });

    it('tells someone no rule names that none is set up for them', async () => {
      const page = await signedIn('omar', '/emergency');
      expect(await page.locator('main').textContent()).toContain('No emergency access is set up for you');
      expect(await page.locator('form[action$="/emergency"]').count()).toBe(0);
      await page.close();
    });
  });
});
