// The audit log is append-only and hash-chained per tenant: the database refuses edits, and an
// edit made behind its back (trigger disabled by the table owner) is caught by verify().
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson, createAuditWriter, type AuditInput, type AuditWriter } from '../../../src/audit/index.ts';
import { openStorage, type Storage } from '../../../src/storage/index.ts';
import { freshDatabaseUrl, tempDataDir, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';
import { textOf } from '../../../src/storage/statement.ts';

let db: FreshDatabase | undefined;
let dir: TempDataDir;
let storage: Storage;
let audit: AuditWriter;

async function newTenant(slug: string): Promise<string> {
  const id = randomUUID();
  await storage.tenants.insert({ id, slug, name: slug });
  return id;
}

const admin = { type: 'user' as const, id: 'admin-1', ip: '203.0.113.7', userAgent: 'jest' };

beforeAll(async () => {
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  storage = await openStorage({ databaseUrl: db?.url, dataDir: dir.path });
  await storage.migrate();
  audit = createAuditWriter(storage);
});

afterAll(async () => {
  await storage?.close();
  await db?.drop();
  await dir?.cleanup();
});

describe('audit hash chain', () => {
  it('verifies an untouched chain of several events', async () => {
    const tenantId = await newTenant('chain-ok');
    await audit.record({ tenantId, actor: admin, action: 'user.create', target: { type: 'user', id: 'u1' }, after: { username: 'ada' } });
    await audit.record({
      tenantId,
      actor: admin,
      action: 'user.update',
      target: { type: 'user', id: 'u1' },
      before: { email: null },
      after: { email: 'ada@example.org', nested: { z: 1, a: [1, 2] } },
    });
    await audit.record({ tenantId, actor: { type: 'anonymous', ip: '198.51.100.1' }, action: 'login.failure', outcome: 'failure' });
    await audit.record({ tenantId, actor: { type: 'system' }, action: 'keys.rotate', details: { kid: 'k2', count: 3, ok: true } });

    await expect(audit.verify(tenantId)).resolves.toEqual({ ok: true, events: 4 });
  });

  it('links each event to the previous one, starting from the genesis hash', async () => {
    const tenantId = await newTenant('chain-links');
    for (let i = 0; i < 3; i += 1) await audit.record({ tenantId, actor: admin, action: `step.${i}` });
    const rows = await storage.auditEvents.find({ where: { tenantId }, order: { seq: 'ASC' } });
    expect(rows.map((r) => r.action)).toEqual(['step.0', 'step.1', 'step.2']);
    expect(rows[0]!.prevHash).toBe('0'.repeat(64));
    expect(rows[1]!.prevHash).toBe(rows[0]!.hash);
    expect(rows[2]!.prevHash).toBe(rows[1]!.hash);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(3);
  });

  it('keeps a separate chain per tenant and one for platform events', async () => {
    const a = await newTenant('chain-a');
    const b = await newTenant('chain-b');
    await audit.record({ tenantId: a, actor: admin, action: 'a.1' });
    await audit.record({ tenantId: b, actor: admin, action: 'b.1' });
    await audit.record({ tenantId: null, actor: { type: 'cli' }, action: 'tenant.create' });
    await audit.record({ tenantId: a, actor: admin, action: 'a.2' });

    await expect(audit.verify(a)).resolves.toEqual({ ok: true, events: 2 });
    await expect(audit.verify(b)).resolves.toEqual({ ok: true, events: 1 });
    await expect(audit.verify(null)).resolves.toMatchObject({ ok: true });
    const [firstOfB] = await storage.auditEvents.find({ where: { tenantId: b } });
    expect(firstOfB!.prevHash).toBe('0'.repeat(64));
  });

  it('never stores secrets passed in before/after', async () => {
    const tenantId = await newTenant('chain-redact');
    await audit.record({
      tenantId,
      actor: admin,
      action: 'user.update',
      before: { passwordHash: '$argon2id$old', username: 'ada' },
      after: { password: 'hunter2', clientSecret: 's3cret', username: 'ada' },
    });
    const [row] = await storage.auditEvents.find({ where: { tenantId } });
    expect(row!.before).toEqual({ username: 'ada' });
    expect(row!.after).toEqual({ username: 'ada' });
    await expect(audit.verify(tenantId)).resolves.toMatchObject({ ok: true });
  });

  it("keeps the request id in details.requestId, which no event may set itself", async () => {
    const tenantId = await newTenant('chain-request-id');
    const withRequest = createAuditWriter(storage, undefined, { requestId: () => 'req-0001' });
    await withRequest.record({ tenantId, actor: admin, action: 'saml.response', details: { samlRequestId: '_abc' } });
    const [row] = await storage.auditEvents.find({ where: { tenantId } });
    expect(row!.details).toEqual({ samlRequestId: '_abc', requestId: 'req-0001' });
    // The compiler refuses an event's own requestId: the writer's would overwrite it (tsc -p test).
    // @ts-expect-error requestId in details is the writer's
    const own: AuditInput = { tenantId, actor: admin, action: 'saml.response', details: { requestId: '_abc' } };
    expect(own.details).toBeDefined();
    await expect(withRequest.verify(tenantId)).resolves.toMatchObject({ ok: true, events: 1 });
  });

  it('commits an event recorded inside a transaction together with it, and not at all when it rolls back', async () => {
    const tenantId = await newTenant('chain-tx');
    await storage.transaction((tx) => audit.record({ tenantId, actor: admin, action: 'committed' }, tx));
    await expect(
      storage.transaction(async (tx) => {
        await audit.record({ tenantId, actor: admin, action: 'rolled-back' }, tx);
        throw new Error('change failed');
      }),
    ).rejects.toThrow('change failed');
    const rows = await storage.auditEvents.find({ where: { tenantId } });
    expect(rows.map((r) => r.action)).toEqual(['committed']);
    await audit.record({ tenantId, actor: admin, action: 'after-rollback' });
    await expect(audit.verify(tenantId)).resolves.toEqual({ ok: true, events: 2 });
  });

  it('refuses UPDATE and DELETE of an audit event in the database itself', async () => {
    const tenantId = await newTenant('chain-append-only');
    await audit.record({ tenantId, actor: admin, action: 'user.delete' });
    await expect(
      storage.query(`UPDATE audit_events SET action = 'user.view' WHERE tenant_id = $1`, [tenantId]),
    ).rejects.toThrow(/append-only/);
    await expect(storage.query('DELETE FROM audit_events WHERE tenant_id = $1', [tenantId])).rejects.toThrow(/append-only/);
    const [row] = await storage.auditEvents.find({ where: { tenantId } });
    expect(row!.action).toBe('user.delete');
  });

  describe('when the table owner disables the trigger and edits history', () => {
    async function tamper(sql: string, params: unknown[]) {
      await storage.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
      try {
        await storage.query(sql, params);
      } finally {
        await storage.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
      }
    }

    async function recordFive(slug: string) {
      const tenantId = await newTenant(slug);
      for (let i = 0; i < 5; i += 1) {
        await audit.record({ tenantId, actor: admin, action: `role.assign`, target: { type: 'user', id: `u${i}` } });
      }
      const rows = await storage.auditEvents.find({ where: { tenantId }, order: { seq: 'ASC' } });
      await expect(audit.verify(tenantId)).resolves.toEqual({ ok: true, events: 5 });
      return { tenantId, rows };
    }

    it('reports the edited event when a field is changed', async () => {
      const { tenantId, rows } = await recordFive('tamper-edit');
      await tamper('UPDATE audit_events SET target_id = $2 WHERE id = $1', [rows[2]!.id, 'someone-else']);
      await expect(audit.verify(tenantId)).resolves.toEqual({ ok: false, events: 5, brokenAt: rows[2]!.id });
    });

    it('reports the edited event when a jsonb detail is changed', async () => {
      const { tenantId, rows } = await recordFive('tamper-json');
      await tamper(`UPDATE audit_events SET details = '{"reason":"covered up"}' WHERE id = $1`, [rows[1]!.id]);
      await expect(audit.verify(tenantId)).resolves.toMatchObject({ ok: false, brokenAt: rows[1]!.id });
    });

    it('reports the event after a deleted one', async () => {
      const { tenantId, rows } = await recordFive('tamper-delete');
      await tamper('DELETE FROM audit_events WHERE id = $1', [rows[3]!.id]);
      await expect(audit.verify(tenantId)).resolves.toEqual({ ok: false, events: 4, brokenAt: rows[4]!.id });
    });

    it('reports the next event when the edited row is given a correctly recomputed hash', async () => {
      // sha256 needs no secret, so an attacker can re-hash the row they edit; the next row's
      // prevHash still points at the original, so the chain breaks right after the edit.
      const { tenantId, rows } = await recordFive('tamper-rehash');
      const { seq: _seq, hash: _hash, prevHash, ...event } = rows[0]!;
      const forged = createHash('sha256')
        .update(prevHash)
        .update(canonicalJson({ ...event, action: 'role.unassign' }))
        .digest('hex');
      await tamper('UPDATE audit_events SET action = $2, hash = $3 WHERE id = $1', [rows[0]!.id, 'role.unassign', forged]);
      await expect(audit.verify(tenantId)).resolves.toMatchObject({ ok: false, brokenAt: rows[1]!.id });
    });

    it('leaves the trigger enabled again afterwards', async () => {
      const { tenantId } = await recordFive('tamper-restored');
      await expect(storage.query('DELETE FROM audit_events WHERE tenant_id = $1', [tenantId])).rejects.toThrow(/append-only/);
    });
  });

  it('keeps the chain unbroken under 20 concurrent record() calls', async () => {
    const tenantId = await newTenant('chain-concurrent');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => audit.record({ tenantId, actor: admin, action: 'login.success', details: { n: i } })),
    );
    await expect(audit.verify(tenantId)).resolves.toEqual({ ok: true, events: 20 });
    const rows = await storage.auditEvents.find({ where: { tenantId } });
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(20); // no fork: every event has its own predecessor
    expect(rows.map((r) => (r.details as { n: number }).n).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('keeps one unbroken chain when two nodes append at the same time', async () => {
    const tenantId = await newTenant('chain-two-nodes');
    // A second writer stands for another node: it has its own idea of the chain head.
    const otherNode = createAuditWriter(storage);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? otherNode : audit).record({ tenantId, actor: admin, action: 'user.update', details: { n: i } })),
    );
    await expect(audit.verify(tenantId)).resolves.toEqual({ ok: true, events: 30 });
    const rows = await storage.auditEvents.find({ where: { tenantId } });
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(30);
  });

  it('appends the events of one transaction with one move of the chain head, in the order recorded', async () => {
    const tenantId = await newTenant('chain-batched');
    const headMoves: string[] = [];
    // The store as the writer sees it, with every statement that moves a chain head counted.
    const counted: Storage = {
      ...storage,
      transaction: (work) => storage.transaction((tx) => work({
        ...tx,
        query: (sql, params) => {
          const text = textOf(sql);
          if (/UPDATE audit_heads/.test(text)) headMoves.push(text);
          return tx.query(sql, params);
        },
      })),
    };
    const writer = createAuditWriter(counted);
    await counted.transaction(async (tx) => {
      for (let n = 0; n < 25; n++) await writer.record({ tenantId, actor: admin, action: 'user.update', details: { n } }, tx);
      await writer.recordMany([26, 27].map((n) => ({ tenantId, actor: admin, action: 'user.update', details: { n } })), tx);
    });
    expect(headMoves).toHaveLength(2); // the recordMany pair, then the 25 recorded one by one as the transaction commits
    await expect(audit.verify(tenantId)).resolves.toEqual({ ok: true, events: 27 });
    const rows = await storage.auditEvents.find({ where: { tenantId }, order: { seq: 'ASC' } });
    expect(rows.map((r) => (r.details as { n: number }).n)).toEqual([26, 27, ...Array.from({ length: 25 }, (_, n) => n)]);
  });

  it('keeps one unbroken chain under 100 parallel writers, each a transaction of several events, on two nodes', async () => {
    const tenantId = await newTenant('chain-parallel');
    const otherNode = createAuditWriter(storage);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => storage.transaction(async (tx) => {
        const writer = i % 2 ? otherNode : audit;
        for (let k = 0; k < 3; k++) await writer.record({ tenantId, actor: admin, action: 'user.update', details: { n: i * 3 + k } }, tx);
      })),
    );
    await expect(audit.verify(tenantId)).resolves.toEqual({ ok: true, events: 300 });
    const rows = await storage.auditEvents.find({ where: { tenantId }, order: { seq: 'ASC' } });
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(300);
    // Each transaction's events stay together and in order.
    for (let i = 0; i < 300; i += 3) {
      const [a, b, c] = rows.slice(i, i + 3).map((r) => (r.details as { n: number }).n);
      expect([b! - a!, c! - b!, a! % 3]).toEqual([1, 1, 0]);
    }
  });
});
