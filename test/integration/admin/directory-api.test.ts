// The admin API's directory sources (/directory-sources) against a running Caregate and a real
// OpenLDAP (test/support/slapd.ts), reached through a TCP proxy the tests can stall: a service
// account with an admin API token creates, changes, tests and deletes sources — validated whole,
// audited, never showing the service account password — and starts sync runs that it follows to
// their end. One run per source at a time: a second start while one runs is 409.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi, type AdminReply } from '../../support/admin-api-client.ts';
import { GRACE, NINA, OMAR, ZOE, slapdAvailable, startSlapd, type TestSlapd } from '../../support/slapd.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.ts';

const cli = { type: 'cli' as const, id: 'test' };
const FIXTURE_UIDS = [GRACE.uid, NINA.uid, OMAR.uid, ZOE.uid].sort();
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NEW_PASSWORD = 'not-the-service-account-password-0123';

const haveSlapd = slapdAvailable();
if (!haveSlapd) console.warn('Skipping the directory admin API tests: no /usr/sbin/slapd or ldap-utils (apt-get install slapd ldap-utils).');

let cg: TestCaregate;
let adminApi: string;
let admin: { clientId: string; token: string };
let ldap: TestSlapd;
/** Between Caregate and slapd: stall() holds a run where it is, restore() lets it go on. */
let proxy: TcpProxy;
let url: string;

/** The admin API client (test/support/admin-api-client.ts); these name its parts as the tests use them. */
let api: AdminApi;
/** Status and body (these tests compare replies whole). */
type Reply<T = any> = Omit<AdminReply<T>, 'headers'>;
const serviceClient = (roles: string[]) => api.serviceClient('demo', roles);
const adminToken = (client: { clientId: string; clientSecret: string }) => api.token('demo', client);
async function call<T = any>(method: string, path: string, options?: { token?: string | null; body?: unknown }): Promise<Reply<T>> {
  const { status, body } = await api.call<T>(method, path, options);
  return { status, body };
}
const refused: AdminApi['refused'] = (request) => api.refused(request);

/** The audit events of one source, oldest first. */
async function sourceEvents(id: string) {
  const { body: { events } } = await call('GET', '/audit?limit=500');
  return (events as any[]).filter((e) => e.targetId === id && String(e.action).startsWith('directory.source.')).reverse();
}

/** Polls a run until it is no longer running. */
async function finished(runId: string, key = 'clinic', withinMs = 60_000): Promise<any> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { status, body } = await call('GET', `/directory-sources/${key}/runs/${runId}`);
    expect(status).toBe(200);
    if (body.status !== 'running') return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still running after ${withinMs} ms: ${JSON.stringify(body.progress)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const usernames = async () => (await call('GET', '/users?limit=500')).body.map((u: any) => [u.username, u.status]).sort();

/** A source for the test slapd through the proxy; no schedule, so only the tests start runs. */
const sourceBody = (over: Record<string, unknown> = {}) => ({
  key: 'clinic', name: 'Clinic', preset: 'openldap', urls: [url], caCertificates: ldap.caPem, bindDn: ldap.bindDn, bindPassword: ldap.bindPassword,
  baseDn: ldap.peopleDn, groupBaseDn: ldap.groupsDn, syncIntervalMinutes: 0,
  mappings: [{ claim: 'groups', equals: 'ER Nurses', role: 'inventory', scope: { type: 'location', key: 'loc-north' } }],
  ...over,
});

beforeAll(async () => {
  if (!haveSlapd) return;
  [cg, ldap] = await Promise.all([startTestCaregate(), startSlapd()]);
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(ldap.url).port) });
  url = `ldap://127.0.0.1:${proxy.port}`;
  api = await connectAdminApi(cg);
  ({ url: adminApi, admin } = api);
  await cg.runtime.accounts.locations.create('demo', { key: 'loc-north', name: 'North clinic' }, cli);
});

afterAll(async () => {
  await proxy?.close();
  await cg?.close();
  await ldap?.close();
});

