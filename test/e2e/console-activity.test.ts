// The console's Activity log in Chromium. The clinic seed's part "filter the activity log by user
// and date range and export it": people and changes made through the admin API, a failed sign-in
// through the sign-in page, then the log filtered by user and by a date range in the tenant's zone
// (Pacific/Auckland, so a date read as UTC would miss), events read as sentences with before →
// after, older events loaded through the cursor, CSV and JSON Lines exports downloaded and read
// (and verified offline), the chain reported intact. Someone who reads the log only at a location
// sees only their users' events. Each screen is checked with axe and photographed.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { verifyAuditExport } from '../../src/audit/index.ts';
import { BOOTSTRAP_PASSWORD, startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../support/admin-api-client.ts';
import { checkScreen, haveChromium, launchBrowser, signInToConsole, type ConsoleSession } from '../support/console-browser.ts';

jest.setTimeout(240_000);

const PASSWORD = 'a-long-enough-password';
const ZONE = 'Pacific/Auckland';
/** A day in the tenant's zone, `days` from today, as a date input takes it. */
const dayInZone = (days = 0) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * 86_400_000));

/** The sentences the log shows, in order. */
const sentences = (page: Page) => page.locator('.activity-sentence').allTextContents();

async function filter(page: Page, values: Record<string, string>) {
  for (const [label, value] of Object.entries(values)) {
    const field = page.getByLabel(label, { exact: true });
    if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
  await page.getByRole('button', { name: 'Show activity' }).click();
}

(haveChromium ? describe : describe.skip)('console: Activity log', () => {
  let cg: TestCaregate;
  let api: AdminApi;
  let browser: Browser;
  let admin: ConsoleSession;
  let ninaId: string;

  beforeAll(async () => {
    cg = await startTestCaregate();
    api = await connectAdminApi(cg);
    const call = async (method: string, path: string, body?: unknown) => {
      const reply = await api.call(method, path, { body });
      expect([method, path, reply.status < 300]).toEqual([method, path, true]);
      return reply.body;
    };
    await call('PATCH', '/policy', { timeZone: ZONE });
    await call('POST', '/locations', { key: 'north', name: 'North clinic' });
    await call('POST', '/locations', { key: 'south', name: 'South clinic' });
    await call('POST', '/roles', { key: 'lead', name: 'Lead Therapist', permissions: ['reports:read'] });
    await call('POST', '/roles', { key: 'site_auditor', name: 'Site auditor', permissions: ['caregate.audit:read', 'caregate.users:read'] });
    ninaId = (await call('POST', '/users', { username: 'nina', givenName: 'Nina', password: PASSWORD, assignments: [{ role: 'lead', scope: { type: 'location', key: 'north' } }] })).id;
    await call('POST', '/users', { username: 'bob', password: PASSWORD, assignments: [{ role: 'lead', scope: { type: 'location', key: 'south' } }] });
    await call('POST', '/users', { username: 'grace', password: PASSWORD });
    await call('POST', '/users', { username: 'sally', password: PASSWORD, assignments: [{ role: 'site_auditor', scope: { type: 'location', key: 'north' } }] });
    await call('PATCH', '/users/nina', { email: 'nina@clinic.example', phiAccess: true });
    await call('POST', '/users/grace/disable');
    await call('POST', '/users/grace/enable');
    // More of nina's events than one page (50), for "Load older events"; an action the console has no words for.
    const tenantId = (await cg.runtime.accounts.tenants.findBySlug('demo'))!.id;
    for (let i = 0; i < 55; i += 1) await cg.runtime.audit.record({ tenantId, actor: { type: 'user', id: ninaId, ip: '198.51.100.4' }, action: 'chart.note.sign', target: { type: 'user', id: ninaId } });

    browser = await launchBrowser();
    // A wrong password for bob, through the ordinary sign-in page.
    const context = await browser.newContext();
    const signIn = await context.newPage();
    await signIn.goto(`${cg.baseUrl}/t/demo/admin`);
    await signIn.fill('input[name="username"]', 'bob');
    await signIn.fill('input[name="password"]', 'not-his-password');
    await signIn.click('form[action$="/login"] button[type="submit"]');
    await signIn.waitForSelector('input[name="username"]');
    await context.close();

    admin = await signInToConsole(browser, cg.baseUrl, { username: 'admin', password: BOOTSTRAP_PASSWORD, at: '/activity' });
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await cg?.close();
  });

  it('shows the log as sentences, newest first, with the chain verified', async () => {
    const { page } = admin;
    await page.getByRole('heading', { level: 1, name: 'Activity log' }).waitFor();
    await page.getByText(/Chain verified: [\d,]+ events, intact\./).waitFor();
    await page.locator('.activity-sentence').first().waitFor();
    const shown = await sentences(page);
    expect(shown[0]).toBe('admin signed in with password');
    await page.getByText(`Times are in ${ZONE}.`).waitFor();
    await checkScreen(page, 'activity-log');
    expect(admin.problems).toEqual([]);
  });

  it('filters by outcome: a failed sign-in reads with its address and reason', async () => {
    const { page } = admin;
    await filter(page, { Outcome: 'failure' });
    await page.getByText(/^Failed sign-in for bob from \S+ \(wrong password\)$/).waitFor();
    expect((await sentences(page)).every((s) => s.startsWith('Failed'))).toBe(true);
    await page.getByRole('button', { name: 'Clear filters' }).click();
  });

  it('filters by user and a date range in the tenant zone (kept in the address), and loads older events', async () => {
    const { page } = admin;
    await filter(page, { 'About user': 'nina', From: dayInZone(), To: dayInZone() });
    await page.getByRole('button', { name: 'Load older events' }).waitFor();
    expect(new URL(page.url()).search).toBe(`?user=nina&since=${dayInZone()}&until=${dayInZone()}`);
    let shown = await sentences(page);
    expect(shown).toHaveLength(50);
    expect(shown[0]).toBe('nina: chart note sign');
    await page.getByRole('button', { name: 'Load older events' }).click();
    await page.getByText('events shown — that is all').waitFor();
    // Focus moves to the first event loaded, so a keyboard user continues where the list grew.
    await expect(page.evaluate("document.activeElement?.querySelector('.activity-sentence')?.textContent")).resolves.toBe('nina: chart note sign');
    shown = await sentences(page);
    expect(shown.slice(-2)).toEqual(['The application svc admin changed nina\'s profile', 'The application svc admin added nina']);
    expect(shown.every((s) => s.includes('nina'))).toBe(true);

    // A range that ends yesterday (in Auckland) holds none of it.
    await filter(page, { To: dayInZone(-1), From: dayInZone(-1) });
    await page.getByRole('heading', { name: 'No activity matches' }).waitFor();
    // To before From is refused beside To, before asking the server.
    await filter(page, { From: dayInZone(), To: dayInZone(-1) });
    await page.getByText('To must be on or after From.').waitFor();
    expect(admin.problems).toEqual([]);
  });

  it('shows what an event changed, before → after, only the fields that differ', async () => {
    const { page } = admin;
    await page.goto(`${cg.baseUrl}/t/demo/admin/activity?user=nina&action=user.`);
    await page.getByText("The application svc admin changed nina's profile").waitFor();
    expect(await page.getByLabel('About user').inputValue()).toBe('nina');
    const event = page.locator('.activity-event', { hasText: "changed nina's profile" });
    await event.getByRole('button', { name: 'Show what changed' }).click();
    const table = event.getByRole('table');
    await table.waitFor();
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(rows).toEqual(expect.arrayContaining([['Email', '—', 'nina@clinic.example'], ['PHI access', 'No', 'Yes']]));
    expect(rows.map((r) => r[0])).not.toContain('Username');
    await expect(event.getByRole('button', { name: 'Hide details' }).getAttribute('aria-expanded')).resolves.toBe('true');
    await checkScreen(page, 'activity-event-expanded');
    expect(admin.problems).toEqual([]);
  });

  it('exports the filtered set as CSV and as JSON Lines, each verifying offline', async () => {
    const { page } = admin;
    await filter(page, { 'About user': 'nina', What: '', From: dayInZone(), To: dayInZone() });
    await page.locator('.activity-sentence').first().waitFor();

    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON Lines' }).click()]);
    expect(jsonl.suggestedFilename()).toMatch(/^activity-demo-\d{4}-\d{2}-\d{2}\.jsonl$/);
    const lines = readFileSync((await jsonl.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // Created, changed, and the 55 notes: what the screen listed.
    expect(lines).toHaveLength(57);
    expect(lines.every((e) => e.targetType === 'user' && e.targetId === ninaId)).toBe(true);
    expect(lines.map((e) => e.action)).toEqual(expect.arrayContaining(['user.create', 'user.update', 'chart.note.sign']));
    await expect(verifyAuditExport([readFileSync((await jsonl.path())!, 'utf8')])).resolves.toMatchObject({ ok: true, events: lines.length });
    await page.getByText('The filtered activity log was exported as JSON Lines.').waitFor();

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    const text = readFileSync((await csv.path())!, 'utf8');
    const [header, ...rows] = text.trim().split(/\r?\n/);
    expect(header).toMatch(/^seq,/);
    expect(rows).toHaveLength(lines.length);
    expect(text).toContain('user.create');
    await expect(verifyAuditExport([text])).resolves.toMatchObject({ ok: true, events: lines.length });

    // The exports are themselves in the log, in words.
    await filter(page, { 'About user': '', What: 'audit.export' });
    await page.getByText(/^admin exported the activity log as CSV \(user nina, since .+\)$/).waitFor();
    expect(admin.problems).toEqual([]);
  });

  it("arrives filtered from a user's page", async () => {
    const { page } = admin;
    await page.goto(`${cg.baseUrl}/t/demo/admin/users/grace`);
    await page.getByRole('tab', { name: 'Activity' }).click();
    await page.getByRole('link', { name: 'See all activity about grace' }).click();
    await page.getByRole('heading', { level: 1, name: 'Activity log' }).waitFor();
    await page.getByText('The application svc admin disabled grace').waitFor();
    expect(await sentences(page)).toEqual(['The application svc admin enabled grace', 'The application svc admin disabled grace', 'The application svc admin added grace']);
  });

  it('shows someone who reads the log only at a location just their users\' events, without the chain or export', async () => {
    const sally = await signInToConsole(browser, cg.baseUrl, { username: 'sally', password: PASSWORD, at: '/activity' });
    try {
      const { page } = sally;
      await page.getByRole('heading', { level: 1, name: 'Activity log' }).waitFor();
      await page.locator('.activity-sentence').first().waitFor();
      await page.getByRole('button', { name: 'Load older events' }).click();
      await page.getByText('events shown — that is all').waitFor();
      const shown = await sentences(page);
      expect(shown.some((s) => s.includes('nina'))).toBe(true);
      expect(shown.some((s) => s.includes('sally'))).toBe(true);
      expect(shown.filter((s) => /\b(bob|grace)\b/.test(s))).toEqual([]);
      expect(await page.getByText(/Chain verified/).count()).toBe(0);
      expect(await page.getByRole('button', { name: /^Export/ }).count()).toBe(0);
      await checkScreen(page, 'activity-log-scoped');
      expect(sally.problems).toEqual([]);
    } finally {
      await sally.close();
    }
  });
});
