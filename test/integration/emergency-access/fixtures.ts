// What the emergency access and elevation tests set up alike: the Rota application (its API's
// tokens are JWTs with the projected claims), the North location and the nursing roles; and a
// local receiver for the tenant's signed webhook.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestCaregate } from '../../support/caregate.ts';
import type { AppClient } from '../../support/app-tokens.ts';

const cli = { type: 'cli' as const, id: 'test' };

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
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hooks,
    async ofType(type) {
      for (let i = 0; i < 600; i++) {
        const found = hooks.map((h) => JSON.parse(h.body) as Record<string, unknown>).find((h) => h.type === type);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${type} webhook`);
    },
    close: () => server.close(),
  };
}