(haveSlapd ? describe : describe.skip)('directory sources', () => {
  let sourceId: string;

  it('creates a source (201) with the preset filled in and hasBindPassword, never the password; audited without it', async () => {
    const created = await call('POST', '/directory-sources', { body: sourceBody() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(RUN_ID), key: 'clinic', name: 'Clinic', preset: 'openldap', urls: [url], bindDn: ldap.bindDn, baseDn: ldap.peopleDn, groupBaseDn: ldap.groupsDn,
      userFilter: '(objectClass=inetOrgPerson)', groupFilter: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))', groupMembership: 'member', changeAttribute: 'entryCSN',
      attributes: { id: 'entryUUID', username: 'uid', email: 'mail', employeeId: 'employeeNumber' },
      disableThresholdPercent: 10, disableThresholdMinimum: 1, syncIntervalMinutes: 0, enabled: true, hasBindPassword: true, watermark: null, lastFullSyncAt: null,
      mappings: [{ claim: 'groups', equals: 'ER Nurses', role: 'inventory', scope: { type: 'location', key: 'loc-north' } }],
    });
    expect(created.body).not.toHaveProperty('bindPassword');
    expect(JSON.stringify(created.body)).not.toContain(ldap.bindPassword);
    sourceId = created.body.id;

    const [create] = await sourceEvents(sourceId);
    expect(create).toMatchObject({ action: 'directory.source.create', actorType: 'client', actorId: admin.clientId, before: null, after: { key: 'clinic', hasBindPassword: true } });
    expect(create.after).not.toHaveProperty('bindPassword');
    expect(JSON.stringify(create)).not.toContain(ldap.bindPassword);
  });

  it('lists sources with their last run and gets one by key, never with the password; an unknown key is 404', async () => {
    const list = await call('GET', '/directory-sources');
    expect(list.status).toBe(200);
    expect(list.body.map((s: any) => [s.key, s.hasBindPassword, s.lastRun])).toEqual([['clinic', true, null]]);
    const got = await call('GET', '/directory-sources/clinic');
    expect(got).toMatchObject({ status: 200, body: { id: sourceId, key: 'clinic', hasBindPassword: true, lastRun: null } });
    for (const body of [list.body, got.body]) {
      expect(JSON.stringify(body)).not.toContain(ldap.bindPassword);
      expect(JSON.stringify(body)).not.toContain('bindPassword"');
    }
    expect(await call('GET', '/directory-sources/nowhere')).toEqual({ status: 404, body: { error: 'not_found', error_description: 'directory source "nowhere" does not exist' } });
  });

  it('refuses unusable input with 400 naming every bad field at once, and a duplicate key with 409, creating nothing', async () => {
    const cases: Array<[body: object, why: RegExp]> = [
      [sourceBody({ key: 'plain-http', urls: ['http://127.0.0.1:389'] }), /^urls\.0: must be ldaps:\/\/host\[:port\] or ldap:\/\/host\[:port\]/],
      [sourceBody({ key: 'with-path', urls: [`${url}/dc=clinic`] }), /^urls\.0: /],
      [sourceBody({ key: 'no-password', bindPassword: undefined }), /^bindPassword: required/],
      [sourceBody({ key: 'bad-filter', userFilter: 'objectClass=person' }), /^userFilter: must be an LDAP filter in parentheses/],
      [sourceBody({ key: 'bad-preset', preset: 'novell' }), /^preset: /],
      [sourceBody({ key: 'bad-ca', caCertificates: 'not a certificate' }), /^caCertificates: must be one or more PEM certificates/],
      [sourceBody({ key: 'no-role', mappings: [{ claim: 'groups', equals: 'x', role: 'no_such_role' }] }), /no_such_role/],
      [sourceBody({ key: 'unknown-field', tlsVerify: false }), /tlsVerify/],
      [sourceBody({ key: 'Not A Key' }), /^key: /],
    ];
    for (const [body, why] of cases) {
      const reply = await refused(() => call('POST', '/directory-sources', { body }));
      expect([(body as any).key, reply.status, reply.body.error, reply.body.error_description]).toEqual([(body as any).key, 400, 'invalid_request', expect.stringMatching(why)]);
    }
    // Validated whole: every problem at once, each naming its field.
    const many = await refused(() => call('POST', '/directory-sources', { body: sourceBody({ key: 'many', urls: ['http://x'], baseDn: 'people', groupFilter: 'groups', pageSize: 1 }) }));
    expect(many.status).toBe(400);
    expect(many.body.details.issues.map((i: string) => i.split(':')[0]).sort()).toEqual(['baseDn', 'groupFilter', 'pageSize', 'urls.0']);

    const again = await refused(() => call('POST', '/directory-sources', { body: sourceBody() }));
    expect(again).toEqual({ status: 409, body: { error: 'conflict', error_description: 'directory source "clinic" already exists' } });
    expect((await call('GET', '/directory-sources')).body.map((s: any) => s.key)).toEqual(['clinic']);
  });

  it('changes settings with PATCH validated whole, audited before/after without the password; a bad PATCH is 400 and changes nothing', async () => {
    const patched = await call('PATCH', '/directory-sources/clinic', { body: { name: 'Clinic LDAP', disableThresholdPercent: 25 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Clinic LDAP', disableThresholdPercent: 25, hasBindPassword: true, urls: [url], mappings: [{ role: 'inventory' }] });

    const before = (await call('GET', '/directory-sources/clinic')).body;
    const cases: Array<[body: object, why: RegExp]> = [
      [{ urls: ['ldap://'] }, /^urls\.0: /],
      [{ groupFilter: 'groupOfNames', name: 'Renamed' }, /^groupFilter: /],
      [{ key: 'renamed' }, /^key: a source keeps its key/],
      [{ preset: 'novell' }, /^preset: /],
      [{ bindPassword: '' }, /^bindPassword: /],
      [{ mappings: [{ claim: 'groups', equals: 'x', role: 'no_such_role' }] }, /no_such_role/],
      [{ disableThresholdPercent: 101 }, /^disableThresholdPercent: /],
    ];
    for (const [body, why] of cases) {
      const reply = await refused(() => call('PATCH', '/directory-sources/clinic', { body }));
      expect([body, reply.status, reply.body.error_description]).toEqual([body, 400, expect.stringMatching(why)]);
    }
    expect((await call('GET', '/directory-sources/clinic')).body).toEqual(before);
    expect((await refused(() => call('PATCH', '/directory-sources/nowhere', { body: { name: 'x' } }))).status).toBe(404);

    // A new password replaces the old one, sealed: the update says it changed, and shows neither.
    const rotated = await call('PATCH', '/directory-sources/clinic', { body: { bindPassword: NEW_PASSWORD } });
    expect(rotated.status).toBe(200);
    expect(JSON.stringify(rotated.body)).not.toContain(NEW_PASSWORD);
    const [, update, rotation] = await sourceEvents(sourceId);
    expect(update).toMatchObject({
      action: 'directory.source.update', actorId: admin.clientId, details: { passwordChanged: false, watermarkReset: false },
      before: { name: 'Clinic', disableThresholdPercent: 10 }, after: { name: 'Clinic LDAP', disableThresholdPercent: 25 },
    });
    expect(rotation).toMatchObject({ action: 'directory.source.update', details: { passwordChanged: true }, after: { hasBindPassword: true } });
    for (const secret of [ldap.bindPassword, NEW_PASSWORD]) expect(JSON.stringify([update, rotation])).not.toContain(secret);
  });

  it('tests a source against the live directory: 200 with ok and the findings; a wrong password is a failed finding', async () => {
    const failed = await call('POST', '/directory-sources/clinic/test');
    expect(failed.status).toBe(200);
    expect(failed.body.ok).toBe(false);
    expect(failed.body.findings.find((f: any) => f.check === `server ${url}`)).toMatchObject({ ok: false, detail: expect.stringMatching(/^bind_failed: /) });

    expect((await call('PATCH', '/directory-sources/clinic', { body: { bindPassword: ldap.bindPassword } })).status).toBe(200);
    const passed = await call('POST', '/directory-sources/clinic/test');
    expect(passed.status).toBe(200);
    expect(passed.body.ok).toBe(true);
    expect(passed.body.findings.map((f: any) => f.check)).toEqual(expect.arrayContaining(['enabled', `server ${url}`, 'user search', 'group search']));
    expect(passed.body.findings.every((f: any) => f.ok === true && typeof f.detail === 'string')).toBe(true);
    expect((await call('POST', '/directory-sources/nowhere/test')).status).toBe(404);
  });

  it('answers 401 without a token and 403 to a token without caregate.directory:*, changing nothing', async () => {
    const run = '00000000-0000-4000-8000-000000000000';
    const requests: Array<[method: string, path: string, permission: string, body?: object]> = [
      ['GET', '/directory-sources', 'caregate.directory:read'],
      ['POST', '/directory-sources', 'caregate.directory:create', sourceBody({ key: 'sneaky' })],
      ['GET', '/directory-sources/clinic', 'caregate.directory:read'],
      ['PATCH', '/directory-sources/clinic', 'caregate.directory:edit', { urls: ['ldap://evil.example'] }],
      ['DELETE', '/directory-sources/clinic', 'caregate.directory:delete'],
      ['POST', '/directory-sources/clinic/test', 'caregate.directory:read'],
      ['POST', '/directory-sources/clinic/sync', 'caregate.directory:sync', { full: true }],
      ['GET', '/directory-sources/clinic/runs', 'caregate.directory:read'],
      ['GET', `/directory-sources/clinic/runs/${run}`, 'caregate.directory:read'],
    ];
    for (const [method, path, , body] of requests) {
      const reply = await refused(() => call(method, path, { token: null, body }));
      expect([method, path, reply.status, reply.body.error]).toEqual([method, path, 401, 'invalid_token']);
    }

    await cg.runtime.accounts.roles.create('demo', { key: 'user_reader', name: 'User reader', permissions: ['caregate.users:read'] }, cli);
    const reader = await serviceClient(['user_reader']);
    const token = await adminToken(reader);
    expect((await api.introspect(reader, token)).permissions).toEqual(['caregate.users:read']);
    expect((await call('GET', '/users', { token })).status).toBe(200);
    const before = (await call('GET', '/directory-sources/clinic')).body;
    for (const [method, path, permission, body] of requests) {
      const reply = await call(method, path, { token, body });
      expect([method, path, reply.status, reply.body]).toEqual([method, path, 403, { error: 'insufficient_permissions', error_description: expect.stringContaining(permission) }]);
    }
    expect((await call('GET', '/directory-sources')).body.map((s: any) => s.key)).toEqual(['clinic']);
    expect((await call('GET', '/directory-sources/clinic')).body).toEqual(before);
    expect((await call('GET', '/directory-sources/clinic/runs')).body).toEqual([]);
  });

  it('runs a dry run (202): the run keeps its diff in the summary, and nothing changes', async () => {
    const users = await usernames();
    const started = await call('POST', '/directory-sources/clinic/sync', { body: { full: true, dryRun: true } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ id: expect.stringMatching(RUN_ID), mode: 'full', trigger: 'api', dryRun: true, status: 'running', summary: null });

    const run = await finished(started.body.id);
    expect(run).toMatchObject({ status: 'succeeded', finishedAt: expect.any(String), summary: { dryRun: true, created: 4, updated: 0, disabled: 0, errors: 0, entries: 4 } });
    const diff = run.summary.diff as any[];
    expect(diff.map((d) => [d.change, d.username]).sort()).toEqual(FIXTURE_UIDS.map((uid) => ['create', uid]));
    const nina = diff.find((d) => d.username === NINA.uid);
    expect(nina).toMatchObject({ dn: ldap.userDn(NINA.uid), subject: expect.stringMatching(RUN_ID) });
    expect(nina.events.map((e: any) => e.action)).toEqual(expect.arrayContaining(['user.create', 'assignment.create']));
    expect(nina.events.find((e: any) => e.action === 'user.create').after).toMatchObject({ username: NINA.uid, email: NINA.mail });
    expect(diff.find((d) => d.username === GRACE.uid).events.map((e: any) => e.action)).not.toContain('assignment.create');

    expect(await usernames()).toEqual(users);
    expect((await call('GET', '/directory-sources/clinic')).body).toMatchObject({ watermark: null, lastFullSyncAt: null, lastRun: { id: started.body.id, dryRun: true, status: 'succeeded' } });
    // A dry run writes one audit event, the run itself, and none of the changes it would make.
    const { body: { events } } = await call('GET', '/audit?limit=20');
    expect(events.filter((e: any) => (e.details as any)?.run === started.body.id).map((e: any) => e.action)).toEqual(['directory.sync']);
  });

  it('starts a sync (202, running) and GET /runs/{run} follows it to succeeded with the summary', async () => {
    const started = await call('POST', '/directory-sources/clinic/sync', { body: { full: true } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ id: expect.stringMatching(RUN_ID), mode: 'full', trigger: 'api', dryRun: false, status: 'running', finishedAt: null });

    const run = await finished(started.body.id);
    expect(run).toMatchObject({
      id: started.body.id, status: 'succeeded', error: null,
      summary: { runId: started.body.id, tenant: 'demo', source: 'clinic', mode: 'full', dryRun: false, status: 'succeeded', created: 4, updated: 0, disabled: 0, reenabled: 0, unchanged: 0, errors: 0, entries: 4, groups: 2, durationMs: expect.any(Number) },
    });
    expect(run.summary).not.toHaveProperty('diff');

    expect((await usernames()).filter(([u]: string[]) => FIXTURE_UIDS.includes(u))).toEqual(FIXTURE_UIDS.map((uid) => [uid, 'active']));
    const inventory = (await call('GET', '/roles/inventory')).body;
    const north = (await call('GET', '/locations/loc-north')).body;
    const assignments = (await call(`GET`, `/users/${NINA.uid}/assignments`)).body;
    expect(assignments.map((a: any) => [a.roleId, a.scopeType, a.scopeId])).toEqual([[inventory.id, 'location', north.id]]);
    expect((await call('GET', `/users/${GRACE.uid}/assignments`)).body).toEqual([]);

    const source = (await call('GET', '/directory-sources/clinic')).body;
    expect(source).toMatchObject({ watermark: { attribute: 'entryCSN', server: url }, lastFullSyncAt: expect.any(String), lastRun: { id: started.body.id, status: 'succeeded' } });
    const runs = (await call('GET', '/directory-sources/clinic/runs')).body;
    expect(runs.map((r: any) => [r.dryRun, r.status])).toEqual([[false, 'succeeded'], [true, 'succeeded']]);
    expect((await call('GET', '/directory-sources/clinic/runs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('GET', '/directory-sources/clinic/runs/not-a-uuid')).status).toBe(400);
  });

  it('answers a second sync while one runs with 409 busy, starting nothing; the first then finishes', async () => {
    // The directory stops answering: the run holds its lock while it waits for slapd.
    await proxy.stall();
    let first: Reply;
    try {
      first = await call('POST', '/directory-sources/clinic/sync', { body: {} });
      expect(first).toMatchObject({ status: 202, body: { status: 'running', mode: 'incremental' } });
      for (const body of [{}, { full: true }, { dryRun: true }]) {
        const second = await refused(() => call('POST', '/directory-sources/clinic/sync', { body }));
        expect([body, second.status, second.body]).toEqual([body, 409, { error: 'directory_error', error_description: 'another sync of "clinic" is running; try again when it has finished' }]);
      }
      expect((await call('GET', `/directory-sources/clinic/runs/${first.body.id}`)).body.status).toBe('running');
    } finally {
      await proxy.restore();
    }
    const run = await finished(first!.body.id);
    expect(run).toMatchObject({ status: 'succeeded', summary: { mode: 'incremental', created: 0, updated: 0, disabled: 0, errors: 0 } });
    expect((await call('GET', '/directory-sources/clinic/runs')).body).toHaveLength(3);

    // Refused bodies are 400, starting nothing.
    for (const body of [{ allowDisables: -1 }, { full: 'yes' }, { everything: true }]) {
      expect((await refused(() => call('POST', '/directory-sources/clinic/sync', { body }))).status).toBe(400);
    }
    expect((await refused(() => call('POST', '/directory-sources/nowhere/sync', { body: {} }))).status).toBe(404);
    expect((await call('GET', '/directory-sources/clinic/runs')).body).toHaveLength(3);
  });

  it('deletes a source (204) and what its mappings granted (its users stay), audited; the password is nowhere in the audit log', async () => {
    const deleted = await call('DELETE', '/directory-sources/clinic');
    expect(deleted.status).toBe(204);
    expect((await call('GET', '/directory-sources/clinic')).status).toBe(404);
    expect((await call('GET', '/directory-sources')).body).toEqual([]);
    expect((await refused(() => call('DELETE', '/directory-sources/clinic'))).status).toBe(404);
    expect((await usernames()).filter(([u]: string[]) => FIXTURE_UIDS.includes(u))).toEqual(FIXTURE_UIDS.map((uid) => [uid, 'active']));
    expect((await call('GET', `/users/${NINA.uid}/assignments`)).body).toEqual([]);

    const events = await sourceEvents(sourceId);
    expect(events.map((e) => e.action)).toEqual(['directory.source.create', 'directory.source.update', 'directory.source.update', 'directory.source.update', 'directory.source.delete']);
    expect(events.at(-1)).toMatchObject({ actorId: admin.clientId, before: { key: 'clinic', hasBindPassword: true }, after: null, details: { assignmentsRemoved: 2, membershipsRemoved: 0 } });

    // Neither password in any audit event, as the API shows them or as stored.
    expect((await call('GET', '/audit?limit=500')).body.events.length).toBeGreaterThan(10);
    const stored = await cg.runtime.storage.query<{ events: string }>('SELECT string_agg(row_to_json(e)::text, \'\n\') AS events FROM audit_events e');
    for (const secret of [ldap.bindPassword, NEW_PASSWORD]) {
      expect(JSON.stringify((await call('GET', '/audit?limit=500')).body.events)).not.toContain(secret);
      expect(stored[0]!.events).not.toContain(secret);
    }
  });
});
