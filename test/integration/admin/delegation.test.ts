// Temporary delegation ("Acting Manager"), end to end: a shift lead passes her role at North (or a
// part of it) to a colleague through the self-service API; the colleague's tokens carry it with
// `delegated_from` and stop at its end; she or an administrator ends it early. Every guard is
// tried as an attacker would, and a refused attempt changes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { appTokens, claimsOf, type AppClient } from '../../support/app-tokens.ts';
import { createAgent, signIn } from '../../support/browser-agent.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const CONSOLE_REDIRECT = 'https://console.example/cb';
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

let cg: TestCaregate;
let api: AdminApi;
let app: AppClient;
let consoleApp: { clientId: string; clientSecret: string };
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};

/** A person's admin API token (the self-service routes under /me take any signed-in person's). */
async function personalToken(username: string): Promise<string> {
  const config = await oidc.discovery(new URL(cg.issuer()), consoleApp.clientId, consoleApp.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CONSOLE_REDIRECT, scope: 'openid roles', state: 's', resource: api.url,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const back = await signIn(createAgent(), url.href, username, PASSWORD, CONSOLE_REDIRECT);
  return (await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' }, { resource: api.url })).access_token;
}

const as = (who: string) => ({
  call: (method: string, path: string, body?: unknown) => api.call(method, path, { token: tokens[who], body }),
  refused: (method: string, path: string, body?: unknown) => leavesTenantUnchanged(cg, () => api.call(method, path, { token: tokens[who], body })),
});

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  const c = await accounts.applications.create('demo', { name: 'Console', redirectUris: [CONSOLE_REDIRECT], grantTypes: ['authorization_code'], adminApi: true }, cli);
  consoleApp = { clientId: c.client_id, clientSecret: c.client_secret! };
  const rota = await accounts.applications.create('demo', {
    name: 'Rota', redirectUris: ['https://rota.example/cb'], grantTypes: ['authorization_code', 'refresh_token'], resource: 'https://rota.example/api',
    permissions: ['rota:read', 'rota:edit', 'staff:read'],
  }, cli);
  app = { ...rota, redirect: 'https://rota.example/cb', resource: 'https://rota.example/api' };
  await accounts.locations.create('demo', { key: 'north', name: 'North' }, cli);
  await accounts.locations.create('demo', { key: 'south', name: 'South' }, cli);
  await accounts.roles.create('demo', { key: 'shift_lead', name: 'Shift lead', permissions: ['rota:read', 'rota:edit', 'staff:read'] }, cli);
  await accounts.roles.create('demo', { key: 'rota_viewer', name: 'Rota viewer', permissions: ['rota:read'] }, cli);
  await accounts.roles.create('demo', { key: 'south_admin', name: 'South admin', permissions: ['caregate.assignments:create', 'caregate.assignments:read', 'caregate.assignments:delete', 'caregate.users:read', 'rota:read', 'rota:edit', 'staff:read'] }, cli);
  for (const [username, assignments] of [
    ['maria', [{ role: 'shift_lead', scope: { type: 'location', key: 'north' } }, { role: 'rota_viewer', expiresAt: inHours(24) }]],
    ['dave', [{ role: 'rota_viewer', scope: { type: 'location', key: 'north' } }]],
    ['eve', [{ role: 'rota_viewer', scope: { type: 'location', key: 'north' } }]],
    ['sam', [{ role: 'south_admin', scope: { type: 'location', key: 'south' } }]],
  ] as const) {
    ids[username] = (await accounts.users.create('demo', { username, password: PASSWORD }, [...assignments], cli)).id;
    tokens[username] = await personalToken(username);
  }
});

afterAll(async () => cg?.close());

/** Maria's assignment of `role`, as the self-service API lists it. */
async function mariasAssignment(role: string): Promise<{ id: string; expiresAt: string | null }> {
  const { body } = await as('maria').call('GET', '/me/delegable');
  return body.find((a: { role: string }) => a.role === role);
}

