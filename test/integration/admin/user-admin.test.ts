// Users as the products' administrators edit them: given and family name, username, account end
// date, user type from the tenant's list, custom profile attributes the tenant declares (typed and
// validated; some carried in tokens), a password the admin sets, and bulk actions on many users
// that succeed for all or change nobody.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { createAgent, signIn } from '../../support/browser-agent.ts';
import { leavesTenantUnchanged } from '../../support/tenant-state.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const REDIRECT = 'https://chart.example/cb';

let cg: TestCaregate;
let api: AdminApi;

const refused = (method: string, path: string, body?: unknown, token?: string) => leavesTenantUnchanged(cg, () => api.call(method, path, { body, token }));

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
});

afterAll(async () => cg?.close());

describe('the tenant\'s profile schema', () => {
  it('starts with the clinic product\'s user types and no attributes', async () => {
    const { body } = await api.call('GET', '/profile-schema');
    expect(body).toEqual({ userTypes: ['physician', 'non_physician_provider', 'nurse', 'clinical_staff', 'clerical_billing_staff', 'other'], attributes: [] });
  });

  it('declares typed attributes (PUT, validated whole, audited); a malformed declaration is 400 and changes nothing', async () => {
    const schema = {
      userTypes: ['physician', 'nurse', 'clerical_billing_staff'],
      attributes: [
        { key: 'npi', label: 'NPI', type: 'string', pattern: '[0-9]{10}', claim: true },
        { key: 'specialties', label: 'Specialties', type: 'list', values: ['cardiology', 'oncology', 'pediatrics'], claim: true },
        { key: 'licence_expires', label: 'Licence expires', type: 'date' },
      ],
    };
    expect((await api.call('PUT', '/profile-schema', { body: schema })).status).toBe(200);
    expect((await refused('PUT', '/profile-schema', { attributes: [{ key: 'x', label: 'X', type: 'colour' }] })).status).toBe(400);
    expect((await refused('PUT', '/profile-schema', { attributes: [{ key: 'x', label: 'X', type: 'date' }, { key: 'x', label: 'Y', type: 'date' }] })).status).toBe(400);
    const [event] = (await api.call('GET', '/audit?limit=1')).body.events;
    expect(event.action).toBe('tenant.profile.update');
  });
});

describe('adding and editing users', () => {
  it('creates a user with given and family name, a user type and attributes; the display name follows the names', async () => {
    const reply = await api.call('POST', '/users', { body: { username: 'dr.lee', password: PASSWORD, givenName: 'Ada', familyName: 'Lee', userType: 'physician', outsideVendor: false, attributes: { npi: '1234567890', specialties: ['cardiology'] } } });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ displayName: 'Ada Lee', givenName: 'Ada', familyName: 'Lee', userType: 'physician', attributes: { npi: '1234567890', specialties: ['cardiology'] } });
  });

  it.each([
    ['a user type the tenant does not list', { userType: 'astronaut' }, 'userType'],
    ['an attribute of the wrong format', { attributes: { npi: '12ab' } }, 'attributes.npi'],
    ['a value outside the list', { attributes: { specialties: ['astrology'] } }, 'attributes.specialties'],
    ['an undeclared attribute', { attributes: { shoe_size: 42 } }, 'attributes.shoe_size'],
    ['a malformed date', { attributes: { licence_expires: '31/12/2027' } }, 'attributes.licence_expires'],
  ])('refuses %s (400 naming the field), creating nobody', async (_, fields, field) => {
    const reply = await refused('POST', '/users', { username: 'someone', password: PASSWORD, ...fields });
    expect(reply.status).toBe(400);
    expect(reply.body.error_description).toContain(field);
  });

  it('edits username, names, end date and attributes (null removes one); a taken username is 409', async () => {
    await api.call('POST', '/users', { body: { username: 'nurse.kim', password: PASSWORD, userType: 'nurse' } });
    const end = '2027-06-30T00:00:00.000Z';
    const reply = await api.call('PATCH', '/users/dr.lee', { body: { username: 'ada.lee', familyName: 'Lee-Smith', expiresAt: end, attributes: { specialties: null, licence_expires: '2027-12-31' } } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ username: 'ada.lee', familyName: 'Lee-Smith', expiresAt: end, attributes: { npi: '1234567890', licence_expires: '2027-12-31' } });
    expect(reply.body.attributes).not.toHaveProperty('specialties');
    expect((await refused('PATCH', '/users/ada.lee', { username: 'NURSE.KIM' })).status).toBe(409);
  });

  it('shows one user with their roles and where, teams, second factors and status', async () => {
    await cg.runtime.accounts.locations.create('demo', { key: 'north', name: 'North' }, cli);
    await api.call('POST', '/users/nurse.kim/assignments', { body: { role: 'report_viewer', scope: { type: 'location', key: 'north' } } });
    const { body } = await api.call('GET', '/users/nurse.kim');
    expect(body).toMatchObject({ username: 'nurse.kim', status: 'active', userType: 'nurse', teams: ['everyone'], factors: [] });
    expect(body.assignments).toEqual([expect.objectContaining({ role: 'report_viewer', scope: { type: 'location', key: 'north' }, origin: 'manual' })]);
    expect(body).not.toHaveProperty('passwordHash');
  });

  it('sets the password an administrator chose (policy applies; must be changed by default), audited without it', async () => {
    expect((await refused('POST', '/users/nurse.kim/password/reset', { mode: 'set', password: 'short' })).status).toBe(400);
    expect((await refused('POST', '/users/nurse.kim/password/reset', { mode: 'set' })).status).toBe(400);
    const reply = await api.call('POST', '/users/nurse.kim/password/reset', { body: { mode: 'set', password: 'Chosen-by-the-admin-2026' } });
    expect(reply.body).toEqual({ set: true, mustChange: true });
    const [event] = (await api.call('GET', '/audit?limit=3')).body.events.filter((e: { action: string }) => e.action === 'user.password.set');
    expect(JSON.stringify(event)).not.toContain('Chosen-by-the-admin-2026');
  });
});

