// Searching and exporting the audit log through the admin API: every filter alone, a cursor that
// neither repeats nor skips while events keep arriving, validation that names the field, exports
// in CSV and JSON Lines that a regulator can verify offline, and the export permission.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { AUDIT_GENESIS, readAuditExport, verifyAuditExport, type AuditActor, type AuditInput } from '../../../src/audit/index.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { connectAdminApi, type AdminApi } from '../../support/admin-api-client.ts';

const cli = { type: 'cli' as const, id: 'test' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cg: TestCaregate;
let api: AdminApi;
let tenantId: string;

/** Appends an event to demo's log, as a service would. */
async function record(action: string, more: Partial<Omit<AuditInput, 'tenantId' | 'action'>> = {}) {
  const actor: AuditActor = more.actor ?? { type: 'user', id: 'someone', ip: '192.0.2.1' };
  await cg.runtime.audit.record({ tenantId, ...more, actor, action });
}

/** The actions a search answers, in the order it answers them. */
async function actions(query: string, token?: string): Promise<string[]> {
  const reply = await api.call('GET', `/audit?${query}`, { token });
  expect(reply.status).toBe(200);
  return reply.body.events.map((e: { action: string }) => e.action);
}

async function download(query: string, token = api.admin.token) {
  const res = await fetch(`${api.url}/v1/t/demo/audit/export?${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const verify = (text: string) => verifyAuditExport([text]);
const eventsOf = async (source: Parameters<typeof readAuditExport>[0]) => {
  const events = [];
  for await (const event of readAuditExport(source)) events.push(event);
  return events;
};

beforeAll(async () => {
  cg = await startTestCaregate();
  api = await connectAdminApi(cg);
  tenantId = (await cg.runtime.accounts.tenants.findBySlug('demo'))!.id;
});

afterAll(async () => cg?.close());

describe('searching the audit log', () => {
  let app: { id: string; clientId: string };
  let t1: Date;
  let t2: Date;

  beforeAll(async () => {
    await cg.runtime.accounts.users.create('demo', { username: 'Nora', password: 'a-long-enough-password' }, [], cli);
    const nora = (await api.call('GET', '/users/nora')).body.id as string;
    const created = await cg.runtime.accounts.applications.create('demo', { name: 'Chart', redirectUris: ['https://chart.example/cb'] }, cli);
    app = { id: (await cg.runtime.accounts.applications.get('demo', created.client_id)).id, clientId: created.client_id };

    await record('find.user.update', { actor: { type: 'user', id: 'admin-7', ip: '198.51.100.7' }, target: { type: 'user', id: nora } });
    await record('find.login.failure', { actor: { type: 'anonymous', ip: '203.0.113.9' }, target: { type: 'user', id: nora }, outcome: 'failure' });
    await sleep(20);
    t1 = new Date();
    await sleep(20);
    await record('find.login.success', { actor: { type: 'user', id: nora, ip: '203.0.113.9' }, target: { type: 'user', id: nora } });
    await record('find.application.update', { actor: { type: 'user', id: 'admin-7', ip: '198.51.100.7' }, target: { type: 'application', id: app.id } });
    await sleep(20);
    t2 = new Date();
    await sleep(20);
    await record('find.consent.grant', { actor: { type: 'user', id: 'someone-else' }, target: { type: 'application', id: app.clientId } });
    await record('find.users.list', { actor: { type: 'client', id: app.clientId, ip: '198.51.100.7' } });
    await record('find.saml.backchannel_failed', { outcome: 'failure', details: { clientId: app.clientId } });
    await record('find_other', { target: { type: 'user', id: 'someone' } });
  });

  it('answers {events, nextCursor}, newest first', async () => {
    const { body } = await api.call('GET', '/audit?action=find.&limit=3');
    expect(Object.keys(body).sort()).toEqual(['events', 'names', 'nextCursor']);
    expect(body.events.map((e: any) => e.action)).toEqual(['find.saml.backchannel_failed', 'find.users.list', 'find.consent.grant']);
    expect(body.events[0]).toMatchObject({ tenantId, outcome: 'failure', seq: expect.stringMatching(/^\d+$/), prevHash: expect.stringMatching(/^[0-9a-f]{64}$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(typeof body.nextCursor).toBe('string');
  });

  it('filters by action prefix, taking % and _ literally', async () => {
    expect(await actions('action=find.login.')).toEqual(['find.login.success', 'find.login.failure']);
    expect(await actions('action=find_')).toEqual(['find_other']);
    expect(await actions('action=find%25login')).toEqual([]);
  });

  it('filters by actor: the id as recorded, or a username for that user', async () => {
    expect(await actions('action=find.&actor=admin-7')).toEqual(['find.application.update', 'find.user.update']);
    expect(await actions('action=find.&actor=NORA')).toEqual(['find.login.success']);
    expect(await actions(`action=find.&actor=${app.clientId}`)).toEqual(['find.users.list']);
  });

  it('filters by the user an event is about, by id or username; an unknown username is 404', async () => {
    const nora = (await api.call('GET', '/users/nora')).body.id;
    const about = ['find.login.success', 'find.login.failure', 'find.user.update'];
    expect(await actions('action=find.&user=nora')).toEqual(about);
    expect(await actions(`action=find.&user=${nora}`)).toEqual(about);
    const unknown = await api.call('GET', '/audit?user=nobody-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_description).toContain('nobody-here');
  });

  it('filters by outcome', async () => {
    expect(await actions('action=find.&outcome=failure')).toEqual(['find.saml.backchannel_failed', 'find.login.failure']);
    expect(await actions('action=find.&outcome=success')).toHaveLength(5);
  });

  it('filters by application, by client id or id: about it, by its service account, or naming it', async () => {
    const expected = ['find.saml.backchannel_failed', 'find.users.list', 'find.consent.grant', 'find.application.update'];
    expect(await actions(`action=find.&application=${app.clientId}`)).toEqual(expected);
    expect(await actions(`action=find.&application=${app.id}`)).toEqual(expected);
  });

  it('filters by client address', async () => {
    expect(await actions('action=find.&ip=203.0.113.9')).toEqual(['find.login.success', 'find.login.failure']);
    expect(await actions('action=find.&ip=198.51.100.7')).toEqual(['find.users.list', 'find.application.update', 'find.user.update']);
  });

  it('filters by time: since is inclusive, until exclusive, together a window', async () => {
    const [since, until] = [encodeURIComponent(t1.toISOString()), encodeURIComponent(t2.toISOString())];
    expect(await actions(`action=find.&until=${since}`)).toEqual(['find.login.failure', 'find.user.update']);
    expect(await actions(`action=find.&since=${since}&until=${until}`)).toEqual(['find.application.update', 'find.login.success']);
    expect(await actions(`action=find.&since=${until}`)).toEqual(['find.saml.backchannel_failed', 'find.users.list', 'find.consent.grant']);
  });

  it('combines filters (all must hold)', async () => {
    expect(await actions('action=find.login.&outcome=success&ip=203.0.113.9&user=nora')).toEqual(['find.login.success']);
  });

  it('refuses bad input with 400 naming the field: dates, an inverted window, a cursor, a limit, an unknown filter', async () => {
    const cases: Array<[string, string]> = [
      ['since=yesterday', 'since'],
      ['until=2026-02-30', 'until'],
      ['since=2026-02-01&until=2026-01-01', 'until'],
      ['cursor=not-a-cursor', 'cursor'],
      [`cursor=${Buffer.from('seq:abc').toString('base64url')}`, 'cursor'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['outcome=maybe', 'outcome'],
      ['offset=10', 'offset'],
      ['acter=admin-7', 'acter'],
    ];
    for (const [query, field] of cases) {
      const reply = await api.call('GET', `/audit?${query}`);
      expect([query, reply.status, reply.body.error]).toEqual([query, 400, 'invalid_request']);
      expect(reply.body.error_description).toContain(field);
    }
    const bad = await api.call('GET', '/audit/export?since=soon');
    expect([bad.status, bad.body.error_description]).toEqual([400, expect.stringContaining('since')]);
  });
});

describe('cursor pagination', () => {
  it('walks every event exactly once, newest first, while new events keep arriving', async () => {
    for (let i = 0; i < 23; i += 1) await record(`page.${String(i).padStart(2, '0')}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body }: { status: number; body: { events: Array<{ action: string }>; nextCursor: string | null } } = await api.call('GET', `/audit?action=page.&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      seen.push(...body.events.map((e) => e.action));
      cursor = body.nextCursor;
      pages += 1;
      // Appended between pages: newer than every page already read, so never in the rest of the walk.
      await record(`page.new.${pages}`);
    } while (cursor);
    const original = Array.from({ length: 23 }, (_, i) => `page.${String(22 - i).padStart(2, '0')}`);
    expect(seen).toEqual(original);
    expect(pages).toBe(5);
    // The first page, asked again, starts with what arrived meanwhile.
    expect((await actions('action=page.&limit=2'))).toEqual(['page.new.5', 'page.new.4']);
  });

  it('answers nextCursor null when the page is the last, even when it is full', async () => {
    for (let i = 0; i < 4; i += 1) await record(`exact.${i}`);
    const first = await api.call('GET', '/audit?action=exact.&limit=2');
    const second = await api.call('GET', `/audit?action=exact.&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.events.map((e: any) => e.action)).toEqual(['exact.1', 'exact.0']);
    expect(second.body.nextCursor).toBeNull();
  });
});

