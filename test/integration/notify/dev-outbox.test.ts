// The development outbox (/t/{tenant}/dev/outbox) lists reset links and sign-in codes that had no
// sender. It answers only the person at this machine: a loopback peer with no proxy header, and
// never once a real mail or SMS sender is configured.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';

const PROXY_HEADERS: Array<[string, string]> = [
  ['Forwarded', 'for=203.0.113.9;proto=https'],
  ['X-Forwarded-For', '203.0.113.9'],
  ['X-Forwarded-Host', 'id.example.org'],
  ['X-Forwarded-Proto', 'https'],
  ['X-Real-IP', '203.0.113.9'],
  ['Via', '1.1 proxy.example.org'],
];

const outboxOf = (cg: TestCaregate, headers: Record<string, string> = {}) => fetch(`${cg.issuer()}/dev/outbox`, { headers });

describe('with no sender configured', () => {
  let cg: TestCaregate;
  beforeAll(async () => {
    cg = await startTestCaregate();
    await cg.runtime.sender.send({ channel: 'email', to: 'ada@clinic.example', tenant: 'demo', subject: 'Reset your Demo Clinic password', text: 'Choose a new password here: …' });
  });
  afterAll(async () => cg?.close());

  it('lists the kept messages to a direct request from this machine, never cached', async () => {
    const res = await outboxOf(cg);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toContain('Reset your Demo Clinic password');
  });

  it.each(PROXY_HEADERS)('answers 404 to a request carrying %s, as one through a reverse proxy on this host does', async (name, value) => {
    const res = await outboxOf(cg, { [name]: value });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('Reset your Demo Clinic password');
  });
});

describe.each([
  ['an SMS webhook', { smsWebhookUrl: 'http://127.0.0.1:9/sms', smsWebhookSecret: 'sms-webhook-secret-for-tests' }],
  ['an SMTP server', { smtpUrl: 'smtp://127.0.0.1:9' }],
])('with %s configured', (_sender, overrides) => {
  let cg: TestCaregate;
  beforeAll(async () => {
    cg = await startTestCaregate({ overrides });
  });
  afterAll(async () => cg?.close());

  it('answers 404 even to a direct request from this machine', async () => {
    expect((await outboxOf(cg)).status).toBe(404);
  });
});
