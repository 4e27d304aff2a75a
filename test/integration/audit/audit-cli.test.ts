// `caregate audit list|export|verify-export` as an operator runs them: real child processes against
// a fresh store (no server running). An export goes to a file or standard output, is itself audited, and
// verifies offline; an edited export does not. The tests build on each other; each spawn ~1.5 s.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAuditExport, verifyAuditExport } from '../../../src/audit/index.ts';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';
import { cliRunner, type CliRunner } from '../../support/cli-runner.ts';

const CLI_USER = 'audit-cli-operator';

let db: FreshDatabase | undefined;
let dir: TempDataDir;
let operator: CliRunner;

beforeAll(async () => {
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  operator = cliRunner({ dataDir: dir.path, db, user: CLI_USER });
  await operator.ok(['tenant', 'create', 'acme']);
  for (const key of ['triage', 'scheduler', 'pharmacist']) await operator.ok(['role', 'create', '--tenant', 'acme', '--key', key, '--permission', 'reports:read']);
}, 240_000);

afterAll(async () => {
  await db?.drop();
  await dir?.cleanup();
});

describe(`caregate audit (${testMode()} store)`, () => {
  let file: string;

  it('list pages through the log newest first with the cursor it prints', async () => {
    const first = await operator.ok(['audit', 'list', '--tenant', 'acme', '--limit', '2']);
    expect(first.events).toHaveLength(2);
    expect(typeof first.nextCursor).toBe('string');
    const second = await operator.ok(['audit', 'list', '--tenant', 'acme', '--limit', '2', '--cursor', first.nextCursor]);
    expect(BigInt(second.events[0].seq)).toBeLessThan(BigInt(first.events[1].seq));
    const created = await operator.ok(['audit', 'list', '--tenant', 'acme', '--action', 'tenant.', '--actor', CLI_USER]);
    expect(created).toEqual({ events: [expect.objectContaining({ action: 'tenant.create', actorType: 'cli' })], nextCursor: null, names: {} });
  });

  it('refuses a bad filter with exit code 2 naming it', async () => {
    const { code, error } = await operator.refused(['audit', 'list', '--tenant', 'acme', '--since', 'last-week']);
    expect(code).toBe(2);
    expect(error.error_description).toContain('since');
  });

  it('export --output writes JSON Lines readable by its owner alone, prints a summary, and is audited as the operator', async () => {
    file = join(dir.path, 'acme.jsonl');
    const summary = await operator.ok(['audit', 'export', '--tenant', 'acme', '--output', file]);
    expect(summary).toMatchObject({ file, format: 'jsonl', events: expect.any(Number), throughSeq: expect.stringMatching(/^\d+$/) });
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(summary.events);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { events: [recorded] } = await operator.ok(['audit', 'list', '--tenant', 'acme', '--action', 'audit.export']);
    expect(recorded).toMatchObject({ actorType: 'cli', actorId: CLI_USER, details: { format: 'jsonl', throughSeq: summary.throughSeq } });
  });

  it('export without --output streams CSV to standard output, ending in one newline', async () => {
    const out = await operator.run(['audit', 'export', '--tenant', 'acme', '--format', 'csv', '--action', 'role.'], { json: false });
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout.startsWith('seq,id,tenantId,at,')).toBe(true);
    expect(out.stdout.endsWith('\n') && !out.stdout.endsWith('\n\n')).toBe(true);
    const events = [];
    for await (const e of readAuditExport([out.stdout])) events.push(e);
    expect(events.map((e) => e.action)).toEqual(['role.create', 'role.create', 'role.create']);
    expect(await verifyAuditExport([out.stdout])).toMatchObject({ ok: true, events: events.length });
    // With --json, standard output is for the one JSON document: the export needs a file.
    expect((await operator.refused(['audit', 'export', '--tenant', 'acme'])).code).toBe(2);
  });

  it('verify-export checks a file offline; an edited one fails with exit code 3 naming the event', async () => {
    const result = await operator.ok(['audit', 'verify-export', file]);
    expect(result).toMatchObject({ ok: true, gaps: 0, fromGenesis: true, failures: [] });
    expect(result.events).toBe(readFileSync(file, 'utf8').trimEnd().split('\n').length);

    const lines = readFileSync(file, 'utf8').split('\n');
    const victim = JSON.parse(lines[1]!);
    lines[1] = JSON.stringify({ ...victim, actorId: 'someone-else' });
    const edited = join(dir.path, 'edited.jsonl');
    writeFileSync(edited, lines.join('\n'));
    const out = await operator.run(['audit', 'verify-export', edited]);
    expect(out.code).toBe(3);
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: false, failures: [{ seq: victim.seq, id: victim.id, reason: 'hash_mismatch' }] });

    const human = await operator.run(['audit', 'verify-export', file], { json: false });
    expect(human.stdout).toMatch(/^Export verified: \d+ events, every hash recomputed; \d+ links, one unbroken chain from its first event/);
    expect((await operator.refused(['audit', 'verify-export', join(dir.path, 'missing.jsonl')])).code).toBe(2);
  });

  it('verify still checks the live chain, the exports included', async () => {
    expect(await operator.ok(['audit', 'verify', '--tenant', 'acme'])).toMatchObject({ ok: true });
  });
});