describe('delegating one\'s own role', () => {
  let delegation: { id: string };

  it('passes the whole role: the delegate\'s token carries it at North with delegated_from, capped at its end', async () => {
    const source = await mariasAssignment('shift_lead');
    const end = new Date(Date.now() + 10 * 60_000);
    const created = await as('maria').call('POST', '/me/delegations', { assignment: source.id, delegate: 'dave', expiresAt: end.toISOString(), reason: 'annual leave' });
    expect(created.status).toBe(201);
    delegation = created.body;
    expect(created.body).toMatchObject({ delegator: { username: 'maria' }, delegate: { username: 'dave' }, role: 'shift_lead', roleName: 'Shift lead', permissions: null, status: 'active' });

    const { tokens: t } = await appTokens(cg, app, 'dave', PASSWORD);
    const claims = claimsOf(t.access_token);
    expect(claims.locations).toEqual({ north: ['rota_viewer', 'shift_lead'] });
    expect(claims.delegated_from).toEqual({ shift_lead: [ids.maria] });
    expect(claims.exp).toBeLessThanOrEqual(Math.floor(end.getTime() / 1000));
    // Neither person's own roles changed.
    expect((await api.call('GET', '/users/dave/assignments')).body.filter((a: { origin: string }) => a.origin === 'manual')).toHaveLength(1);
    expect((await api.call('GET', '/users/maria/assignments')).body).toHaveLength(2);
    // Both see it.
    expect((await as('maria').call('GET', '/me/delegations')).body.given.map((d: { id: string }) => d.id)).toEqual([delegation.id]);
    expect((await as('dave').call('GET', '/me/delegations')).body.received.map((d: { id: string }) => d.id)).toEqual([delegation.id]);
    const audit = await api.call('GET', '/audit?action=delegation.create');
    expect(audit.body.events[0]).toMatchObject({ action: 'delegation.create', details: { delegator: 'maria', delegate: 'dave', reason: 'annual leave' } });
  });

  it('is ended early by the delegator: the next refresh no longer carries it, and it stays listed as ended', async () => {
    const { refresh } = await appTokens(cg, app, 'dave', PASSWORD);
    expect((await as('maria').call('DELETE', `/me/delegations/${delegation.id}`)).status).toBe(204);
    const after = claimsOf((await refresh()).access_token);
    expect(after.locations).toEqual({ north: ['rota_viewer'] });
    expect(after).not.toHaveProperty('delegated_from');
    expect((await api.call('GET', '/delegations?ended=true')).body.find((d: { id: string }) => d.id === delegation.id).status).toBe('ended');
    expect((await api.call('GET', '/audit?action=delegation.end')).body.events).toHaveLength(1);
  });

  it('passes only some permissions: the token carries them at North, not the role', async () => {
    const source = await mariasAssignment('shift_lead');
    const created = await as('maria').call('POST', '/me/delegations', { assignment: source.id, delegate: 'dave', expiresAt: inHours(2), permissions: ['rota:edit'] });
    expect(created.status).toBe(201);
    const claims = claimsOf((await appTokens(cg, app, 'dave', PASSWORD)).tokens.access_token);
    expect(claims.locations).toEqual({ north: ['rota_viewer'] });
    expect(claims.location_permissions).toEqual({ north: ['rota:edit', 'rota:read'] });
    expect(claims.delegated_from).toEqual({ 'rota:edit': [ids.maria] });
    // An administrator with the right at North ends it.
    expect((await api.call('DELETE', `/delegations/${created.body.id}`)).status).toBe(204);
  });

  it('ends with the delegated assignment: taking Maria\'s role away takes Dave\'s delegation with it', async () => {
    await cg.runtime.accounts.users.create('demo', { username: 'lena', password: PASSWORD }, [{ role: 'rota_viewer', scope: { type: 'location', key: 'north' } }], cli);
    const lenaSource = (await api.call('POST', '/users/lena/assignments', { body: { role: 'shift_lead', scope: { type: 'location', key: 'north' } } })).body;
    tokens.lena = await personalToken('lena');
    const created = await as('lena').call('POST', '/me/delegations', { assignment: lenaSource.id, delegate: 'dave', expiresAt: inHours(2) });
    expect(created.status).toBe(201);
    expect((await api.call('DELETE', `/assignments/${lenaSource.id}`)).status).toBe(204);
    expect((await api.call('GET', '/delegations?ended=true')).body.some((d: { id: string }) => d.id === created.body.id)).toBe(false);
    const ended = (await api.call('GET', '/audit?action=delegation.end')).body.events.find((e: { targetId: string }) => e.targetId === created.body.id);
    expect(ended).toMatchObject({ details: { reason: 'source_ended' } });
  });
});

