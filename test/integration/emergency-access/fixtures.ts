// What the emergency access and elevation tests set up alike: Caregate mailing a real SMTP server,
// the Rota and EHR applications (their APIs' tokens are JWTs with the projected claims), the North
// location and the nursing roles; and a local receiver for the tenant's signed webhook.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import type { AppClient } from '../../support/app-tokens.ts';
import { startSmtpServer, type SmtpTestServer } from '../notify/smtp-test-server.ts';

const cli = { type: 'cli' as const, id: 'test' };

/** Caregate mailing a real SMTP server (plain: smtp-server's bundled STARTTLS certificate has expired), and its admin API. */
export async function startWithMail(): Promise<{ cg: TestCaregate; api: AdminApi; smtp: SmtpTestServer }> {
  const smtp = await startSmtpServer({ disabledCommands: ['STARTTLS'] });
  const cg = await startTestCaregate({ overrides: { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Caregate <no-reply@test.example>' } });
  return { cg, api: await connectAdminApi(cg), smtp };
}

/** The EHR application (chart:read, chart:edit), whose tokens the break-glass tests read. */
export async function setUpEhr(cg: TestCaregate): Promise<AppClient> {
  const app = await cg.runtime.accounts.applications.create('demo', {
    name: 'EHR', redirectUris: ['https://ehr.example/cb'], grantTypes: ['authorization_code', 'refresh_token'], resource: 'https://ehr.example/api', permissions: ['chart:read', 'chart:edit'],
  }, cli);
  return { ...app, redirect: 'https://ehr.example/cb', resource: 'https://ehr.example/api' };
}

/** The Rota application, location North, and the roles nurse and charge_nurse (rota:read, rota:edit). */
export async function setUpRota(cg: TestCaregate): Promise<AppClient> {
  const { accounts } = cg.runtime;
  const app = await accounts.applications.create('demo', {
    name: 'Rota', redirectUris: ['https://rota.example/cb'], grantTypes: ['authorization_code', 'refresh_token'], resource: 'https://rota.example/api', permissions: ['rota:read', 'rota:edit'],
  }, cli);
  await accounts.locations.create('demo', { key: 'north', name: 'North' }, cli);
  await accounts.roles.create('demo', { key: 'charge_nurse', name: 'Charge nurse', permissions: ['rota:read', 'rota:edit'] }, cli);
  await accounts.roles.create('demo', { key: 'nurse', name: 'Nurse', permissions: ['rota:read'] }, cli);
  return { ...app, redirect: 'https://rota.example/cb', resource: 'https://rota.example/api' };
}

export interface WebhookReceiver {
  url: string;
  hooks: Array<{ headers: IncomingHttpHeaders; body: string }>;
  /** The first webhook whose JSON body has this `type` (posted after the request answered, so waited for). */
  ofType(type: string): Promise<Record<string, unknown>>;
  /** The same webhook as it arrived: its headers and raw body (what a signature covers). */
  rawOfType(type: string): Promise<{ headers: IncomingHttpHeaders; body: string }>;
  close(): void;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const hooks: WebhookReceiver['hooks'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  async function rawOfType(type: string) {
    for (let i = 0; i < 600; i++) {
      const found = hooks.find((h) => (JSON.parse(h.body) as { type?: string }).type === type);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${type} webhook`);
  }
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hooks,
    ofType: async (type) => JSON.parse((await rawOfType(type)).body) as Record<string, unknown>,
    rawOfType,
    close: () => server.close(),
  };
}
