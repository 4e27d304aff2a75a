// The live decision endpoint (OpenID AuthZEN Authorization API 1.0) against a running Caregate: the
// specification's example requests — single, batch with defaults, each evaluation semantic — with
// Caregate's subjects and permissions in place of the examples' "alice@example.com" and "can_read";
// the PDP metadata; an application authenticating with its credentials, refused (401, audited)
// without them; questions outside its own catalogue refused (403, audited); decisions that follow a
// change made after a token was issued; and malformed, NUL-carrying or deep bodies refused (400).
import '../../support/raw-sql.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';

let cg: TestCaregate;
let charts: { client_id: string; client_secret: string };
let billing: { client_id: string; client_secret: string };
let alice: string;
let bob: string;
let service: string;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function ask(path: 'evaluation' | 'evaluations', body: unknown, { auth = basic(charts.client_id, charts.client_secret), headers = {} as Record<string, string>, raw }: { auth?: string | null; headers?: Record<string, string>; raw?: string } = {}) {
  const res = await fetch(`${cg.issuer()}/access/v1/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}), ...headers },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function auditEvents(action: string) {
  return cg.runtime.storage.auditEvents.find({ where: { action }, order: { at: 'DESC' }, take: 5 });
}

beforeAll(async () => {
  cg = await startTestCaregate();
  const { accounts } = cg.runtime;
  await accounts.locations.create('demo', { key: 'north', name: 'North' }, cli);
  await accounts.locations.create('demo', { key: 'south', name: 'South' }, cli);
  await accounts.institutions.create('demo', { key: 'boston', name: 'Boston' }, cli);
  await accounts.institutions.create('demo', { key: 'chicago', name: 'Chicago' }, cli);
  await accounts.roles.create('demo', {
    key: 'charting', name: 'Charting', permissions: ['notes:read', 'notes:edit:own', 'billing:charges:approve'],
    constraints: { 'billing:charges:approve': { maxAmount: 500 } },
  }, cli);
  await accounts.roles.create('demo', { key: 'scheduling', name: 'Scheduling', permissions: ['schedule:approve'] }, cli);
  charts = (await accounts.applications.create('demo', {
    name: 'Charts', redirectUris: ['https://charts.example/cb'], grantTypes: ['authorization_code', 'client_credentials'], serviceRoles: ['charting'],
    permissions: ['notes:read', 'notes:edit:own', 'billing:charges:approve', 'schedule:approve'],
  }, cli)) as typeof charts;
  billing = (await accounts.applications.create('demo', { name: 'Billing', redirectUris: ['https://billing.example/cb'], permissions: ['billing:refunds:issue'] }, cli)) as typeof billing;
  alice = (await accounts.users.create('demo', { username: 'alice', password: PASSWORD }, [{ role: 'charting' }, { role: 'charting', scope: { type: 'institution', key: 'boston' } }], cli)).id;
  bob = (await accounts.users.create('demo', { username: 'bob', password: PASSWORD }, [{ role: 'scheduling', scope: { type: 'location', key: 'north' } }], cli)).id;
  service = (await cg.runtime.storage.users.findOneByOrFail({ username: `svc-${charts.client_id}` })).id;
});

afterAll(async () => cg?.close());

describe('the specification\'s example requests', () => {
  it('answers an Access Evaluation Request (subject, resource, action with properties, context) with a Decision', async () => {
    const reply = await ask('evaluation', {
      subject: { type: 'user', id: alice },
      resource: { type: 'account', id: '123' },
      action: { name: 'notes:read', properties: { method: 'GET' } },
      context: { time: '1985-10-26T01:22-07:00' },
    }, { headers: { 'x-request-id': 'bfe9eb29-ab87-4ca3-be83-a1d5d8305716' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.headers.get('x-request-id')).toBe('bfe9eb29-ab87-4ca3-be83-a1d5d8305716');
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toEqual({ decision: true });
  });

  it('answers "no" with 200 and decision false, saying why', async () => {
    const reply = await ask('evaluation', { subject: { type: 'user', id: bob }, resource: { type: 'note', id: '1' }, action: { name: 'notes:read' } });
    expect(reply).toMatchObject({ status: 200, body: { decision: false, context: { reason: 'permission_not_held' } } });
  });

  it('answers a batch with every member in each evaluation, in order', async () => {
    const each = (id: string) => ({ subject: { type: 'user', id: alice }, action: { name: 'notes:read' }, resource: { type: 'document', id }, context: { time: '2024-05-31T15:22-07:00' } });
    const reply = await ask('evaluations', { evaluations: [each('boxcarring.md'), each('subject-search.md'), each('resource-search.md')] });
    expect(reply).toMatchObject({ status: 200, body: { evaluations: [{ decision: true }, { decision: true }, { decision: true }] } });
  });

  it('fills in top-level defaults (subject, context, action) and lets an evaluation override one', async () => {
    const reply = await ask('evaluations', {
      subject: { type: 'user', id: alice },
      context: { time: '2024-05-31T15:22-07:00' },
      action: { name: 'notes:read' },
      evaluations: [
        { resource: { type: 'document', id: 'boxcarring.md' } },
        { resource: { type: 'document', id: 'subject-search.md' } },
        { action: { name: 'notes:edit' }, resource: { type: 'document', id: 'resource-search.md', properties: { ownerId: bob } } },
      ],
    });
    expect(reply.body.evaluations).toEqual([{ decision: true }, { decision: true }, { decision: false, context: { reason: 'own_records_only' } }]);
  });

  // Documents 1 and 3 are records of Boston, where alice is assigned; document 2 is Chicago's.
  const readThree = (semantic?: string) => ({
    subject: { type: 'user', id: alice },
    action: { name: 'notes:read' },
    ...(semantic ? { options: { evaluations_semantic: semantic } } : {}),
    evaluations: ['boston', 'chicago', 'boston'].map((institution, i) => ({ resource: { type: 'document', id: String(i + 1), properties: { institution } } })),
  });

  it('execute_all (and no option at all): every evaluation answered', async () => {
    for (const body of [readThree('execute_all'), readThree()]) {
      expect((await ask('evaluations', body)).body.evaluations).toEqual([{ decision: true }, { decision: false, context: { reason: 'outside_institution' } }, { decision: true }]);
    }
  });

  it('deny_on_first_deny: stops at the first "no", which says so', async () => {
    expect((await ask('evaluations', readThree('deny_on_first_deny'))).body).toEqual({
      evaluations: [{ decision: true }, { decision: false, context: { code: '200', reason: 'deny_on_first_deny', cause: 'outside_institution' } }],
    });
  });

  it('permit_on_first_permit: stops at the first "yes"', async () => {
    expect((await ask('evaluations', readThree('permit_on_first_permit'))).body).toEqual({ evaluations: [{ decision: true }] });
  });

  it('answers a batch without evaluations as one evaluation', async () => {
    expect((await ask('evaluations', { subject: { type: 'user', id: alice }, action: { name: 'notes:read' }, resource: { type: 'note', id: '1' } })).body).toEqual({ decision: true });
  });

  it('publishes the PDP metadata at the issuer and where RFC 8615 inserts the well-known path', async () => {
    const expected = {
      policy_decision_point: cg.issuer(),
      access_evaluation_endpoint: `${cg.issuer()}/access/v1/evaluation`,
      access_evaluations_endpoint: `${cg.issuer()}/access/v1/evaluations`,
    };
    for (const url of [`${cg.issuer()}/.well-known/authzen-configuration`, `${cg.baseUrl}/.well-known/authzen-configuration/t/demo`]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual(expected);
    }
    expect((await fetch(`${cg.baseUrl}/.well-known/authzen-configuration/t/nowhere`)).status).toBe(404);
  });
});

describe('the questions Caregate answers', () => {
  it('reads location, institution, owner and amount from the resource and the context', async () => {
    const q = (subject: string, name: string, properties: object = {}, context: object = {}) => ({ subject: { type: 'user', id: subject }, action: { name }, resource: { type: 'record', id: 'r', properties }, context });
    const reply = await ask('evaluations', {
      evaluations: [
        q(bob, 'schedule:approve', { location: 'north' }),
        q(bob, 'schedule:approve', { location: 'south' }),
        q(alice, 'notes:edit', { ownerId: alice }),
        q(alice, 'billing:charges:approve', {}, { amount: 500 }),
        q(alice, 'billing:charges:approve', {}, { amount: 600 }),
        q(alice, 'billing:charges:approve'),
      ],
    });
    expect(reply.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true, false, true, true, false, false]);
    expect(reply.body.evaluations[4].context.reason).toBe('amount_over_limit');
  });

  it('answers for an application\'s service account as subject type service_account, and not as a user', async () => {
    const about = (type: string) => ({ subject: { type, id: service }, action: { name: 'notes:read' }, resource: { type: 'note', id: '1' } });
    expect((await ask('evaluation', about('service_account'))).body).toEqual({ decision: true });
    expect((await ask('evaluation', about('user'))).body).toEqual({ decision: false, context: { reason: 'unknown_subject' } });
    expect((await ask('evaluation', { ...about('user'), subject: { type: 'user', id: alice } })).body).toEqual({ decision: true });
  });

  it('answers "no" for an unknown subject or subject type', async () => {
    const about = (type: string, id: string) => ({ subject: { type, id }, action: { name: 'notes:read' }, resource: { type: 'note', id: '1' } });
    expect((await ask('evaluation', about('user', '00000000-0000-4000-8000-000000000000'))).body).toEqual({ decision: false, context: { reason: 'unknown_subject' } });
    expect((await ask('evaluation', about('user', 'alice@example.com'))).body).toEqual({ decision: false, context: { reason: 'unknown_subject' } });
    expect((await ask('evaluation', about('group', alice))).body).toEqual({ decision: false, context: { reason: 'unsupported_subject_type' } });
  });
});

describe('a decision follows changes made after a token was issued', () => {
  it('says no at once to a user disabled, and to a role taken away, after their token was issued', async () => {
    const carol = (await cg.runtime.accounts.users.create('demo', { username: 'carol', password: PASSWORD }, [{ role: 'charting' }], cli)).id;
    const dave = (await cg.runtime.accounts.users.create('demo', { username: 'dave', password: PASSWORD }, [{ role: 'charting' }], cli)).id;
    const read = (id: string) => ask('evaluation', { subject: { type: 'user', id }, action: { name: 'notes:read' }, resource: { type: 'note', id: '1' } });
    expect((await read(carol)).body.decision).toBe(true);
    expect((await read(dave)).body.decision).toBe(true);

    await cg.runtime.accounts.users.setStatus('demo', 'carol', 'disabled', cli);
    expect((await read(carol)).body).toEqual({ decision: false, context: { reason: 'unknown_subject' } });

    await cg.runtime.accounts.assignments.unassign('demo', { userId: dave }, { role: 'charting' }, cli);
    expect((await read(dave)).body).toEqual({ decision: false, context: { reason: 'permission_not_held' } });
  });
});

describe('who may ask', () => {
  const question = () => ({ subject: { type: 'user', id: alice }, action: { name: 'notes:read' }, resource: { type: 'note', id: '1' } });

  it.each([
    ['no credentials', null, 'no_credentials'],
    ['a bearer token instead of client credentials', 'Bearer abc', 'malformed_credentials'],
    ['a wrong secret', 'WRONG', 'wrong_secret'],
    ['an unknown client', 'UNKNOWN', 'unknown_client'],
  ])('refuses %s: 401, a Basic challenge, audited', async (_name, how, reason) => {
    const auth = how === null ? null : how === 'WRONG' ? basic(charts.client_id, 'not-the-secret') : how === 'UNKNOWN' ? basic('no-such-client', 'x') : how;
    const reply = await ask('evaluation', question(), { auth });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toBe(`Basic realm="${cg.issuer()}", charset="UTF-8"`);
    expect(reply.body.error).toBe('invalid_client');
    expect(reply.body.error_description).toMatch(/client/i);
    const [event] = await auditEvents('access.unauthenticated');
    expect(event).toMatchObject({ outcome: 'failure', details: { reason } });
  });

  it('refuses a public application, which has no secret, and Caregate\'s own public clients', async () => {
    const spa = await cg.runtime.accounts.applications.create('demo', { name: 'SPA', public: true, redirectUris: ['https://spa.example/cb'], permissions: ['notes:read'] }, cli);
    expect((await ask('evaluation', question(), { auth: basic(spa.client_id, 'anything') })).status).toBe(401);
    expect((await auditEvents('access.unauthenticated'))[0]).toMatchObject({ actorId: spa.client_id, details: { reason: 'public_client' } });
    expect((await ask('evaluation', question(), { auth: basic('account', 'anything') })).status).toBe(401);
    expect((await auditEvents('access.unauthenticated'))[0]).toMatchObject({ actorId: 'account', details: { reason: 'unknown_client' } });
  });

  it('refuses an application asking about another application\'s permission: 403, audited; in a batch, that evaluation only', async () => {
    const theirs = { ...question(), action: { name: 'billing:refunds:issue' } };
    const single = await ask('evaluation', theirs);
    expect(single.status).toBe(403);
    expect(single.body.error).toBe('outside_catalogue');
    const [event] = await auditEvents('access.forbidden');
    expect(event).toMatchObject({ actorType: 'client', actorId: charts.client_id, outcome: 'failure', details: { permissions: ['billing:refunds:issue'] } });

    const batch = await ask('evaluations', { evaluations: [question(), theirs] });
    expect(batch.body.evaluations).toEqual([{ decision: true }, { decision: false, context: { error: { status: 403, message: expect.stringContaining('billing:refunds:issue') } } }]);

    // The billing application may ask about its own permission, and not about Charts'.
    const asBilling = basic(billing.client_id, billing.client_secret);
    expect((await ask('evaluation', theirs, { auth: asBilling })).body).toEqual({ decision: false, context: { reason: 'permission_not_held' } });
    expect((await ask('evaluation', question(), { auth: asBilling })).status).toBe(403);
  });

  it('accepts the previous secret during a rotation\'s overlap', async () => {
    const rotated = await cg.runtime.accounts.applications.rotateSecret('demo', charts.client_id, { overlapMinutes: 10 }, cli);
    expect((await ask('evaluation', question())).status).toBe(200);
    expect((await ask('evaluation', question(), { auth: basic(charts.client_id, rotated.client_secret) })).status).toBe(200);
    charts = { ...charts, client_secret: rotated.client_secret };
  });
});

describe('malformed requests', () => {
  const valid = () => ({ subject: { type: 'user', id: alice }, action: { name: 'notes:read' }, resource: { type: 'note', id: '1' } });

  it.each([
    ['no subject', { action: { name: 'notes:read' }, resource: { type: 'note', id: '1' } }],
    ['a subject without id', { ...valid(), subject: { type: 'user' } }],
    ['an action without name', { ...valid(), action: {} }],
    ['a resource that is a string', { ...valid(), resource: 'note:1' }],
    ['a location that is not a string', { ...valid(), resource: { type: 'note', id: '1', properties: { location: 7 } } }],
    ['an amount that is not a number', { ...valid(), context: { amount: '600' } }],
    ['a JSON array', [valid()]],
  ])('refuses %s (400)', async (_name, body) => {
    const reply = await ask('evaluation', body);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
  });

  it('refuses a batch item missing a member that has no default, an unknown semantic, and too many evaluations (400)', async () => {
    expect((await ask('evaluations', { evaluations: [{ resource: { type: 'note', id: '1' } }] })).status).toBe(400);
    expect((await ask('evaluations', { ...valid(), evaluations: [{}], options: { evaluations_semantic: 'first_wins' } })).status).toBe(400);
    expect((await ask('evaluations', { ...valid(), evaluations: Array.from({ length: 101 }, () => ({})) })).status).toBe(400);
  });

  it('refuses a body that is not JSON, invalid JSON, a NUL character, or nesting past the limit (400)', async () => {
    expect((await ask('evaluation', undefined, { raw: 'subject=alice', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(400);
    expect((await ask('evaluation', undefined, { raw: '{"subject": ' })).status).toBe(400);
    const nul = await ask('evaluation', { ...valid(), subject: { type: 'user', id: `${alice}\u0000` } });
    expect(nul.status).toBe(400);
    expect(nul.body.error_description).toMatch(/NUL/);
    let deep: object = {};
    for (let i = 0; i < 40; i++) deep = { deeper: deep };
    const nested = await ask('evaluation', { ...valid(), context: deep });
    expect(nested.status).toBe(400);
    expect(nested.body.error_description).toMatch(/nested deeper/);
  });

  it('checks credentials before reading the body: an anonymous malformed request is a 401', async () => {
    expect((await ask('evaluation', undefined, { auth: null, raw: '{"subject": ' })).status).toBe(401);
  });
});

describe('a role restricted to a network', () => {
  let carol: string;
  beforeAll(async () => {
    const { accounts } = cg.runtime;
    await accounts.roles.create('demo', { key: 'onsite_scheduling', name: 'On-site scheduling', permissions: ['schedule:approve'] }, cli);
    await accounts.networkRules.setRoleRule('demo', 'onsite_scheduling', { ranges: ['10.20.0.0/16', '2001:db8:5::/48'] }, cli);
    carol = (await accounts.users.create('demo', { username: 'onsite-carol', password: PASSWORD }, [{ role: 'onsite_scheduling' }], cli)).id;
  });
  const question = (context?: Record<string, unknown>) => ({ subject: { type: 'user', id: carol }, action: { name: 'schedule:approve' }, resource: { type: 'slot', id: '9' }, ...(context ? { context } : {}) });

  it('counts the role when context.ip is inside its ranges (IPv4, IPv6 and IPv4-mapped)', async () => {
    for (const ip of ['10.20.3.4', '2001:db8:5::17', '::ffff:10.20.0.1']) expect([ip, (await ask('evaluation', question({ ip }))).body]).toEqual([ip, { decision: true }]);
  });

  it('leaves it out from an address outside, and when no address is given (fail closed)', async () => {
    for (const context of [{ ip: '192.0.2.10' }, { ip: '2001:db8:6::1' }, undefined]) {
      expect((await ask('evaluation', question(context))).body).toEqual({ decision: false, context: { reason: 'permission_not_held' } });
    }
  });

  it('judges each evaluation of a batch by its own address', async () => {
    const reply = await ask('evaluations', { ...question(), evaluations: [{ context: { ip: '10.20.0.9' } }, { context: { ip: '198.51.100.1' } }] });
    expect(reply.body.evaluations).toEqual([{ decision: true }, { decision: false, context: { reason: 'permission_not_held' } }]);
  });

  it('refuses a context.ip that is not an address (400)', async () => {
    for (const ip of ['10.20.0.0/16', 'localhost', 42]) expect([ip, (await ask('evaluation', question({ ip }))).status]).toEqual([ip, 400]);
  });
});

describe('a request made with an API key (subject type api_key, the key as presented)', () => {
  let key: { id: string; key: string };
  let narrow: { id: string; key: string };
  beforeAll(async () => {
    const { accounts } = cg.runtime;
    const account = (await accounts.serviceAccounts.create('demo', { username: 'chart-export' }, cli)) as { id: string };
    await accounts.assignments.assign('demo', { userId: account.id }, { role: 'charting' }, cli);
    const expiresAt = new Date(Date.now() + 7 * 86_400_000);
    key = (await accounts.apiKeys.create('demo', 'chart-export', { name: 'export', permissions: ['notes:read', 'billing:charges:approve'], expiresAt, owner: 'alice' }, cli)) as typeof key;
    narrow = (await accounts.apiKeys.create('demo', 'chart-export', { name: 'read only', permissions: ['notes:read'], expiresAt, owner: 'alice' }, cli)) as typeof key;
  });
  const asKey = (value: string, action: string, context?: Record<string, unknown>) => ({ subject: { type: 'api_key', id: value }, action: { name: action }, resource: { type: 'note', id: '1' }, ...(context ? { context } : {}) });

  it('answers by the account\'s access narrowed to the key, limits included', async () => {
    expect((await ask('evaluation', asKey(key.key, 'notes:read'))).body).toEqual({ decision: true });
    expect((await ask('evaluation', asKey(narrow.key, 'billing:charges:approve', { amount: 10 }))).body).toEqual({ decision: false, context: { reason: 'permission_not_held' } });
    expect((await ask('evaluation', asKey(key.key, 'billing:charges:approve', { amount: 500 }))).body).toEqual({ decision: true });
    expect((await ask('evaluation', asKey(key.key, 'billing:charges:approve', { amount: 501 }))).body).toEqual({ decision: false, context: { reason: 'amount_over_limit' } });
    // The account holds notes:edit:own; the key does not carry it.
    expect((await ask('evaluation', asKey(key.key, 'notes:edit'))).body).toEqual({ decision: false, context: { reason: 'permission_not_held' } });
  });

  it('says no to a made-up or altered key without saying which part was wrong, and to a revoked one at once', async () => {
    expect((await ask('evaluation', asKey(`${key.key.slice(0, -4)}AAAA`, 'notes:read'))).body).toEqual({ decision: false, context: { reason: 'unknown_subject' } });
    expect((await ask('evaluation', asKey('cgk_demo_nothing', 'notes:read'))).body).toEqual({ decision: false, context: { reason: 'unknown_subject' } });
    await cg.runtime.accounts.apiKeys.revoke('demo', narrow.id, cli);
    expect((await ask('evaluation', asKey(narrow.key, 'notes:read'))).body).toEqual({ decision: false, context: { reason: 'key_revoked' } });
    const [refused] = await auditEvents('api_key.refused');
    expect(refused).toMatchObject({ targetId: narrow.id, outcome: 'failure' });
    expect(JSON.stringify(refused)).not.toContain(narrow.key.split('_').at(-1));
  });

  it('says no to an expired key, and to a key over its per-minute limit (counted once per request)', async () => {
    const { accounts } = cg.runtime;
    const expiresAt = new Date(Date.now() + 86_400_000);
    const old = (await accounts.apiKeys.create('demo', 'chart-export', { name: 'old', permissions: ['notes:read'], expiresAt, owner: 'alice' }, cli)) as typeof key;
    await cg.runtime.storage.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [old.id]);
    expect((await ask('evaluation', asKey(old.key, 'notes:read'))).body).toEqual({ decision: false, context: { reason: 'key_expired' } });
    const slow = (await accounts.apiKeys.create('demo', 'chart-export', { name: 'slow', permissions: ['notes:read'], expiresAt, owner: 'alice', rateLimitPerMinute: 1 }, cli)) as typeof key;
    // Two evaluations of one key in one batch are one use of it.
    const batch = await ask('evaluations', { ...asKey(slow.key, 'notes:read'), evaluations: [{}, {}] });
    expect(batch.body.evaluations).toEqual([{ decision: true }, { decision: true }]);
    expect((await ask('evaluation', asKey(slow.key, 'notes:read'))).body).toEqual({ decision: false, context: { reason: 'key_rate_limited' } });
  });
});
