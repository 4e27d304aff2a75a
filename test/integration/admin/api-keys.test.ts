// Service accounts and their API keys, attacked as a caller would: a key is shown once and stored
// only as an HMAC; it carries no more than its account holds and its creator holds; its end is
// bounded by the tenant; it rotates with an overlap, stops at once when revoked (on every node), and
// is limited per minute across nodes (429 with Retry-After). The value never reaches the audit log.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeWithSharedStores, startSecondNode, startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';

const cli = { type: 'cli' as const, id: 'test' };
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

let cg: TestCaregate;
let api: AdminApi;

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  // An integration's account holding the admin role, and a limited key administrator.
  expect((await api.call('POST', '/service-accounts', { body: { username: 'warehouse-export', displayName: 'Warehouse export' } })).status).toBe(201);
  expect((await api.call('POST', '/users/warehouse-export/assignments', { body: { role: 'admin' } })).status).toBe(201);
  await cg.runtime.accounts.roles.create('demo', { key: 'key_keeper', name: 'Key keeper', permissions: ['caregate.service_accounts:read', 'caregate.service_accounts:edit', 'caregate.users:read'] }, cli);
});

afterAll(async () => cg?.close());

/** Creates a key of warehouse-export (as the admin unless `token` says otherwise); the reply. */
function createKey(body: Record<string, unknown>, token?: string) {
  return api.call('POST', '/service-accounts/warehouse-export/keys', { body: { name: 'nightly export', owner: 'admin', expiresAt: inDays(30), ...body }, ...(token ? { token } : {}) });
}

async function newKey(permissions: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const reply = await createKey({ permissions, ...extra });
  expect(reply.status).toBe(201);
  return reply.body;
}

/** Runs a request that must be refused: no key, assignment or user changes, and only the refusal is audited. */
async function refusedChangingNothing<R>(request: () => Promise<R>): Promise<R> {
  const state = async () => JSON.stringify(await cg.runtime.storage.query('SELECT (SELECT count(*) FROM api_keys) AS k, (SELECT count(*) FROM assignments) AS a, (SELECT count(*) FROM users) AS u'));
  const [before, head] = [await state(), await api.auditHead()];
  const reply = await request();
  expect(await state()).toBe(before);
  const written = await cg.runtime.storage.query<{ action: string }>('SELECT action FROM audit_events WHERE seq > $1', [head]);
  expect(written.map((e) => e.action)).toEqual(['admin.forbidden']);
  return reply;
}

const asKey = (key: string, method = 'GET', path = '/users', body?: unknown, base?: string) =>
  api.call(method, base ? `${base.replace(cg.baseUrl, '')}` + path : path, { token: key, body });

