// `caregate directory …` as an operator runs it: real child processes (`node bin/caregate.js
// [--json] directory …`, as in cli.test.ts) against a fresh store — a temp data dir with embedded
// PGlite, or a new PostgreSQL database with Redis in production mode — and a real OpenLDAP
// (test/support/slapd.ts) with the clinic fixture. No server runs: the commands open the store
// themselves. The tests build on each other (source → test → sync), so they run
// in order; each spawn costs ~1.5 s.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/index.ts';
import { createLogger } from '../../../src/logger.ts';
import { openRuntime } from '../../../src/runtime.ts';
import { freePort } from '../../support/caregate.ts';
import { GRACE, NINA, OMAR, ZOE, slapdAvailable, startSlapd, type TestSlapd } from '../../support/slapd.ts';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';
import { cliRunner, serveForCli, type CliRunner, type RunOptions } from '../../support/cli-runner.ts';
import type { CaregateProcess } from '../../support/caregate-process.ts';

// Each case runs several real processes, each opening the store (PGlite when no server runs): on a
// busy CI machine that is minutes, not seconds. Wait for the processes, not for a clock.
jest.setTimeout(300_000);

const CLI_USER = 'directory-cli-operator';
const MAP = 'groups=ER Nurses -> role:inventory@location:loc-north';
/** Each spawn takes 1.5–4 s (more on a busy machine); some tests spawn ten. */
const SLOW = 180_000;
const FIXTURE_UIDS = [GRACE.uid, NINA.uid, OMAR.uid, ZOE.uid].sort();

const haveSlapd = slapdAvailable();
if (!haveSlapd) console.warn('Skipping the directory CLI tests: no /usr/sbin/slapd or ldap-utils (apt-get install slapd ldap-utils).');

let db: FreshDatabase | undefined;
let dir: TempDataDir;
let ldap: TestSlapd;
let caFile: string;
/** The operator's command line; `env` is what every command gets. */
let operator: CliRunner;
/** Embedded mode: the running server the commands go to (serveForCli). */
let server: CaregateProcess | undefined;
let env: Record<string, string>;
const caregate = (args: string[], options?: RunOptions) => operator.run(args, options);
const ok = (args: string[], input?: string) => operator.ok(args, { input });
const refused = (args: string[], input?: string) => operator.refused(args, { input });

/**
 * `directory sync --json`, whatever its end: JSON lines on stdout — a progress line per step, then
 * the summary, last and only once — and nothing on stderr.
 */
async function syncOutcome(args: string[]): Promise<{ code: number; summary: any; progress: any[] }> {
  const out = await caregate(['directory', 'sync', '--tenant', 'acme', '--source', 'clinic', ...args]);
  expect(out.stderr).toBe('');
  const lines = out.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
  expect(lines.map((l) => l.type)).toEqual([...lines.slice(0, -1).map(() => 'progress'), 'summary']);
  const { type, ...summary } = lines.at(-1);
  return { code: out.code, summary, progress: lines.slice(0, -1) };
}

/** The source options of the test slapd (the password comes on standard input). */
const sourceArgs = (key: string, extra: string[] = [], { url = ldap.url, ca = true } = {}) => [
  'directory', 'source', 'create', '--tenant', 'acme', '--key', key, '--preset', 'openldap', '--url', url, ...(ca ? ['--ca-file', caFile] : []),
  '--bind-dn', ldap.bindDn, '--bind-password-stdin', '--base-dn', ldap.peopleDn, '--group-base-dn', ldap.groupsDn, ...extra,
];

const users = async () => (await ok(['user', 'list', '--tenant', 'acme'])).map((u: any) => [u.username, u.status]).sort();