describe('tokens carry the profile', () => {
  it('has given_name, family_name, user_type, vendor and the attributes declared as claims under the profile scope', async () => {
    const app = await cg.runtime.accounts.applications.create('demo', { name: 'Chart', redirectUris: [REDIRECT] }, cli);
    await cg.runtime.accounts.users.create('demo', { username: 'vendor.vic', password: PASSWORD, givenName: 'Vic', familyName: 'Vendor', userType: 'clerical_billing_staff', outsideVendor: true, attributes: { npi: '9876543210', licence_expires: '2028-01-01' } }, [], cli);
    const config = await oidc.discovery(new URL(cg.issuer()), app.client_id, app.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const back = await signIn(createAgent(), url.href, 'vendor.vic', PASSWORD, REDIRECT);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
    expect(tokens.claims()).toMatchObject({ name: 'Vic Vendor', given_name: 'Vic', family_name: 'Vendor', user_type: 'clerical_billing_staff', vendor: true, attributes: { npi: '9876543210' } });
    expect(tokens.claims()!.attributes).not.toHaveProperty('licence_expires');
  });
});

describe('bulk actions', () => {
  const staff = ['bulk1', 'bulk2', 'bulk3', 'bulk4', 'bulk5'];
  beforeAll(async () => {
    for (const username of staff) await cg.runtime.accounts.users.create('demo', { username, password: PASSWORD }, [], cli);
  });

  it('assigns a role to five users in one request, and removes it again', async () => {
    const reply = await api.call('POST', '/users/bulk', { body: { action: 'assign', users: staff, role: 'report_viewer' } });
    expect([reply.status, reply.body]).toEqual([200, { action: 'assign', users: staff }]);
    for (const u of staff) expect((await api.call('GET', `/users/${u}/assignments`)).body).toHaveLength(1);
    expect((await api.call('POST', '/users/bulk', { body: { action: 'unassign', users: staff, role: 'report_viewer' } })).status).toBe(200);
    for (const u of staff) expect((await api.call('GET', `/users/${u}/assignments`)).body).toHaveLength(0);
  });

  it('changes nobody when one user fails: an unknown one, a PHI role for people without the flag, or the caller itself', async () => {
    expect((await refused('POST', '/users/bulk', { action: 'disable', users: [...staff, 'nobody'] })).status).toBe(404);
    expect((await refused('POST', '/users/bulk', { action: 'assign', users: staff, role: 'provider' })).status).toBe(422);
    const client = await api.serviceClient('demo', ['admin']);
    const token = await api.token('demo', client);
    const self = `svc-${client.clientId}`;
    const reply = await refused('POST', '/users/bulk', { action: 'disable', users: [...staff, self] }, token);
    expect([reply.status, reply.body.error]).toEqual([403, 'self_change_refused']);
  });

  it('disables and enables five users at once', async () => {
    expect((await api.call('POST', '/users/bulk', { body: { action: 'disable', users: staff } })).status).toBe(200);
    for (const u of staff) expect((await api.call('GET', `/users/${u}`)).body.status).toBe('disabled');
    expect((await api.call('POST', '/users/bulk', { body: { action: 'enable', users: staff } })).status).toBe(200);
  });
});
