// The admin console in a real Chromium (Debian's, driven by playwright-core), for the console's
// browser suites: sign a person in through the tenant's ordinary sign-in pages, check a screen with
// axe-core (no serious or critical violation), and write screenshots at desktop and phone widths
// into test-output/console/ (not committed) for a person to look at.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = path.join(ROOT, 'test-output', 'console');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'] });
}

export interface ConsoleSession {
  context: BrowserContext;
  page: Page;
  /** Script errors and CSP violations the page reported (a test expects none). */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Opens `/t/{tenant}/admin{at}` in a fresh browser profile and signs `username` in through the
 * sign-in page; resolves once the console shows its navigation. `viewport` defaults to desktop.
 */
export async function signInToConsole(browser: Browser, baseUrl: string, { tenant = 'demo', username, password, at = '', viewport = DESKTOP, waitFor = 'nav[aria-label="Sections"]' }: {
  tenant?: string; username: string; password: string; at?: string; viewport?: { width: number; height: number };
  /** What shows that the console has answered (its navigation, by default). */
  waitFor?: string;
}): Promise<ConsoleSession> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) problems.push(message.text());
  });
  if (process.env.DEBUG_CONSOLE) {
    page.on('response', async (r) => console.log('HTTP', r.status(), r.request().method(), r.url().slice(0, 120)));
    page.on('console', (m) => console.log('CONSOLE', m.type(), m.text()));
    page.on('pageerror', (e) => console.log('PAGEERROR', e.stack));
  }
  await page.goto(`${baseUrl}/t/${tenant}/admin${at}`);
  await page.waitForSelector('input[name="username"]');
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await page.click('form[action$="/login"] button[type="submit"]');
  await page.waitForSelector(waitFor);
  return { context, page, problems, close: () => context.close() };
}

/** Runs axe-core on the page as it is; fails listing each serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  // Evaluated through the debugging protocol: the page's CSP (rightly) refuses an injected script tag.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: { run(options: object): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect({ what, violations: serious }).toEqual({ what, violations: [] });
}

/** Writes `name`-desktop.png and `name`-phone.png (full page) of the page as it is now. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}

/** Checks a screen both ways: axe at desktop and phone widths, and screenshots of each. */
export async function checkScreen(page: Page, name: string): Promise<void> {
  await expectAccessible(page, `${name} (desktop)`);
  await screenshots(page, name);
  await page.setViewportSize(PHONE);
  await expectAccessible(page, `${name} (phone)`);
  // Nothing may need sideways scrolling at 390 px but tables, which scroll in their own box.
  const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect({ screen: name, overflow }).toEqual({ screen: name, overflow: 0 });
  await page.setViewportSize(DESKTOP);
}

/** Goes to a console path by clicking nothing (a deep link), and waits for its heading. */
export async function openScreen(page: Page, baseUrl: string, tenant: string, at: string, heading: string | RegExp): Promise<void> {
  if (process.env.DEBUG_CONSOLE) {
    page.on('response', async (r) => console.log('HTTP', r.status(), r.request().method(), r.url().slice(0, 120)));
    page.on('console', (m) => console.log('CONSOLE', m.type(), m.text()));
    page.on('pageerror', (e) => console.log('PAGEERROR', e.stack));
  }
  await page.goto(`${baseUrl}/t/${tenant}/admin${at}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}