beforeAll(async () => {
  if (!haveSlapd) return;
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  ldap = await startSlapd();
  caFile = join(dir.path, 'ldap-ca.pem');
  writeFileSync(caFile, ldap.caPem);
  operator = cliRunner({ dataDir: dir.path, db, user: CLI_USER });
  env = operator.env;
  server = await serveForCli(operator);
  await ok(['tenant', 'create', 'acme', '--name', 'Acme Health']);
  await ok(['location', 'create', '--tenant', 'acme', '--key', 'loc-north', '--name', 'North clinic']);
}, SLOW);

afterAll(async () => {
  await server?.stop();
  await ldap?.close();
  await db?.drop();
  await dir?.cleanup();
});

(haveSlapd ? describe : describe.skip)(`caregate directory (${testMode()} store, OpenLDAP)`, () => {
  it('source create --bind-password-stdin --map prints the source with hasBindPassword, never the password', async () => {
    const out = await caregate(sourceArgs('clinic', ['--name', 'Clinic', '--map', MAP]), { input: `${ldap.bindPassword}\n` });
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).not.toContain(ldap.bindPassword);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const created = JSON.parse(lines[0]!);
    expect(created).toMatchObject({
      key: 'clinic', name: 'Clinic', preset: 'openldap', urls: [ldap.url], bindDn: ldap.bindDn, baseDn: ldap.peopleDn, groupBaseDn: ldap.groupsDn,
      // The preset filled in what was not given.
      userFilter: '(objectClass=inetOrgPerson)', groupMembership: 'member', changeAttribute: 'entryCSN', attributes: { id: 'entryUUID', username: 'uid' },
      hasBindPassword: true, enabled: true, watermark: null, caCertificates: ldap.caPem,
      mappings: [{ claim: 'groups', equals: 'ER Nurses', role: 'inventory', scope: { type: 'location', key: 'loc-north' } }],
    });
    expect(created).not.toHaveProperty('bindPassword');

    // Without --json: one line for people. A source that cannot be reached, and one without the CA, for `directory test`.
    const offline = await caregate(sourceArgs('offline', [], { url: `ldap://127.0.0.1:${await freePort()}` }), { input: ldap.bindPassword, json: false });
    expect([offline.code, offline.stderr]).toEqual([0, '']);
    expect(offline.stdout).toMatch(/^Directory source offline \(openldap\): ldap:\/\/127\.0\.0\.1:\d+; users under ou=people,dc=clinic,dc=example; never synced\n$/);
    await ok(sourceArgs('no-ca', [], { ca: false }), ldap.bindPassword);
  }, SLOW);

  it('source list and show print the sources with hasBindPassword: true, never the password', async () => {
    const list = await caregate(['directory', 'source', 'list', '--tenant', 'acme']);
    expect([list.code, list.stderr]).toEqual([0, '']);
    expect(list.stdout).not.toContain(ldap.bindPassword);
    const sources = JSON.parse(list.stdout);
    expect(sources.map((s: any) => [s.key, s.hasBindPassword, s.lastRun])).toEqual([['clinic', true, null], ['no-ca', true, null], ['offline', true, null]]);
    expect(sources.every((s: any) => !('bindPassword' in s))).toBe(true);

    const human = await caregate(['directory', 'source', 'list', '--tenant', 'acme'], { json: false });
    expect(human.stdout).toBe('clinic\topenldap\tenabled\tnever synced\nno-ca\topenldap\tenabled\tnever synced\noffline\topenldap\tenabled\tnever synced\n');

    for (const json of [true, false]) {
      const shown = await caregate(['directory', 'source', 'show', 'clinic', '--tenant', 'acme'], { json });
      expect([shown.code, shown.stderr]).toEqual([0, '']);
      expect(shown.stdout).not.toContain(ldap.bindPassword);
      expect(JSON.parse(shown.stdout)).toMatchObject({ key: 'clinic', hasBindPassword: true, lastRun: null, bindDn: ldap.bindDn });
      expect(JSON.parse(shown.stdout)).not.toHaveProperty('bindPassword');
    }
  }, SLOW);

  it('refuses unusable input with exit 2 naming the field, creating nothing', async () => {
    const cases: Array<[args: string[], input: string, why: RegExp]> = [
      [sourceArgs('plain-http', [], { url: 'http://127.0.0.1:389' }), ldap.bindPassword, /^urls\.0: must be ldaps:\/\/host\[:port\] or ldap:\/\/host\[:port\]/],
      [sourceArgs('no-password').filter((a) => a !== '--bind-password-stdin'), '', /^bindPassword: required/],
      [sourceArgs('bad-filter', ['--user-filter', 'objectClass=person']), ldap.bindPassword, /^userFilter: must be an LDAP filter in parentheses/],
      [sourceArgs('bad-preset', ['--preset', 'novell']), ldap.bindPassword, /^preset: /],
      [sourceArgs('bad-base', ['--base-dn', 'people']), ldap.bindPassword, /^baseDn: must be a distinguished name/],
      [sourceArgs('no-role', ['--map', 'groups=ER Nurses -> role:no_such_role']), ldap.bindPassword, /no_such_role/],
      [sourceArgs('bad-map', ['--map', 'groups=ER Nurses role:inventory']), ldap.bindPassword, /expected/],
      [[...sourceArgs('bad-interval'), '--sync-interval', 'often'], ldap.bindPassword, /^--sync-interval: expected a whole number/],
    ];
    for (const [args, input, why] of cases) {
      const { code, error } = await refused(args, input);
      expect([args[6], code, error.error, error.error_description]).toEqual([args[6], 2, 'invalid_request', expect.stringMatching(why)]);
    }
    expect((await ok(['directory', 'source', 'list', '--tenant', 'acme'])).map((s: any) => s.key)).toEqual(['clinic', 'no-ca', 'offline']);
  }, SLOW);

  it('refuses a duplicate key with exit 5, a bad number or update with exit 2, changing nothing', async () => {
    const allowance = await refused(['directory', 'sync', '--tenant', 'acme', '--source', 'clinic', '--allow-disables', 'many']);
    expect(allowance).toEqual({ code: 2, error: { error: 'invalid_request', error_description: '--allow-disables: expected a whole number, got "many"' } });
    const again = await refused(sourceArgs('clinic'), ldap.bindPassword);
    expect(again).toEqual({ code: 5, error: { error: 'conflict', error_description: 'directory source "clinic" already exists' } });

    // An update is validated whole: a bad filter changes nothing.
    const update = await refused(['directory', 'source', 'update', 'clinic', '--tenant', 'acme', '--group-filter', 'groupOfNames', '--name', 'Renamed']);
    expect([update.code, update.error.error_description]).toEqual([2, expect.stringMatching(/^groupFilter: must be an LDAP filter/)]);
    expect(await ok(['directory', 'source', 'show', 'clinic', '--tenant', 'acme'])).toMatchObject({ name: 'Clinic', groupFilter: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))' });
    expect((await ok(['directory', 'source', 'list', '--tenant', 'acme'])).map((s: any) => s.key)).toEqual(['clinic', 'no-ca', 'offline']);
  }, SLOW);

  it('directory test exits 0 against the live slapd: server over verified TLS, the searches, the mapping rules', async () => {
    const result = await ok(['directory', 'test', 'clinic', '--tenant', 'acme']);
    expect(result.ok).toBe(true);
    expect(result.findings.map((f: any) => [f.check, f.ok])).toEqual(expect.arrayContaining([
      ['enabled', true], [`server ${ldap.url}`, true], ['user search', true], ['group search', true],
    ]));
    expect(result.findings.every((f: any) => f.ok)).toBe(true);
    const human = await caregate(['directory', 'test', 'clinic', '--tenant', 'acme'], { json: false });
    expect([human.code, human.stderr]).toEqual([0, '']);
    expect(human.stdout).toContain(`ok    server ${ldap.url}: reachable over verified TLS; the service account is accepted\n`);
    expect(human.stdout).not.toContain('FAIL');
  }, SLOW);

  it('directory test exits 3 with a FAIL line when no server answers, and when the server certificate is not trusted (no CA)', async () => {
    const offline = await caregate(['directory', 'test', 'offline', '--tenant', 'acme'], { json: false });
    expect(offline.code).toBe(3);
    expect(offline.stdout).toMatch(/^FAIL {2}server ldap:\/\/127\.0\.0\.1:\d+: unreachable: .*ECONNREFUSED/m);
    const json = await caregate(['directory', 'test', 'offline', '--tenant', 'acme']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, findings: expect.arrayContaining([expect.objectContaining({ check: expect.stringMatching(/^server /), ok: false })]) });

    const noCa = await caregate(['directory', 'test', 'no-ca', '--tenant', 'acme'], { json: false });
    expect(noCa.code).toBe(3);
    expect(noCa.stdout).toMatch(new RegExp(`^FAIL {2}server ${ldap.url.replace(/\./g, '\\.')}: tls_failed: `, 'm'));
    expect(noCa.stdout).not.toMatch(/^ok +user search/m);
  }, SLOW);

  it('sync --dry-run prints what would change ("Would change:") and changes nothing', async () => {
    const before = await users();
    const out = await caregate(['directory', 'sync', '--tenant', 'acme', '--source', 'clinic', '--dry-run'], { json: false });
    expect([out.code, out.stderr]).toEqual([0, '']);
    const lines = out.stdout.trimEnd().split('\n');
    // No watermark yet: the incremental run it was asked for searched everything.
    expect(lines[0]).toMatch(/^Dry run of acme\/clinic \(full: no watermark yet\) in \d+\.\d s$/);
    expect(lines[1]).toBe('created 4, updated 0, disabled 0, re-enabled 0, unchanged 0, errors 0 (4 entries, 2 groups)');
    expect(lines[2]).toBe('Would change:');
    expect(lines.slice(3).sort()).toEqual([
      `  + create   ${GRACE.uid}`,
      `  + create   ${NINA.uid}: +role inventory`,
      `  + create   ${OMAR.uid}: +role inventory`,
      `  + create   ${ZOE.uid}`,
    ].sort());

    expect(await users()).toEqual(before);
    const shown = await ok(['directory', 'source', 'show', 'clinic', '--tenant', 'acme']);
    expect(shown.watermark).toBeNull();
    // The run was asked incremental; its summary says what it did.
    expect(shown.lastRun).toMatchObject({ trigger: 'cli', dryRun: true, status: 'succeeded', summary: { mode: 'full', escalated: 'no watermark yet', created: 4, dryRun: true } });
  }, SLOW);

  it('sync --full exits 0 with a summary: created, updated, disabled, unchanged, errors and the duration', async () => {
    const out = await caregate(['directory', 'sync', '--tenant', 'acme', '--source', 'clinic', '--full'], { json: false });
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toMatch(/^Synced acme\/clinic \(full\) in \d+\.\d s\ncreated 4, updated 0, disabled 0, re-enabled 0, unchanged 0, errors 0 \(4 entries, 2 groups\)\n$/);
    expect(await users()).toEqual(FIXTURE_UIDS.map((uid) => [uid, 'active']));
  }, SLOW);

  it('sync --full --json prints a JSON line per progress step (reading, then applying) and the summary with the counts and the duration last', async () => {
    const { code, summary, progress } = await syncOutcome(['--full']);
    expect(code).toBe(0);
    // Read first (the groups, then the people page by page), then applied; the last step has read everyone.
    const phases = progress.map((p) => p.phase);
    expect(phases).toEqual([...phases.filter((p) => p === 'reading'), ...phases.filter((p) => p === 'applying')]);
    expect(phases).toEqual(expect.arrayContaining(['reading', 'applying']));
    expect(progress.at(-1)).toEqual({ type: 'progress', phase: 'applying', groups: 2, entries: 4, pages: expect.any(Number), applied: 0, total: 0 });
    expect(progress.map((p) => p.entries)).toEqual([...progress.map((p) => p.entries)].sort((a, b) => a - b));
    expect(summary).toMatchObject({
      runId: expect.stringMatching(/^[0-9a-f-]{36}$/), tenant: 'acme', source: 'clinic', mode: 'full', dryRun: false, status: 'succeeded',
      created: 0, updated: 0, disabled: 0, reenabled: 0, unchanged: 4, errors: 0, entries: 4, groups: 2, errorList: [],
    });
    expect(summary.durationMs).toEqual(expect.any(Number));
    expect(summary).not.toHaveProperty('diff');
    // Incremental from the watermark the full run left: nothing changed since.
    const { summary: incremental } = await syncOutcome([]);
    expect(incremental).toMatchObject({ mode: 'incremental', status: 'succeeded', created: 0, updated: 0, disabled: 0, entries: 0 });
    expect(incremental).not.toHaveProperty('escalated');
  }, SLOW);

  it('on a terminal, sync draws a progress bar on stderr, redrawn in place and cleared before the summary', async () => {
    // script(1) gives the command a pseudo-terminal, as an operator's shell has.
    const bin = fileURLToPath(new URL('../../../bin/caregate.js', import.meta.url));
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, bin, 'directory', 'sync', '--tenant', 'acme', '--source', 'clinic', '--full'].map(quote).join(' ');
    const screen = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', command, '/dev/null'], { env: { ...env, TERM: 'xterm' }, timeout: 120_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    operator.printed.push(screen);
    expect(screen).toContain('Reading the directory… ');
    expect(screen).toMatch(/\r\x1b\[KApplying changes \[#{30}\] 0\/0 \(100 %\)/);
    // Cleared, then the summary on a clean line.
    expect(screen).toMatch(/\r\x1b\[KSynced acme\/clinic \(full\) in \d+\.\d s\r?\ncreated 0, updated 0, disabled 0, re-enabled 0, unchanged 4, errors 0/);
  }, SLOW);

  it('a run that would disable more than the threshold exits 3 with the reason and changes nothing; --allow-disables 2 then passes', async () => {
    await ldap.ldif([GRACE, ZOE].map((u) => `dn: ${ldap.userDn(u.uid)}\nchangetype: delete\n`).join('\n'));
    const before = await users();

    const human = await caregate(['directory', 'sync', '--tenant', 'acme', '--source', 'clinic', '--full'], { json: false });
    expect([human.code, human.stderr]).toEqual([3, '']);
    expect(human.stdout).toContain("Sync of acme/clinic refused: this run would disable 2 of the source's 4 active users, more than its threshold allows (1: 10% or at least 1); nothing was changed.");
    expect(human.stdout).toContain('--allow-disables 2');
    const json = await syncOutcome(['--full']);
    expect(json.code).toBe(3);
    expect(json.summary).toMatchObject({ status: 'refused', reason: 'threshold', disabled: 0, message: expect.stringContaining('would disable 2') });
    expect(await users()).toEqual(before);

    // One more than the run needs would be refused too: the allowance is what the operator checked.
    const tooFew = await syncOutcome(['--full', '--allow-disables', '1']);
    expect([tooFew.code, tooFew.summary.status]).toEqual([3, 'refused']);

    const allowed = await syncOutcome(['--full', '--allow-disables', '2']);
    expect(allowed.code).toBe(0);
    expect(allowed.summary).toMatchObject({ status: 'succeeded', disabled: 2, unchanged: 2, created: 0, entries: 2 });
    expect(await users()).toEqual([[GRACE.uid, 'disabled'], [NINA.uid, 'active'], [OMAR.uid, 'active'], [ZOE.uid, 'disabled']]);
  }, SLOW);

  it('exits 1 with the reason when the directory cannot be reached, changing nothing', async () => {
    const before = await users();
    await ldap.stop();
    try {
      const json = await syncOutcome(['--full']);
      expect(json.code).toBe(1);
      expect(json.summary).toMatchObject({ status: 'failed', reason: 'unreachable', message: expect.stringContaining(ldap.url) });
      const human = await caregate(['directory', 'sync', '--tenant', 'acme', '--source', 'clinic'], { json: false });
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(new RegExp(`^Sync of acme/clinic failed: ${ldap.url.replace(/\./g, '\\.')}: .*ECONNREFUSED`));
    } finally {
      await ldap.start();
    }
    expect(await users()).toEqual(before);
  }, SLOW);

  it('directory runs lists the runs newest first, with their outcome', async () => {
    const runs = await ok(['directory', 'runs', '--tenant', 'acme', '--source', 'clinic', '--limit', '20']);
    // What each run did (its summary's mode: an incremental run without a watermark searched everything).
    expect(runs.map((r: any) => [r.summary.mode, r.dryRun, r.status])).toEqual([
      ['incremental', false, 'failed'], ['full', false, 'failed'], // unreachable: the incremental one never got to read its watermark
      ['full', false, 'succeeded'], ['full', false, 'refused'], ['full', false, 'refused'], ['full', false, 'refused'],
      ['full', false, 'succeeded'], // on a terminal, with the progress bar
      ['incremental', false, 'succeeded'], ['full', false, 'succeeded'], ['full', false, 'succeeded'], ['full', true, 'succeeded'],
    ]);
    expect(runs.map((r: any) => r.trigger)).toEqual(Array(11).fill('cli'));
    expect(runs.find((r: any) => r.status === 'refused')).toMatchObject({ error: expect.stringContaining('would disable 2'), summary: { reason: 'threshold' } });
    const human = await caregate(['directory', 'runs', '--tenant', 'acme', '--source', 'clinic', '--limit', '3'], { json: false });
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z\tfull\tsucceeded\t\+0 ~0 -2 \^0 !0$/);
  }, SLOW);

  it('an unknown source or tenant exits 4 naming it', async () => {
    for (const args of [
      ['directory', 'source', 'show', 'nowhere', '--tenant', 'acme'],
      ['directory', 'source', 'update', 'nowhere', '--tenant', 'acme', '--name', 'x'],
      ['directory', 'source', 'delete', 'nowhere', '--tenant', 'acme'],
      ['directory', 'test', 'nowhere', '--tenant', 'acme'],
      ['directory', 'sync', '--tenant', 'acme', '--source', 'nowhere', '--full'],
      ['directory', 'runs', '--tenant', 'acme', '--source', 'nowhere'],
    ]) {
      expect([args.slice(0, 3), await refused(args)]).toEqual([args.slice(0, 3), { code: 4, error: { error: 'not_found', error_description: 'directory source "nowhere" does not exist' } }]);
    }
    const tenant = await refused(['directory', 'source', 'list', '--tenant', 'nowhere']);
    expect([tenant.code, tenant.error.error_description]).toEqual([4, expect.stringContaining('nowhere')]);
  }, SLOW);

  it('source update changes settings validated whole; source delete removes a source (show then exits 4)', async () => {
    const updated = await ok(['directory', 'source', 'update', 'clinic', '--tenant', 'acme', '--disable-threshold-percent', '50', '--name', 'Clinic LDAP']);
    expect(updated).toMatchObject({ key: 'clinic', name: 'Clinic LDAP', disableThresholdPercent: 50, hasBindPassword: true, mappings: [{ role: 'inventory' }] });
    // A new search scope forgets the watermark: the next run is full.
    expect(updated.watermark).not.toBeNull();
    const rescoped = await ok(['directory', 'source', 'update', 'clinic', '--tenant', 'acme', '--user-filter', '(&(objectClass=inetOrgPerson)(uid=*))']);
    expect(rescoped.watermark).toBeNull();

    expect(await ok(['directory', 'source', 'delete', 'offline', '--tenant', 'acme'])).toEqual({ deleted: 'offline' });
    const shown = await refused(['directory', 'source', 'show', 'offline', '--tenant', 'acme']);
    expect(shown).toEqual({ code: 4, error: { error: 'not_found', error_description: 'directory source "offline" does not exist' } });
    expect((await ok(['directory', 'source', 'list', '--tenant', 'acme'])).map((s: any) => s.key)).toEqual(['clinic', 'no-ca']);
  }, SLOW);

  it('left the store holding what the commands did, audited as the CLI operator, the password in no output and no audit event', async () => {
    expect(operator.printed.filter((text) => text.includes(ldap.bindPassword))).toEqual([]);
    // Opened in-process after every command has exited and the server stopped: PGlite allows one process.
    await server?.stop();
    const rt = await openRuntime(loadConfig({ ...env, CAREGATE_MIGRATE_ON_START: 'false' }), { log: createLogger('silent') });
    try {
      const inventory = await rt.accounts.roles.get('acme', 'inventory');
      const north = await rt.accounts.locations.get('acme', 'loc-north');
      for (const [uid, expected] of [[NINA.uid, [[inventory.id, 'location', north.id]]], [OMAR.uid, [[inventory.id, 'location', north.id]]], [GRACE.uid, []], [ZOE.uid, []]] as const) {
        const user = await rt.accounts.users.findUser('acme', uid);
        const assignments = await rt.accounts.assignments.list('acme', { userId: user.id });
        expect([uid, assignments.map((a) => [a.roleId, a.scopeType, a.scopeId])]).toEqual([uid, expected]);
      }

      const tenant = (await rt.accounts.tenants.findBySlug('acme'))!;
      const events = await rt.storage.auditEvents.find({ where: { tenantId: tenant.id }, order: { seq: 'ASC' } });
      const sourceEvents = events.filter((e) => e.action.startsWith('directory.source.'));
      expect(sourceEvents.map((e) => [e.action, e.actorType, e.actorId])).toEqual([
        ['directory.source.create', 'cli', CLI_USER], ['directory.source.create', 'cli', CLI_USER], ['directory.source.create', 'cli', CLI_USER],
        ['directory.source.update', 'cli', CLI_USER], ['directory.source.update', 'cli', CLI_USER], ['directory.source.delete', 'cli', CLI_USER],
      ]);
      // Every run is audited once (the dry run too, as what it was); the changes a real run made, with its run id.
      // The operator's runs: on a slow machine the server's own schedule may have synced the other sources meanwhile.
      const syncs = events.filter((e) => e.action === 'directory.sync' && e.actorType === 'cli');
      expect(new Set(syncs.map((e) => e.actorId))).toEqual(new Set([CLI_USER]));
      expect(syncs.map((e) => [e.outcome, (e.details as any).status, (e.details as any).dryRun])).toEqual([
        ['success', 'succeeded', true], ['success', 'succeeded', false], ['success', 'succeeded', false], ['success', 'succeeded', false], ['success', 'succeeded', false],
        ['failure', 'refused', false], ['failure', 'refused', false], ['failure', 'refused', false], ['success', 'succeeded', false],
        ['failure', 'failed', false], ['failure', 'failed', false],
      ]);
      expect(events.filter((e) => e.action === 'user.create')).toHaveLength(4);
      expect(events.filter((e) => e.action === 'user.disable').map((e) => (e.details as any).reason)).toEqual(['gone', 'gone']);

      expect(JSON.stringify(events)).not.toContain(ldap.bindPassword);
      const rows = await rt.storage.query<{ row: string }>('SELECT row_to_json(s)::text AS row FROM directory_sources s');
      expect(rows).toHaveLength(2);
      for (const { row } of rows) expect(row).not.toContain(ldap.bindPassword);
    } finally {
      await rt.close();
    }
  }, SLOW);
});