describe('exporting the audit log', () => {
  it('streams JSON Lines oldest first with the chain hashes, and the whole log verifies offline from the genesis hash', async () => {
    const { status, headers, text } = await download('format=jsonl');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(headers.get('content-disposition')).toMatch(/^attachment; filename="audit-demo-\d{8}T\d{6}Z\.jsonl"$/);
    expect(headers.get('cache-control')).toBe('no-store');
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].prevHash).toBe(AUDIT_GENESIS);
    expect(lines.map((e) => BigInt(e.seq))).toEqual(lines.map((e) => BigInt(e.seq)).sort((a, b) => (a < b ? -1 : 1)));
    expect(Object.keys(lines[0])).toEqual(['seq', 'id', 'tenantId', 'at', 'actorType', 'actorId', 'action', 'targetType', 'targetId', 'outcome', 'ip', 'userAgent', 'before', 'after', 'details', 'prevHash', 'hash']);
    const result = await verify(text);
    expect(result).toMatchObject({ ok: true, events: lines.length, linked: lines.length - 1, gaps: 0, fromGenesis: true, failures: [] });
  });

  it('records the export itself (audit.export, with the filters and the head it stopped at), after the events it holds', async () => {
    const { text } = await download('action=find.login.&outcome=failure');
    const [event] = (await api.call('GET', '/audit?action=audit.export&limit=1')).body.events;
    expect(event).toMatchObject({ actorType: 'client', actorId: api.admin.clientId, details: { format: 'jsonl', filters: { action: 'find.login.', outcome: 'failure' }, throughSeq: expect.stringMatching(/^\d+$/) } });
    expect(JSON.parse(text).action).toBe('find.login.failure');
    const whole = (await download('format=jsonl')).text.trimEnd().split('\n').map((l) => JSON.parse(l));
    const [latest] = (await api.call('GET', '/audit?action=audit.export&limit=1')).body.events;
    expect(whole.at(-1).seq).toBe(latest.details.throughSeq);
    expect(BigInt(latest.seq)).toBeGreaterThan(BigInt(latest.details.throughSeq));
  });

  it('verifies a filtered export event by event, its gaps counted, and catches an edited event', async () => {
    const filtered = await verify((await download('action=find.&outcome=failure')).text);
    expect(filtered).toMatchObject({ ok: true, events: 2, linked: 0, gaps: 1, fromGenesis: false, failures: [] });

    const { text } = await download('format=jsonl&action=page.');
    const result = await verify(text);
    expect(result).toMatchObject({ ok: true, events: 28, fromGenesis: false, failures: [] });
    const edited = text.replace('"action":"page.07"', '"action":"page.7x"');
    const tampered = await verify(edited);
    expect(tampered.ok).toBe(false);
    expect(tampered.failures).toEqual([expect.objectContaining({ reason: 'hash_mismatch' })]);
    // A deleted event shows only as one more gap, so completeness needs an unfiltered export.
    const dropped = await verify(text.split('\n').filter((l) => !l.includes('"page.07"')).join('\n'));
    expect(dropped).toMatchObject({ ok: true, events: 27, gaps: result.gaps + 1 });
  });

  it('escapes CSV cells (commas, quotes, newlines, formulas), keeps null apart from "", and reads back to the same events', async () => {
    const details = { note: 'a, b and "c"\nsecond line\r\nthird', formula: '=HYPERLINK("http://evil")', quote: "'tick", empty: '' };
    await record('csv.tricky', { actor: { type: 'user', id: '=1+1', ip: null, userAgent: 'agent, "quoted"\nline two é' }, target: { type: 'user', id: '' }, details });
    const csv = await download('format=csv&action=csv.');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(csv.headers.get('content-disposition')).toMatch(/filename="audit-demo-.*\.csv"/);
    const [header, ...rest] = csv.text.split('\n');
    expect(header).toBe('seq,id,tenantId,at,actorType,actorId,action,targetType,targetId,outcome,ip,userAgent,before,after,details,prevHash,hash');
    const row = rest.join('\n');
    expect(row).toContain(`,'=1+1,csv.tricky,user,"",success,,"agent, ""quoted""\nline two é",,,"{`);
    expect(row).toContain('""note"":""a, b and \\""c\\""\\nsecond line\\r\\nthird""');

    const [fromCsv] = await eventsOf([csv.text]);
    const [listed] = (await api.call('GET', '/audit?action=csv.')).body.events;
    expect(fromCsv).toEqual(listed);
    expect(fromCsv!.details).toEqual(details);
    expect([fromCsv!.actorId, fromCsv!.ip, fromCsv!.targetId, fromCsv!.before]).toEqual(['=1+1', null, '', null]);
    expect(await verify(csv.text)).toMatchObject({ ok: true, events: 1 });
  });

  it('verifies the same events as CSV and as JSON Lines, and reads a CSV with CRLF line ends or split anywhere', async () => {
    const [csv, jsonl] = [await download('format=csv&action=find.'), await download('format=jsonl&action=find.')];
    const fromCsv = await eventsOf([csv.text]);
    expect(fromCsv).toEqual(await eventsOf([jsonl.text]));
    const pieces = Readable.from(csv.text.replaceAll('\n', '\r\n').match(/[\s\S]{1,7}/g)!.map((s) => Buffer.from(s)));
    expect(await eventsOf(pieces)).toEqual(fromCsv);
    expect(await verify(csv.text)).toMatchObject({ ok: true, events: 7 });
  });

  it('exports nothing but the CSV header when nothing matches', async () => {
    expect((await download('format=csv&action=nothing.like.this')).text).toBe('seq,id,tenantId,at,actorType,actorId,action,targetType,targetId,outcome,ip,userAgent,before,after,details,prevHash,hash\n');
    expect((await download('action=nothing.like.this')).text).toBe('');
  });

  it('needs caregate.audit:export: a reader of the log gets 403, and the refusal is audited', async () => {
    await cg.runtime.accounts.roles.create('demo', { key: 'audit_reader', name: 'Audit reader', permissions: ['caregate.audit:read'] }, cli);
    const reader = await api.token('demo', await api.serviceClient('demo', ['audit_reader']));
    expect((await api.call('GET', '/audit?limit=1', { token: reader })).status).toBe(200);
    const refused = await download('format=jsonl', reader);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toMatchObject({ error: 'insufficient_permissions', error_description: expect.stringContaining('caregate.audit:export') });
    const [event] = (await api.call('GET', '/audit?limit=1')).body.events;
    expect(event).toMatchObject({ action: 'admin.forbidden', details: { permission: 'caregate.audit:export' } });
  });
});