describe('a key', () => {
  it('is answered once as cgk_<tenant>_<id>_<secret>, and never again: listings and the audit log hold neither it nor its hash', async () => {
    const created = await newKey(['caregate.users:read']);
    expect(created.key).toMatch(/^cgk_demo_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    const secret = created.key.split('_').slice(3).join('_');
    const listed = await api.call('GET', '/api-keys?account=warehouse-export');
    const mine = listed.body.find((k: { id: string }) => k.id === created.id);
    expect(mine).toMatchObject({ name: 'nightly export', owner: 'admin', account: 'warehouse-export', permissions: ['caregate.users:read'], state: 'active' });
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(mine).not.toHaveProperty('key');
    expect(mine).not.toHaveProperty('secretHash');
    expect((await asKey(created.key)).status).toBe(200);
    const [row] = await cg.runtime.storage.query<{ secret_hash: string }>('SELECT secret_hash FROM api_keys WHERE id = $1', [created.id]);
    expect(row!.secret_hash).not.toContain(secret);
    const audit = await cg.runtime.storage.query<{ text: string }>(`SELECT string_agg(to_jsonb(e)::text, '') AS text FROM audit_events e`);
    expect(audit[0]!.text).not.toContain(secret);
    expect(audit[0]!.text).not.toContain(row!.secret_hash);
  });

  it('acts with only the permissions it carries, though its account holds more', async () => {
    const { key } = await newKey(['caregate.users:read']);
    expect((await asKey(key)).status).toBe(200);
    const write = await asKey(key, 'POST', '/users', { username: 'mallory', password: 'a-long-enough-password' });
    expect(write.status).toBe(403);
    expect((await cg.runtime.storage.users.findOneBy({ username: 'mallory' }))).toBeNull();
  });

  it('cannot grant through the no-escalation rule what the key lacks, even when its account holds it', async () => {
    const { key } = await newKey(['caregate.assignments:create', 'caregate.users:read', 'reports:read']);
    const reply = await refusedChangingNothing(() => asKey(key, 'POST', '/users/admin/assignments', { role: 'manager' }));
    expect(reply.status).toBe(403);
  });

  it('cannot issue keys for its own account', async () => {
    const { key } = await newKey(['caregate.service_accounts:edit', 'caregate.users:read']);
    const reply = await refusedChangingNothing(() => createKey({ permissions: ['caregate.users:read'] }, key));
    expect([reply.status, reply.body.error]).toEqual([403, 'self_change_refused']);
  });

  it('a wrong secret, another tenant or a made-up id is refused with 401', async () => {
    const { key } = await newKey(['caregate.users:read']);
    const wrongSecret = `${key.slice(0, -4)}${key.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    for (const value of [wrongSecret, key.replace('cgk_demo_', 'cgk_other_'), `cgk_demo_${'0'.repeat(32)}_${'A'.repeat(43)}`]) {
      const reply = await asKey(value);
      expect([value, reply.status, reply.headers.get('www-authenticate')]).toEqual([value, 401, 'Bearer realm="caregate-admin", error="invalid_token"']);
    }
  });
});

describe('creating a key', () => {
  it('with permissions the creator lacks is refused and stores nothing', async () => {
    const keeper = await api.token('demo', await api.serviceClient('demo', ['key_keeper']));
    const before = await cg.runtime.storage.query('SELECT id FROM api_keys');
    const reply = await refusedChangingNothing(() => createKey({ permissions: ['caregate.users:read', 'caregate.users:edit'] }, keeper));
    expect([reply.status, reply.body.error]).toEqual([403, 'escalation_refused']);
    expect(reply.body.error_description).toContain('caregate.users:edit');
    expect(await cg.runtime.storage.query('SELECT id FROM api_keys')).toEqual(before);
    // What the creator holds is allowed.
    expect((await createKey({ permissions: ['caregate.users:read'] }, keeper)).status).toBe(201);
  });

  it('with permissions the account lacks is refused', async () => {
    await api.call('POST', '/service-accounts', { body: { username: 'reader-only' } });
    await api.call('POST', '/users/reader-only/assignments', { body: { role: 'report_viewer' } });
    const reply = await api.refused(() => api.call('POST', '/service-accounts/reader-only/keys', { body: { name: 'x', owner: 'admin', expiresAt: inDays(1), permissions: ['caregate.users:read'] } }));
    expect(reply.status).toBe(400);
    expect(reply.body.error_description).toContain('does not hold caregate.users:read');
  });

  it('needs an end, in the future and within the tenant maximum (apiKeys.maxLifetimeDays)', async () => {
    expect((await api.refused(() => createKey({ permissions: ['caregate.users:read'], expiresAt: undefined }))).status).toBe(400);
    expect((await api.refused(() => createKey({ permissions: ['caregate.users:read'], expiresAt: inDays(-1) }))).status).toBe(400);
    const tooLong = await api.refused(() => createKey({ permissions: ['caregate.users:read'], expiresAt: inDays(91) }));
    expect([tooLong.status, tooLong.body.error_description]).toEqual([400, expect.stringContaining('at most 90 days')]);
    expect((await api.call('PATCH', '/policy', { body: { apiKeys: { maxLifetimeDays: 7 } } })).status).toBe(200);
    expect((await api.refused(() => createKey({ permissions: ['caregate.users:read'], expiresAt: inDays(8) }))).status).toBe(400);
    expect((await createKey({ permissions: ['caregate.users:read'], expiresAt: inDays(6) })).status).toBe(201);
    await api.call('PATCH', '/policy', { body: { apiKeys: { maxLifetimeDays: 90 } } });
  });

  it("is refused for an application's service account (it authenticates with the client secret)", async () => {
    const app = await cg.runtime.accounts.applications.create('demo', { name: 'Chart', grantTypes: ['client_credentials'], serviceRoles: ['report_viewer'] }, cli);
    const reply = await api.refused(() => api.call('POST', `/service-accounts/svc-${app.client_id}/keys`, { body: { name: 'x', owner: 'admin', expiresAt: inDays(1), permissions: ['reports:read'] } }));
    expect(reply.status).toBe(409);
  });
});

describe('rotation and revocation', () => {
  it('a rotated key keeps working through the overlap; an overlap of 0 stops it at once', async () => {
    const first = await newKey(['caregate.users:read']);
    const rotated = await api.call('POST', `/api-keys/${first.id}/rotate`, { body: { overlapMinutes: 60, expiresAt: inDays(30) } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).not.toBe(first.key);
    expect((await asKey(first.key)).status).toBe(200);
    expect((await asKey(rotated.body.key)).status).toBe(200);
    expect(new Date(rotated.body.previous.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 60 * 60_000);
    // Rotating the old key again is refused; the replacement rotates, ending its overlap at once.
    expect((await api.call('POST', `/api-keys/${first.id}/rotate`, { body: { expiresAt: inDays(30) } })).status).toBe(409);
    const again = await api.call('POST', `/api-keys/${rotated.body.id}/rotate`, { body: { overlapMinutes: 0, expiresAt: inDays(30) } });
    expect((await asKey(rotated.body.key)).status).toBe(401);
    expect((await asKey(again.body.key)).status).toBe(200);
  });

  it('a revoked key is refused on the next request, and the refusal is audited', async () => {
    const { id, key } = await newKey(['caregate.users:read']);
    expect((await asKey(key)).status).toBe(200);
    expect((await api.call('DELETE', `/api-keys/${id}`)).status).toBe(204);
    expect((await asKey(key)).status).toBe(401);
    const events = await api.call('GET', '/audit?action=api_key.refused');
    expect(events.body.events.some((e: { targetId: string; details: { reason: string } }) => e.targetId === id && e.details.reason === 'revoked')).toBe(true);
    const listed = (await api.call('GET', '/api-keys')).body.find((k: { id: string }) => k.id === id);
    expect(listed.state).toBe('revoked');
  });
});

describe('use', () => {
  it('is counted per day and last used is recorded', async () => {
    const { id, key } = await newKey(['caregate.users:read']);
    for (let i = 0; i < 3; i++) expect((await asKey(key)).status).toBe(200);
    const listed = (await api.call('GET', '/api-keys')).body.find((k: { id: string }) => k.id === id);
    expect(listed.lastUsedAt).not.toBeNull();
    expect(Object.values(listed.usesPerDay).reduce((a: number, b) => a + (b as number), 0)).toBe(3);
  });

  it('beyond the per-minute limit is answered 429 with Retry-After', async () => {
    expect(await thirdIsLimited([cg.baseUrl, cg.baseUrl, cg.baseUrl])).toBe(true);
  });
});

/**
 * A fresh key limited to 2 requests a minute, used on `bases` in turn: true once the third request
 * is answered 429 with a Retry-After within the minute. A minute may turn between the requests
 * (the third then opens a new window), so up to three keys are tried; it never turns three times.
 */
async function thirdIsLimited(bases: string[]): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const { key } = await newKey(['caregate.users:read'], { rateLimitPerMinute: 2 });
    const replies = [];
    for (const base of bases) replies.push(await fetch(`${base}/admin/api/v1/t/demo/users`, { headers: { authorization: `Bearer ${key}` } }));
    const [first, second, third] = replies;
    expect([first!.status, second!.status]).toEqual([200, 200]);
    if (third!.status === 429) {
      const retryAfter = Number(third!.headers.get('retry-after'));
      expect(retryAfter >= 1 && retryAfter <= 60).toBe(true);
      return true;
    }
  }
  return false;
}

// Two nodes on one PostgreSQL and one Redis (production mode only: see describeWithSharedStores).
describeWithSharedStores('on two nodes', () => {
  let nodeB: TestCaregate;
  beforeAll(async () => {
    nodeB = await startSecondNode(cg);
  });
  afterAll(async () => nodeB?.close());

  const usersOn = (base: string, key: string) => fetch(`${base}/admin/api/v1/t/demo/users`, { headers: { authorization: `Bearer ${key}` } });

  it('a key revoked on node A is refused by node B on the very next request', async () => {
    const { id, key } = await newKey(['caregate.users:read']);
    expect((await usersOn(nodeB.baseUrl, key)).status).toBe(200);
    expect((await api.call('DELETE', `/api-keys/${id}`)).status).toBe(204);
    expect((await usersOn(nodeB.baseUrl, key)).status).toBe(401);
  });

  it('the per-minute limit counts requests on both nodes together', async () => {
    expect(await thirdIsLimited([cg.baseUrl, cg.baseUrl, nodeB.baseUrl])).toBe(true);
  });
});
