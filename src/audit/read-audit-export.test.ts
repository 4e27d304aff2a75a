// An export must read back to exactly the events written, in either format, however the file is cut
// into chunks: the offline check hashes what it reads.
import { describe, expect, it } from '@jest/globals';
import type { AuditEvent } from '../storage/index.ts';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.ts';
import { auditExportHeader, auditExportLine, type AuditExportFormat } from './audit-export-format.ts';
import { readAuditExport } from './read-audit-export.ts';

const event = (over: Partial<AuditEvent>): AuditEvent => ({
  seq: '7', id: '00000000-0000-4000-8000-000000000001', tenantId: '00000000-0000-4000-8000-000000000002', at: new Date('2026-01-31T08:00:00.123Z'),
  actorType: 'user', actorId: 'u1', action: 'user.update', targetType: 'user', targetId: 'u2', outcome: 'success', ip: '192.0.2.1', userAgent: 'jest',
  before: null, after: { a: 1 }, details: null, prevHash: '0'.repeat(64), hash: 'f'.repeat(64), ...over,
});

const tricky = [
  event({ actorId: '=SUM(A1:A9)', userAgent: '', ip: null, details: { note: 'a, "b"\nc', emoji: '🩺 é' } }),
  event({ seq: '8', actorId: "'quoted", targetId: '-1', userAgent: 'line one\r\nline "two", three', action: '@import', before: { deep: [{ z: 1, a: null }] } }),
  event({ seq: '9', actorId: null, targetType: null, targetId: null, userAgent: '+', details: { empty: '' } }),
];

async function readBack(format: AuditExportFormat, chunkSize: number) {
  const text = auditExportHeader(format) + tricky.map((e) => auditExportLine(format, e)).join('');
  const bytes = Buffer.from(text);
  const chunks = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const events = [];
  for await (const e of readAuditExport(chunks)) events.push(e);
  return events;
}

describe('reading an audit export back', () => {
  const expected = tricky.map((e) => ({ ...e, at: e.at.toISOString() }));

  for (const format of ['csv', 'jsonl'] as const) {
    it(`reads ${format} back to the same events, whole or cut every 1, 3 or 64 bytes (inside quotes and multi-byte characters)`, async () => {
      for (const size of [1, 3, 64, 1 << 20]) expect(await readBack(format, size)).toEqual(expected);
    });
  }

  it('guards CSV cells a spreadsheet would run as formulas, and keeps null apart from the empty string', () => {
    const line = auditExportLine('csv', tricky[0]!);
    expect(line).toContain(",'=SUM(A1:A9),");
    expect(line).toContain(',success,,"",');
    expect(auditExportLine('csv', tricky[1]!)).toContain(",''quoted,'@import,user,'-1,");
  });

  it('refuses a malformed file, naming where', async () => {
    const read = async (text: string) => {
      for await (const _ of readAuditExport([text])) void _;
    };
    await expect(read('{"seq":"1"}\n')).rejects.toThrow(/line 1: lacks id/);
    await expect(read('{"seq":\n')).rejects.toThrow(/line 1: not JSON/);
    await expect(read('seq,id\n1,2\n')).rejects.toThrow(/CSV header lacks tenantId/);
    await expect(read(auditExportHeader('csv') + auditExportLine('csv', tricky[0]!).replace('success', 'suc"cess'))).rejects.toThrow(/quote inside a cell/);
    await expect(read(auditExportLine('jsonl', event({ seq: 'x' })))).rejects.toThrow(/malformed seq/);
  });
});

describe('the audit cursor', () => {
  it('is opaque and round-trips a seq; anything else is not a cursor', () => {
    const cursor = encodeAuditCursor('12345');
    expect(cursor).not.toContain('12345');
    expect(decodeAuditCursor(cursor)).toBe('12345');
    for (const bad of ['', 'abc', Buffer.from('seq:-1').toString('base64url'), Buffer.from('seq:01').toString('base64url'), 'a'.repeat(41), 'c2VxOjE=']) {
      expect(decodeAuditCursor(bad)).toBeUndefined();
    }
  });
});
