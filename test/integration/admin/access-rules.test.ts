// Access beyond roles (seed 002): a report ticked or unticked for one person (per-user overrides,
// deny wins) and a role that follows another (derived roles, evaluated at token time, gone when
// the source goes); both in the tokens applications receive, in the explanation an administrator
// reads, and under the no-escalation rule.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { createAgent, signIn } from '../../support/browser-agent.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const REDIRECT = 'https://analytics.example/cb';

let cg: TestCaregate;
let api: AdminApi;
let analytics: { client_id: string; client_secret?: string };

const refused = (method: string, path: string, body?: unknown, token?: string) => leavesTenantUnchanged(cg, () => api.call(method, path, { body, token }));

const effective = async (user: string) => (await api.call('GET', `/users/${user}/effective-permissions?application=${analytics.client_id}`)).body;

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  analytics = await accounts.applications.create('demo', { name: 'Analytics', redirectUris: [REDIRECT], permissions: ['reports:read', 'reports:export', 'dashboards:read', 'patients:read'] }, cli);
  await accounts.locations.create('demo', { key: 'north', name: 'North' }, cli);
  await accounts.users.create('demo', { username: 'ana', password: PASSWORD }, [{ role: 'reporting_user' }], cli);
  await accounts.users.create('demo', { username: 'doc', password: PASSWORD, phiAccess: true }, [{ role: 'provider', scope: { type: 'location', key: 'north' } }], cli);
});

afterAll(async () => cg?.close());

describe('per-user overrides', () => {
  it('grants one permission beyond the roles and denies one the roles give (deny wins), in the explanation and in the token', async () => {
    expect((await api.call('PUT', '/users/ana/overrides', { body: { application: analytics.client_id, permission: 'reports:export', effect: 'grant' } })).status).toBe(200);
    expect((await api.call('PUT', '/users/ana/overrides', { body: { application: analytics.client_id, permission: 'reports:read', effect: 'deny' } })).status).toBe(200);
    const explained = await effective('ana');
    expect(explained.permissions).toEqual(['dashboards:read', 'reports:export']);
    expect(explained.overrides.map((o: { permission: string; effect: string }) => [o.permission, o.effect])).toEqual([['reports:export', 'grant'], ['reports:read', 'deny']]);

    const config = await oidc.discovery(new URL(cg.issuer()), analytics.client_id, analytics.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid roles', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const back = await signIn(createAgent(), url.href, 'ana', PASSWORD, REDIRECT);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
    expect(tokens.claims()!.permissions).toEqual(['dashboards:read', 'reports:export']);
  });

  it('removes an override (DELETE 204): the role\'s permission is back', async () => {
    const { body: overrides } = await api.call('GET', '/users/ana/overrides');
    const deny = overrides.find((o: { effect: string }) => o.effect === 'deny');
    expect((await api.call('DELETE', `/users/ana/overrides/${deny.id}`)).status).toBe(204);
    expect((await effective('ana')).permissions).toEqual(['dashboards:read', 'reports:export', 'reports:read']);
  });

  it('refuses a permission outside the application\'s catalogue (400), one the caller does not hold (403), and the caller\'s own (403)', async () => {
    expect((await refused('PUT', '/users/ana/overrides', { application: analytics.client_id, permission: 'billing:read', effect: 'grant' })).status).toBe(400);
    await cg.runtime.accounts.roles.create('demo', { key: 'report_admin', name: 'Report admin', permissions: ['caregate.assignments:create', 'caregate.users:read', 'reports:read'] }, cli);
    const client = await api.serviceClient('demo', ['report_admin']);
    const token = await api.token('demo', client);
    expect((await refused('PUT', '/users/ana/overrides', { application: analytics.client_id, permission: 'dashboards:read', effect: 'deny' }, token)).body.error).toBe('escalation_refused');
    expect((await refused('PUT', `/users/svc-${client.clientId}/overrides`, { application: analytics.client_id, permission: 'reports:read', effect: 'grant' }, token)).body.error).toBe('self_change_refused');
    expect((await api.call('PUT', '/users/ana/overrides', { token, body: { application: analytics.client_id, permission: 'reports:read', effect: 'deny' } })).status).toBe(200);
  });
});

describe('derived roles', () => {
  it('gives holders of a permission another role at the same scope, shown as derived; gone when the source goes', async () => {
    const created = await api.call('POST', '/derived-roles', { body: { sourcePermission: 'patients:read', targetRole: 'report_viewer' } });
    expect(created.status).toBe(201);
    const explained = await effective('doc');
    expect(explained.locations).toEqual({ north: ['provider', 'report_viewer'] });
    expect(explained.grants).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'report_viewer', scope: { type: 'location', key: 'north' }, via: 'derived' })]));
    expect((await api.call('GET', '/users/doc/assignments')).body).toHaveLength(1);
    const [assignment] = (await api.call('GET', '/users/doc/assignments')).body;
    await api.call('DELETE', `/assignments/${assignment.id}`);
    expect((await effective('doc')).locations).toEqual({});
  });

  it('refuses deriving a role the caller could not grant (403), and a role deriving itself (400)', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'role_keeper', name: 'Role keeper', permissions: ['caregate.roles:edit', 'reports:read'] }, cli);
    const token = await api.token('demo', await api.serviceClient('demo', ['role_keeper']));
    expect((await refused('POST', '/derived-roles', { sourceRole: 'report_viewer', targetRole: 'admin' }, token)).body.error).toBe('escalation_refused');
    expect((await refused('POST', '/derived-roles', { sourceRole: 'report_viewer', targetRole: 'report_viewer' })).status).toBe(400);
    expect((await api.call('POST', '/derived-roles', { token, body: { sourceRole: 'reporting_user', targetRole: 'report_viewer' } })).status).toBe(201);
  });
});
