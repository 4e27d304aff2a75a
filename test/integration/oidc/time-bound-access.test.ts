// Access that changes with the clock, end to end: an assignment with a weekly window is in the
// token only while the window is open, the access token issued inside it ends when it closes (or
// when the assignment ends), and a refresh after it closed no longer carries it. "Closing" is
// done without waiting: the window is built around the current minute in UTC and then the
// tenant's time zone moves to Tokyo, nine hours on, where the same wall-clock window is shut —
// exactly what the clock reaching its end would do. Conditional permissions reach the token's
// `constraints` claim and @caregate/client's can() enforces them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { can } from '../../../packages/client/src/can.ts';
import type { CaregateClaims } from '../../../packages/client/src/caregate-claims.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';
import { appTokens, claimsOf, type AppClient } from '../../support/app-tokens.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

let cg: TestCaregate;
let api: AdminApi;
let app: AppClient;

/** A window open from the previous minute for six minutes, on today's (UTC) weekday; wraps midnight as an overnight range. */
function windowAroundNow(): { window: Array<{ days: string[]; start: string; end: string }>; closesAt: Date } {
  const start = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
  const closesAt = new Date(start.getTime() + 6 * 60_000);
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  return { window: [{ days: [DAYS[(start.getUTCDay() + 6) % 7]!], start: hhmm(start), end: hhmm(closesAt) }], closesAt };
}

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  const { accounts } = cg.runtime;
  const created = await accounts.applications.create('demo', {
    name: 'Rota', redirectUris: ['https://rota.example/cb'], grantTypes: ['authorization_code', 'refresh_token'], resource: 'https://rota.example/api',
    permissions: ['rota:read', 'rota:edit', 'billing:charges:approve', 'billing:charges:read'],
  }, cli);
  app = { ...created, redirect: 'https://rota.example/cb', resource: 'https://rota.example/api' };
  await accounts.roles.create('demo', { key: 'rota_reader', name: 'Rota reader', permissions: ['rota:read'] }, cli);
  await accounts.roles.create('demo', { key: 'rota_editor', name: 'Rota editor', permissions: ['rota:read', 'rota:edit'] }, cli);
  await accounts.users.create('demo', { username: 'nora', password: PASSWORD }, [{ role: 'rota_reader' }], cli);
  await accounts.users.create('demo', { username: 'bill', password: PASSWORD }, [], cli);
  await api.call('PATCH', '/policy', { body: { timeZone: 'UTC' } });
});

afterAll(async () => cg?.close());

describe('a weekly window on an assignment', () => {
  it('is in the token while open, caps the access token at its close, and is gone at the refresh after it closed', async () => {
    const { window, closesAt } = windowAroundNow();
    const assigned = await api.call('POST', '/users/nora/assignments', { body: { role: 'rota_editor', timeWindow: window } });
    expect(assigned.status).toBe(201);
    expect(assigned.body.timeWindow).toEqual(window);

    const { tokens, refresh } = await appTokens(cg, app, 'nora', PASSWORD);
    const first = claimsOf(tokens.access_token);
    expect(first.roles).toEqual(['rota_editor', 'rota_reader']);
    expect(first.permissions).toEqual(['rota:edit', 'rota:read']);
    // Capped at the window's close, well under the configured 900 s.
    expect(first.exp).toBeLessThanOrEqual(closesAt.getTime() / 1000);
    expect(first.exp).toBeGreaterThan(first.iat);
    expect(tokens.expires_in).toBeLessThanOrEqual(closesAt.getTime() / 1000 - first.iat);

    // Still open: a refresh carries it and is capped the same.
    const open = await refresh();
    expect(claimsOf(open.access_token).roles).toEqual(['rota_editor', 'rota_reader']);
    expect(claimsOf(open.access_token).exp).toBeLessThanOrEqual(closesAt.getTime() / 1000);

    // The clock moves past the window (the tenant's wall clock is now Tokyo's, 9 hours on).
    expect((await api.call('PATCH', '/policy', { body: { timeZone: 'Asia/Tokyo' } })).status).toBe(200);
    const closed = await refresh(open.refresh_token);
    const after = claimsOf(closed.access_token);
    expect(after.roles).toEqual(['rota_reader']);
    expect(after.permissions).toEqual(['rota:read']);
    // Nothing windowed shaped it: the full configured lifetime.
    expect(after.exp - after.iat).toBe(900);
    await api.call('PATCH', '/policy', { body: { timeZone: 'UTC' } });
  });

  it('refuses a malformed window, naming the field', async () => {
    const bad = await api.call('POST', '/users/nora/assignments', { body: { role: 'rota_editor', timeWindow: [{ days: ['someday'], start: '9am', end: '17:00' }] } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/timeWindow/);
  });
});

describe('an assignment ending soon', () => {
  it('caps the access token at the assignment\'s end', async () => {
    const end = new Date(Date.now() + 120_000);
    await api.call('POST', '/users/bill/assignments', { body: { role: 'rota_reader', expiresAt: end.toISOString() } });
    const { tokens } = await appTokens(cg, app, 'bill', PASSWORD);
    const claims = claimsOf(tokens.access_token);
    expect(claims.roles).toEqual(['rota_reader']);
    expect(claims.exp).toBeLessThanOrEqual(Math.floor(end.getTime() / 1000));
  });
});

describe('conditional permissions', () => {
  it('puts a role\'s limit in the constraints claim, and can() enforces it', async () => {
    const created = await api.call('POST', '/roles', {
      body: { key: 'charge_approver', name: 'Charge approver', permissions: ['billing:charges:approve', 'billing:charges:read'], constraints: { 'billing:charges:approve': { maxAmount: 500 } } },
    });
    expect(created.status).toBe(201);
    expect(created.body.constraints).toEqual({ 'billing:charges:approve': { maxAmount: 500 } });
    await cg.runtime.accounts.users.create('demo', { username: 'carla', password: PASSWORD }, [{ role: 'charge_approver' }], cli);
    const { tokens, refresh } = await appTokens(cg, app, 'carla', PASSWORD);
    const claims = claimsOf(tokens.access_token) as CaregateClaims;
    expect(claims.constraints).toEqual({ 'billing:charges:approve': { maxAmount: 500 } });
    expect(can(claims, 'billing:charges:approve', { amount: 500 })).toBe(true);
    expect(can(claims, 'billing:charges:approve', { amount: 600 })).toBe(false);
    expect(can(claims, 'billing:charges:read')).toBe(true);

    // A second role granting it with a higher limit: the least restrictive wins, at the next refresh.
    await api.call('POST', '/roles', { body: { key: 'senior_approver', name: 'Senior approver', permissions: ['billing:charges:approve'], constraints: { 'billing:charges:approve': { maxAmount: 2000 } } } });
    await api.call('POST', '/users/carla/assignments', { body: { role: 'senior_approver' } });
    const wider = claimsOf((await refresh()).access_token) as CaregateClaims;
    expect(wider.constraints).toEqual({ 'billing:charges:approve': { maxAmount: 2000 } });
    expect(can(wider, 'billing:charges:approve', { amount: 600 })).toBe(true);
  });

  it('refuses a constraint on a permission the role does not carry, and an unknown constraint', async () => {
    expect((await api.call('POST', '/roles', { body: { key: 'odd', name: 'Odd', permissions: ['rota:read'], constraints: { 'billing:charges:approve': { maxAmount: 1 } } } })).status).toBe(400);
    expect((await api.call('POST', '/roles', { body: { key: 'odd', name: 'Odd', permissions: ['rota:read'], constraints: { 'rota:read': { currency: 'USD' } } } })).status).toBe(400);
  });
});
