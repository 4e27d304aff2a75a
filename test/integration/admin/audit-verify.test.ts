// The audit log as the console reads it: GET /audit names the ids its events record (users by
// username, roles, places, applications by name) in one `names` map, and GET /audit/verify checks
// the tenant's whole chain — more than one batch of it — and says which event breaks it. Checking
// the chain is for tenant-wide readers: someone who reads the log only at a location is refused.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let api: AdminApi;
let tenantId: string;

beforeAll(async () => {
  cg = await startTestCaregate();
  tenantId = (await cg.runtime.accounts.tenants.findBySlug('demo'))!.id;
  // More events than one batch of the chain check (1,000); written before any HTTP connection
  // opens, so no kept-alive socket goes stale while they are.
  for (let i = 0; i < 1001; i += 1) await cg.runtime.audit.record({ tenantId, actor: { type: 'cli', id: 'test' }, action: 'verify.filler' });
  api = await connectAdminApi(cg);
});

afterAll(async () => cg?.close());

const chainLength = async () => {
  const [row] = await cg.runtime.storage.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_events WHERE tenant_id = $1', [tenantId]);
  return Number(row!.n);
};

describe('GET /audit names what its events record', () => {
  it('maps user ids to usernames and role, location and application ids to their names', async () => {
    expect((await api.call('POST', '/locations', { body: { key: 'north', name: 'North clinic' } })).status).toBe(201);
    expect((await api.call('POST', '/roles', { body: { key: 'lead', name: 'Lead Therapist', permissions: ['reports:read'] } })).status).toBe(201);
    const nina = await api.call('POST', '/users', { body: { username: 'nina', password: PASSWORD, assignments: [{ role: 'lead', scope: { type: 'location', key: 'north' } }] } });
    expect(nina.status).toBe(201);

    const { status, body } = await api.call('GET', '/audit?limit=10');
    expect(status).toBe(200);
    const assignment = body.events.find((e: { action: string; after: { userId?: string } }) => e.action === 'assignment.create' && e.after.userId === nina.body.id);
    expect(body.names[assignment.after.userId]).toBe('nina');
    expect(body.names[assignment.after.roleId]).toBe('Lead Therapist');
    expect(body.names[assignment.after.scopeId]).toBe('North clinic');
    // The actor here is the admin API's service account: named by its application.
    expect(body.names[assignment.actorId]).toBe('svc admin');
    const created = body.events.find((e: { action: string }) => e.action === 'user.create');
    expect(body.names[created.targetId]).toBe('nina');
  });
});

describe('GET /audit/verify', () => {
  it('checks the whole chain, across batches, and says it is intact', async () => {
    const { status, body } = await api.call('GET', '/audit/verify');
    expect(status).toBe(200);
    expect(body).toEqual({ ok: true, events: await chainLength(), checkedAt: expect.any(String) });
    expect(body.events).toBeGreaterThan(1001);
  });

  it('is refused to someone who reads the log only at a location', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'site_auditor', name: 'Site auditor', permissions: ['caregate.audit:read'] }, cli);
    const client = await api.serviceClient('demo', []);
    const app = await cg.runtime.accounts.applications.get('demo', client.clientId);
    await cg.runtime.accounts.assignments.assign('demo', { userId: app.serviceUserId! }, { role: 'site_auditor', scope: { type: 'location', key: 'north' } }, cli);
    const token = await api.token('demo', client);
    // They may search (their users' events) but not check the tenant's chain.
    expect((await api.call('GET', '/audit?limit=5', { token })).status).toBe(200);
    expect((await api.call('GET', '/audit/verify', { token })).status).toBe(403);
  });

  it('names the first event that does not verify when history was edited behind its back', async () => {
    const [row] = await cg.runtime.storage.query<{ id: string; seq: string }>(
      "SELECT id, seq::text AS seq FROM audit_events WHERE tenant_id = $1 AND action = 'verify.filler' ORDER BY seq LIMIT 1 OFFSET 500", [tenantId]);
    await cg.runtime.storage.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    try {
      await cg.runtime.storage.query("UPDATE audit_events SET action = 'verify.covered_up' WHERE id = $1", [row!.id]);
    } finally {
      await cg.runtime.storage.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    }
    const { status, body } = await api.call('GET', '/audit/verify');
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, events: await chainLength(), brokenAt: { id: row!.id, seq: row!.seq, at: expect.any(String) } });
  });
});
