// Passkeys end to end in a real Chromium: views/assets/webauthn.js drives a CDP virtual
// authenticator (an internal, user-verifying platform authenticator with resident keys) against
// src/mfa/webauthn.ts behind a small Koa app. The tests run in order and share one passkey.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { DANA, startWebAuthnTestServer, type WebAuthnTestServer } from '../../support/webauthn-test-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`Skipping the passkey browser tests: no Chromium at ${CHROMIUM}.`);

interface Outcome {
  ok: boolean;
  userId?: string;
  credentialId?: string;
  newCounter?: number;
  userVerified?: boolean;
  record?: { credentialId: string; publicKey: string; counter: number; transports?: string[] };
}

(haveChromium ? describe : describe.skip)('passkeys in Chromium with a virtual authenticator', () => {
  let server: WebAuthnTestServer;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;

  beforeAll(async () => {
    server = await startWebAuthnTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    }));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Opens a passkey page, presses its button and reads the server's verdict from the next page. */
  async function ceremony(path: string, beforeSubmit?: () => Promise<void>): Promise<{ outcome: Outcome; flowId: string }> {
    await page.goto(server.origin + path);
    await beforeSubmit?.();
    await page.click('form[data-webauthn] button');
    const outcome = JSON.parse((await page.locator('#result').textContent())!) as Outcome;
    return { outcome, flowId: new URL(page.url()).pathname.split('/').pop()! };
  }

  const postAgain = (flowId: string, response: string) =>
    fetch(`${server.origin}/authenticate-flow/${flowId}`, { method: 'POST', body: new URLSearchParams({ response }) });

  it('registers a discoverable passkey and returns it as a PasskeyRecord', async () => {
    const { outcome, flowId } = await ceremony('/register/dana');
    expect(outcome.ok).toBe(true);
    const record = outcome.record!;
    expect(record.credentialId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(record.publicKey).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(record.transports).toEqual(['internal']);
    expect(server.passkeys.get(record.credentialId)).toMatchObject({ userId: DANA.id });

    // The script sent the attachment, transports and extension results along with the attestation.
    const sent = JSON.parse(server.posted.get(flowId)!);
    expect(sent).toMatchObject({ id: record.credentialId, rawId: record.credentialId, type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {} });
    expect(sent.response).toMatchObject({ transports: ['internal'], clientDataJSON: expect.any(String), attestationObject: expect.any(String) });

    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.isResidentCredential).toBe(true);
  });

  it("signs the user in with that passkey from a page that allows only the user's passkeys", async () => {
    const { outcome } = await ceremony('/authenticate/dana');
    const [passkey] = server.passkeys.values();
    expect(outcome).toEqual({ ok: true, userId: DANA.id, credentialId: passkey!.credentialId, newCounter: expect.any(Number), userVerified: true });
    expect(passkey!.counter).toBe(outcome.newCounter);
  });

  it('signs the user in without a username: an empty allow list, the discoverable passkey names its owner', async () => {
    const { outcome, flowId } = await ceremony('/authenticate');
    expect(outcome).toMatchObject({ ok: true, userId: DANA.id, userVerified: true });
    const sent = JSON.parse(server.posted.get(flowId)!);
    expect(Buffer.from(sent.response.userHandle, 'base64url').toString()).toBe(DANA.id);
  });

  it('refuses the same authentication response posted a second time, even where the counter would let it through', async () => {
    const [passkey] = server.passkeys.values();
    const counterBefore = passkey!.counter;
    const { outcome, flowId } = await ceremony('/authenticate/dana');
    expect(outcome.ok).toBe(true);
    const replay = server.posted.get(flowId)!;

    const again = await postAgain(flowId, replay);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('{&#34;ok&#34;:false}');
    // Synced passkeys report a counter of 0, so the spent challenge alone has to stop the replay.
    passkey!.counter = counterBefore;
    expect((await postAgain(flowId, replay)).status).toBe(400);
    const { flowId: fresh } = await server.startAuthentication(DANA.id);
    expect((await postAgain(fresh, replay)).status).toBe(400);
    passkey!.counter = outcome.newCounter!;
  });

  it("refuses a response signed for another flow's challenge", async () => {
    const other = await server.startAuthentication(DANA.id);
    // The page's own challenge is signed, but the response is posted to the other flow.
    const { outcome } = await ceremony('/authenticate/dana', () =>
      page.$eval('form[data-webauthn]', (form, action) => form.setAttribute('action', action), `/authenticate-flow/${other.flowId}`),
    );
    expect(outcome.ok).toBe(false);
  });

  it('refuses a passkey whose signature counter went backwards (a cloned authenticator)', async () => {
    const [passkey] = server.passkeys.values();
    const real = passkey!.counter;
    passkey!.counter = real + 1000;
    try {
      expect((await ceremony('/authenticate/dana')).outcome.ok).toBe(false);
    } finally {
      passkey!.counter = real;
    }
  });

  it('shows a readable error in the page when the device already holds a passkey for the account', async () => {
    await page.goto(`${server.origin}/register/dana`);
    await page.click('form[data-webauthn] button');
    const error = page.locator('[data-webauthn-error]');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('This device already holds a passkey for your account.');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.locator('form[data-webauthn] button').isEnabled()).toBe(true);
    expect(server.passkeys.size).toBe(1);
  });
});
