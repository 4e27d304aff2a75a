// The front door a newcomer meets after `npm start`: `/` sends them to the default tenant's landing
// page, which links to the account page and the admin console — pages that work — and names the
// issuer for developers. Checked in Chromium with axe at desktop and phone widths, and photographed.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { checkScreen, haveChromium, launchBrowser } from '../support/console-browser.ts';

jest.setTimeout(120_000);

let cg: TestCaregate;
beforeAll(async () => {
  cg = await startTestCaregate();
});
afterAll(async () => cg?.close());

describe('front door', () => {
  it('redirects / to the default tenant\'s landing page', async () => {
    const res = await fetch(`${cg.baseUrl}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/t/demo');
  });

  it('shows the tenant\'s landing page with a strict CSP and links that work', async () => {
    const res = await fetch(`${cg.baseUrl}/t/demo`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!).filter((href) => href.startsWith(cg.baseUrl));
    expect(links).toEqual([`${cg.baseUrl}/t/demo/account`, `${cg.baseUrl}/t/demo/admin`, `${cg.baseUrl}/t/demo/.well-known/openid-configuration`]);
    for (const link of links) {
      // The account page sends a visitor to sign in (a redirect), the others answer at once.
      const page = await fetch(link, { redirect: 'manual' });
      expect({ link, ok: page.status === 200 || (page.status >= 300 && page.status < 400) }).toEqual({ link, ok: true });
    }
  });

  it('answers 404 for a tenant that does not exist', async () => {
    const res = await fetch(`${cg.baseUrl}/t/nowhere`);
    expect(res.status).toBe(404);
  });
});

(haveChromium ? describe : describe.skip)('front door in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => browser?.close());

  it('is accessible at desktop and phone widths', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${cg.baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/t/demo');
    await page.getByRole('heading', { name: 'Welcome' }).waitFor();
    await checkScreen(page, 'front-door');
    await context.close();
  });
});