describe('the guards, tried by an attacker', () => {
  it('refuses delegating someone else\'s assignment (404: it is not yours to see)', async () => {
    const source = await mariasAssignment('shift_lead');
    expect((await as('eve').refused('POST', '/me/delegations', { assignment: source.id, delegate: 'eve', expiresAt: inHours(1) })).status).toBe(404);
  });

  it('refuses delegating to oneself', async () => {
    const source = await mariasAssignment('shift_lead');
    const reply = await as('maria').refused('POST', '/me/delegations', { assignment: source.id, delegate: 'maria', expiresAt: inHours(1) });
    expect([reply.status, reply.body.error]).toEqual([403, 'delegation_refused']);
  });

  it('refuses re-delegating a delegation', async () => {
    const source = await mariasAssignment('shift_lead');
    const given = await as('maria').call('POST', '/me/delegations', { assignment: source.id, delegate: 'dave', expiresAt: inHours(1) });
    expect(given.status).toBe(201);
    const reply = await as('dave').refused('POST', '/me/delegations', { assignment: given.body.id, delegate: 'eve', expiresAt: inHours(1) });
    expect([reply.status, reply.body.error]).toEqual([403, 'delegation_refused']);
    // Not even an administrator may.
    expect((await leavesTenantUnchanged(cg, () => api.call('POST', '/delegations', { body: { assignment: given.body.id, delegate: 'eve', expiresAt: inHours(1) } }))).status).toBe(403);
    await as('maria').call('DELETE', `/me/delegations/${given.body.id}`);
  });

  it('refuses a delegation outlasting the delegated assignment', async () => {
    const source = await mariasAssignment('rota_viewer');
    expect(source.expiresAt).not.toBeNull();
    const reply = await as('maria').refused('POST', '/me/delegations', { assignment: source.id, delegate: 'dave', expiresAt: inHours(48) });
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body)).toMatch(/expiresAt/);
  });

  it('refuses passing on a permission the role does not carry', async () => {
    const source = await mariasAssignment('shift_lead');
    const reply = await as('maria').refused('POST', '/me/delegations', { assignment: source.id, delegate: 'dave', expiresAt: inHours(1), permissions: ['rota:edit', 'caregate.users:edit'] });
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
  });

  it('refuses a delegate outside the tenant', async () => {
    await cg.runtime.accounts.tenants.create({ slug: 'other', name: 'Other' }, cli);
    const outsider = await cg.runtime.accounts.users.create('other', { username: 'olga', password: PASSWORD }, [], cli);
    const source = await mariasAssignment('shift_lead');
    expect((await as('maria').refused('POST', '/me/delegations', { assignment: source.id, delegate: outsider.id, expiresAt: inHours(1) })).status).toBe(404);
  });

  it('refuses ending a delegation one did not give (the delegate and a bystander alike), leaving it running', async () => {
    const source = await mariasAssignment('shift_lead');
    const given = (await as('maria').call('POST', '/me/delegations', { assignment: source.id, delegate: 'dave', expiresAt: inHours(1) })).body;
    expect((await as('eve').refused('DELETE', `/me/delegations/${given.id}`)).status).toBe(404);
    expect((await as('dave').refused('DELETE', `/me/delegations/${given.id}`)).status).toBe(404);
    await as('maria').call('DELETE', `/me/delegations/${given.id}`);
  });

  it('refuses an administrator of another location: no delegation created, listed or ended at North', async () => {
    const source = await mariasAssignment('shift_lead');
    const reply = await as('sam').refused('POST', '/delegations', { assignment: source.id, delegate: 'dave', expiresAt: inHours(1) });
    expect(reply.status).toBe(403);
    const given = (await as('maria').call('POST', '/me/delegations', { assignment: source.id, delegate: 'dave', expiresAt: inHours(1) })).body;
    expect((await as('sam').call('GET', '/delegations')).body).toEqual([]);
    expect((await as('sam').refused('DELETE', `/delegations/${given.id}`)).status).toBe(403);
    await as('maria').call('DELETE', `/me/delegations/${given.id}`);
  });

  it('refuses an administrator who does not hold the role (no escalation)', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'north_clerk', name: 'North clerk', permissions: ['caregate.assignments:create', 'caregate.users:read', 'rota:read'] }, cli);
    const clerk = await api.serviceClient('demo', []);
    const svc = (await cg.runtime.accounts.applications.get('demo', clerk.clientId)) as { serviceUserId: string };
    await cg.runtime.accounts.assignments.assign('demo', { userId: svc.serviceUserId }, { role: 'north_clerk', scope: { type: 'location', key: 'north' } }, cli);
    const token = await api.token('demo', clerk);
    const source = await mariasAssignment('shift_lead');
    const reply = await leavesTenantUnchanged(cg, () => api.call('POST', '/delegations', { token, body: { assignment: source.id, delegate: 'dave', expiresAt: inHours(1) } }));
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
  });
});
