// Directory sync of a large directory (issue 6: "sync of 10,000 users with 200 groups: a benchmark
// reports the full-sync time and peak memory, and incremental sync time after 10 changes").
//
// Runs as a child process (`node --expose-gc bench/directory-sync.ts [--mode embedded|postgres]
// [--users N] [--groups N] [--changes N] [--pin CPU] [--cpu-prof DIR]`) and prints one JSON
// document (DirectorySyncResult) on stdout; progress goes to stderr. bench/run.ts starts it with
// `--pin` set to the server core. In it:
//   1. a real OpenLDAP (test/support/slapd.ts) preloaded with generateUsersLdif(N, groups) — plus
//      the four clinic fixture people and their two groups that startSlapd always adds;
//   2. this process pins itself (all threads) to the server core *after* slapd has started, so
//      slapd keeps the load generator's cores and does not compete with the engine for its core;
//   3. a Caregate runtime (openRuntime, migrations applied) on the embedded store (PGlite in a temp
//      dir + memory), or with --mode postgres on DATABASE_URL (an empty database: bench/run.ts
//      makes a fresh one and drops it) and REDIS_URL; a tenant, a role, a location and an OpenLDAP
//      source with mapping rules from "Bench Group NNN" to roles;
//   4. the figures: a first full sync (everyone created), a second full sync with nothing changed,
//      10 people changed in slapd (title, mail, telephoneNumber) then an incremental sync, and an
//      incremental sync with nothing changed. Each has its wall time, the engine's own durationMs,
//      its read + plan and apply phases (from the engine's progress calls), this process's CPU time,
//      and memory sampled every 50 ms and at the engine's progress calls (RSS, V8 heap, external)
//      against a baseline taken after a GC;
//   5. the floor, after the syncs (so that its reads do not raise the syncs' memory baseline): the
//      same reads the sync makes (StartTLS, bind, the groups with their member lists, the users
//      with the sync's attributes, paged alike) through ldapts with no Caregate work, once
//      unmeasured and then three times.
// The counts each run must report are checked; a mismatch is listed in `mismatches` (bench/run.ts
// prints it and exits non-zero). With --cpu-prof, V8 CPU profiles of the first and the second full
// sync (only those) go to DIR (summarize them with bench/profile-summary.ts).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'ldapts';
import { deleteRedisKeysOf } from './caregate-instance.ts';
import pg from 'pg';
import { getPGliteInstance } from 'typeorm-pglite';
import { loadConfig } from '../src/config/index.ts';
import { openRuntime, type Runtime } from '../src/runtime.ts';
import { sourceSettings, type SourceSettings, type SyncSummary } from '../src/directory/index.ts';
import { userAttributes } from '../src/directory/directory-reader.ts';
import { benchGroup, benchUid, FIXTURE_USERS, generateUsersLdif, slapdAvailable, startSlapd, type TestSlapd } from '../test/support/slapd.ts';

export type DirectoryStoreMode = 'embedded' | 'postgres';

export interface MemoryFigure {
  /** After a full GC, just before the run (MB). */
  baselineRssMb: number;
  baselineHeapMb: number;
  /** Highest value sampled during the run (every 50 ms, at each progress call of the engine, at its end). */
  peakRssMb: number;
  peakHeapMb: number;
  /** V8 external memory, ArrayBuffers included (PGlite's WebAssembly memory is one). */
  baselineExternalMb: number;
  peakExternalMb: number;
  /** The kernel's own peak RSS over the run (VmHWM, reset before it), when the kernel allows it. */
  kernelPeakRssMb?: number;
  samples: number;
}

export interface SyncFigure {
  name: string;
  requested: 'full' | 'incremental';
  /** How it ran (an incremental run escalates to full without a usable watermark). */
  ranAs: 'full' | 'incremental';
  escalated?: string;
  status: SyncSummary['status'];
  /** Around rt.ldap.sync(), ms (without the liveHeap GC). */
  wallMs: number;
  /** The engine's own summary.durationMs (with it). */
  engineMs: number;
  /** From the start to the first 'applying' progress call: connect, read everything, plan (ms). */
  readPlanMs?: number;
  /** From there to the end: apply the changes, move the watermark, record the run (ms). */
  applyMs?: number;
  counts: Pick<SyncSummary, 'entries' | 'groups' | 'created' | 'updated' | 'disabled' | 'reenabled' | 'unchanged' | 'errors'>;
  /** Directory entries the run read per second of wall time. */
  usersPerSecond: number;
  /** This process's CPU time over the run (all threads; PostgreSQL, Redis and slapd not included). */
  cpuMs: number;
  /** SQL statements the run sent, transaction control included, and the transactions among them. */
  /** V8 heap in use after a full GC when the apply phase began (the first full sync only): what the engine holds then. */
  liveHeapAtApplyMb?: number;
  sqlStatements: number;
  transactions: number;
  /** The most frequent statements (first 110 characters), with how often the run sent each. */
  topStatements: Array<{ count: number; sql: string }>;
  /** People applied per second over the first and the last tenth of the apply phase (≥ 500 changes). */
  applyRateFirstTenth?: number;
  applyRateLastTenth?: number;
  memory: MemoryFigure;
}

export interface LdapFloor {
  /** Median of the measured reads, ms: StartTLS, bind, groups (with member lists), users. */
  ms: number;
  runsMs: number[];
  users: number;
  groups: number;
  /** member values read with the groups. */
  memberValues: number;
  usersPerSecond: number;
  cpuMs: number;
}

export interface DirectorySyncResult {
  mode: DirectoryStoreMode;
  directory: {
    /** Generated people and groups (the directory also holds the clinic fixture's few). */
    generatedUsers: number;
    generatedGroups: number;
    users: number;
    groups: number;
    changes: number;
    pageSize: number;
    mappingRules: number;
    /** LDIF generation + slapadd + slapd start, ms (setup, not a figure). */
    setupMs: number;
  };
  pinned: string;
  floor: LdapFloor;
  full: SyncFigure;
  fullUnchanged: SyncFigure;
  incremental: SyncFigure;
  incrementalUnchanged: SyncFigure;
  /** Users the mapping rules gave a role (assignments with the source as upstream). */
  mappedAssignments: number;
  ratios: {
    /** First full sync wall time ÷ the floor: how many LDAP reads one sync costs. */
    fullVsFloor: number;
    /** Full sync with nothing to change ÷ the floor (1 would be: reading is all it does). */
    unchangedVsFloor: number;
    /** Per user, ms: the first full sync, the unchanged one, the floor. */
    fullMsPerUser: number;
    unchangedMsPerUser: number;
    floorMsPerUser: number;
  };
  /** What did not come out as expected; empty when every count matched. */
  mismatches: string[];
  profiles?: string[];
}

const progress = (line: string) => process.stderr.write(`${line}\n`);
const mb = (bytes: number) => bytes / 1024 / 1024;
const actor = { type: 'cli' as const, id: 'bench' };
const TENANT = 'bench';
const SOURCE = 'corp';

// ---------------------------------------------------------------------------------------------
// Memory: sampled on a timer and at the engine's progress calls (a long stretch without a return to
// the event loop delays the timer), with the kernel's VmHWM kept next to it as a check on RSS.

function kernelPeakRss(): number | undefined {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return line ? Number(line.replace(/\D+/g, '')) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function resetKernelPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // 5: reset the peak RSS (VmHWM) to the current RSS
    return true;
  } catch {
    return false;
  }
}

function memorySampler() {
  (globalThis as { gc?: () => void }).gc?.();
  const reset = resetKernelPeak();
  const base = process.memoryUsage();
  const peak = { rss: base.rss, heap: base.heapUsed, external: base.external };
  let samples = 0;
  const sample = () => {
    const m = process.memoryUsage();
    samples++;
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
  };
  const timer = setInterval(sample, 50);
  return {
    sample,
    stop(): MemoryFigure {
      clearInterval(timer);
      sample();
      const kernel = reset ? kernelPeakRss() : undefined;
      return {
        baselineRssMb: mb(base.rss), baselineHeapMb: mb(base.heapUsed), peakRssMb: mb(peak.rss), peakHeapMb: mb(peak.heap), baselineExternalMb: mb(base.external), peakExternalMb: mb(peak.external),
        ...(kernel !== undefined ? { kernelPeakRssMb: mb(kernel) } : {}), samples,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function profiled<T>(dir: string | undefined, name: string, work: () => Promise<T>, written: string[]): Promise<T> {
  if (!dir) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(profile));
    written.push(file);
    session.disconnect();
  }
}

// SQL statements sent (BEGIN/START TRANSACTION and COMMIT included), counted where both stores'
// drivers send them: the PGlite instance typeorm-pglite shares with the embedded driver's direct
// queries, or node-postgres' Client (TypeORM's postgres driver and its pool use it).
const statements = { total: 0, transactions: 0, byText: new Map<string, number>() };

function countStatement(sql: unknown) {
  statements.total++;
  const text = typeof sql === 'string' ? sql : ((sql as { text?: string } | undefined)?.text ?? '');
  // Only the start of the text, as it is: cheap on the hot path (whitespace is tidied for the report).
  const key = text.trimStart().slice(0, 110);
  if (key.startsWith('START TRANSACTION') || key.startsWith('BEGIN')) statements.transactions++;
  statements.byText.set(key, (statements.byText.get(key) ?? 0) + 1);
}

/** The statements sent since `before` (a copy of byText), most frequent first. */
function statementMix(before: Map<string, number>, top = 15): Array<{ count: number; sql: string }> {
  return [...statements.byText].map(([sql, n]) => ({ sql: sql.replace(/\s+/g, ' ').trim(), count: n - (before.get(sql) ?? 0) })).filter((s) => s.count > 0)
    .sort((a, b) => b.count - a.count).slice(0, top);
}

async function countStatements(mode: DirectoryStoreMode) {
  if (mode === 'postgres') {
    const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const query = proto.query;
    proto.query = function (this: unknown, ...args: unknown[]) {
      countStatement(args[0]);
      return query.apply(this, args);
    };
    return;
  }
  const db = (await getPGliteInstance()) as unknown as Record<'query' | 'exec', (...args: unknown[]) => unknown>;
  for (const method of ['query', 'exec'] as const) {
    const original = db[method].bind(db);
    db[method] = (...args: unknown[]) => {
      countStatement(args[0]);
      return original(...args);
    };
  }
}

function applyRates(marks: Array<{ t: number; applied: number }>): Pick<SyncFigure, 'applyRateFirstTenth' | 'applyRateLastTenth'> {
  const total = marks.at(-1)?.applied ?? 0;
  if (total < 500) return {};
  const rate = (from: number, to: number) => {
    const a = marks.find((m) => m.applied >= from)!;
    const b = marks.find((m) => m.applied >= to) ?? marks.at(-1)!;
    return (b.applied - a.applied) / ((b.t - a.t) / 1000);
  };
  return { applyRateFirstTenth: rate(0, total / 10), applyRateLastTenth: rate(total * 0.9, total) };
}

/** One sync run, timed, its phases and memory recorded. */
async function measureSync(rt: Runtime, name: string, full: boolean, { liveHeap = false } = {}): Promise<{ figure: SyncFigure; summary: SyncSummary }> {
  const memory = memorySampler();
  const sql = { total: statements.total, transactions: statements.transactions, byText: new Map(statements.byText) };
  // Apply progress (at each of the engine's progress calls): the rate at the start and at the end
  // of the apply phase tells a per-person cost that grows with the tables from a constant one.
  const marks: Array<{ t: number; applied: number }> = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  let applyingAt: number | undefined;
  // With liveHeap: a full GC when applying starts, to weigh what the engine holds then (every entry
  // read, the plan); its time is taken out of the wall, apply and CPU figures.
  let live: { heapMb: number; ms: number; cpuMs: number } | undefined;
  const summary = await rt.ldap.sync(TENANT, SOURCE, {
    full, trigger: 'cli', actor,
    // Also sampled here (after each page read, each batch applied): a run on PGlite resolves
    // query after query without returning to the event loop's timers for seconds at a time.
    onProgress: (p) => {
      memory.sample();
      if (p.phase === 'applying' && applyingAt === undefined) {
        applyingAt = performance.now();
        const gc = (globalThis as { gc?: () => void }).gc;
        if (liveHeap && gc) {
          const cpuBefore = process.cpuUsage();
          gc();
          const used = process.cpuUsage(cpuBefore);
          live = { heapMb: mb(process.memoryUsage().heapUsed), ms: performance.now() - applyingAt, cpuMs: (used.user + used.system) / 1000 };
        }
      }
      if (p.phase === 'applying') marks.push({ t: performance.now() - (live?.ms ?? 0), applied: p.applied });
    },
  });
  const end = performance.now() - (live?.ms ?? 0);
  const wallMs = end - start;
  const used = process.cpuUsage(cpu);
  const { entries, groups, created, updated, disabled, reenabled, unchanged, errors } = summary;
  return {
    summary,
    figure: {
      name, requested: full ? 'full' : 'incremental', ranAs: summary.mode, ...(summary.escalated ? { escalated: summary.escalated } : {}), status: summary.status,
      wallMs, engineMs: summary.durationMs,
      ...(applyingAt !== undefined ? { readPlanMs: applyingAt - start, applyMs: end - applyingAt } : {}),
      counts: { entries, groups, created, updated, disabled, reenabled, unchanged, errors },
      usersPerSecond: entries / (wallMs / 1000),
      cpuMs: (used.user + used.system) / 1000 - (live?.cpuMs ?? 0),
      ...(live ? { liveHeapAtApplyMb: live.heapMb } : {}),
      sqlStatements: statements.total - sql.total,
      transactions: statements.transactions - sql.transactions,
      topStatements: statementMix(sql.byText),
      ...applyRates(marks),
      memory: memory.stop(),
    },
  };
}

/** The LDAP read alone: what the sync reads, through ldapts the way the engine's connection does. */
async function readDirectory(ldap: TestSlapd, s: SourceSettings): Promise<{ ms: number; cpuMs: number; users: number; groups: number; memberValues: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const client = new Client({ url: ldap.url, timeout: s.timeoutSeconds * 1000, connectTimeout: s.connectTimeoutSeconds * 1000, strictDN: false });
  let users = 0;
  let groups = 0;
  let memberValues = 0;
  try {
    await client.startTLS({ ca: ldap.caPem, host: '127.0.0.1', minVersion: 'TLSv1.2', rejectUnauthorized: true });
    await client.bind(ldap.bindDn, ldap.bindPassword);
    const groupAttributes = [s.attributes.groupName, ...(s.groupMembership === 'member' ? ['member', 'uniqueMember'] : ['memberOf'])];
    for await (const page of client.searchPaginated(s.groupBaseDn, { scope: 'sub', filter: s.groupFilter, attributes: groupAttributes, paged: { pageSize: s.pageSize } })) {
      groups += page.searchEntries.length;
      for (const g of page.searchEntries) memberValues += [g.member ?? []].flat().length + [g.uniqueMember ?? []].flat().length;
    }
    const { attributes, binary } = userAttributes(s);
    for await (const page of client.searchPaginated(s.baseDn, { scope: 'sub', filter: s.userFilter, attributes, paged: { pageSize: s.pageSize }, explicitBufferAttributes: binary })) {
      users += page.searchEntries.length;
    }
  } finally {
    await client.unbind().catch(() => {});
  }
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, users, groups, memberValues };
}

async function measureFloor(ldap: TestSlapd, s: SourceSettings): Promise<LdapFloor> {
  await readDirectory(ldap, s); // unmeasured: ldapts and slapd's caches warm
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await readDirectory(ldap, s));
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const median = sorted[1]!;
  return {
    ms: median.ms, runsMs: runs.map((r) => r.ms), users: median.users, groups: median.groups, memberValues: median.memberValues,
    usersPerSecond: median.users / (median.ms / 1000), cpuMs: median.cpuMs,
  };
}

/** LDIF modifying `uids`' title, mail and telephoneNumber (a profile field and two owned fields). */
function changesLdif(ldap: TestSlapd, uids: string[]): string {
  return uids.map((uid, k) => [
    `dn: ${ldap.userDn(uid)}`, 'changetype: modify',
    'replace: title', `title: Charge Nurse ${k}`, '-',
    'replace: mail', `mail: ${uid}.changed@clinic.example`, '-',
    'replace: telephoneNumber', `telephoneNumber: +1 617 555 9${String(k).padStart(3, '0')}`, '-',
    '',
  ].join('\n')).join('\n');
}

function pinTo(cpu: number | undefined): string {
  if (cpu === undefined) return 'not pinned';
  // -a: every thread (libuv pool, V8 helpers, PGlite runs in this thread), including later ones.
  const ok = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' }).status === 0;
  return ok ? `sync process pinned to CPU ${cpu}; slapd started before, on the load generator's cores` : `could not pin to CPU ${cpu}`;
}

export interface DirectoryBenchOptions {
  mode: DirectoryStoreMode;
  users: number;
  groups: number;
  changes: number;
  pin?: number;
  cpuProfDir?: string;
}


export async function measureDirectorySync(opts: DirectoryBenchOptions): Promise<DirectorySyncResult> {
  if (!slapdAvailable()) throw new Error('the directory benchmark needs OpenLDAP: /usr/sbin/slapd and ldap-utils (apt-get install slapd ldap-utils)');
  const mismatches: string[] = [];
  const expect = (what: string, actual: unknown, wanted: unknown) => {
    if (actual !== wanted) mismatches.push(`${what}: ${String(actual)}, expected ${String(wanted)}`);
  };

  progress(`generating ${opts.users.toLocaleString('en-US')} users / ${opts.groups} groups, starting slapd`);
  const setupStart = performance.now();
  const ldap = await startSlapd({ preload: generateUsersLdif(opts.users, opts.groups) });
  const setupMs = performance.now() - setupStart;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'caregate-bench-directory-'));
  let rt: Runtime | undefined;
  let tenantId: string | undefined;
  try {
    const pinned = pinTo(opts.pin);
    const env: NodeJS.ProcessEnv = {};
    if (opts.mode === 'postgres') {
      if (!process.env.DATABASE_URL || !process.env.REDIS_URL) throw new Error('--mode postgres needs DATABASE_URL (an empty database) and REDIS_URL');
      Object.assign(env, { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL, CAREGATE_MASTER_KEY: randomBytes(32).toString('base64') });
    }
    const config = loadConfig(env, { dataDir, logLevel: 'error', baseUrl: 'http://127.0.0.1:1' });
    rt = await openRuntime(config, { migrate: true });
    await countStatements(opts.mode);
    const tenant = await rt.accounts.tenants.create({ slug: TENANT }, actor);
    tenantId = tenant.id;
    await rt.accounts.roles.create(TENANT, { key: 'ward_nurse', name: 'Ward Nurse', permissions: ['reports:read'] }, actor);
    await rt.accounts.locations.create(TENANT, { key: 'ward-north', name: 'Ward North' }, actor);
    // A few rules, as a clinic would have: 50 groups to a tenant-wide role, 10 to a role at a
    // location, one to another role (about a third of the people get a role).
    const groupsNamed = (from: number, to: number) => Array.from({ length: to - from }, (_, j) => benchGroup(from + j)).filter((_, j) => from + j < opts.groups);
    const mappings = [
      { claim: 'groups', equals: groupsNamed(0, 50), role: 'reporting_user' },
      { claim: 'groups', equals: groupsNamed(50, 60), role: 'ward_nurse', scope: { type: 'location' as const, key: 'ward-north' } },
      { claim: 'groups', equals: benchGroup(Math.min(100, opts.groups - 1)), role: 'analytics_admin' },
    ].filter((m) => m.equals.length > 0);
    const raw = {
      key: SOURCE, name: 'Corp', preset: 'openldap' as const, urls: [ldap.url], caCertificates: ldap.caPem,
      bindDn: ldap.bindDn, bindPassword: ldap.bindPassword, baseDn: ldap.peopleDn, groupBaseDn: ldap.groupsDn, mappings,
      // Only asked for: the bench runs every sync itself.
      syncIntervalMinutes: 0,
    };
    await rt.ldap.sources.create(TENANT, raw, actor);
    const settings = sourceSettings.parse(raw);

    const users = opts.users + FIXTURE_USERS.length;
    const profiles: string[] = [];
    const prof = opts.cpuProfDir;
    progress(`first full sync of ${users.toLocaleString('en-US')} users (${opts.mode})`);
    const full = await profiled(prof, `directory-sync-${opts.mode}-full.cpuprofile`, () => measureSync(rt!, 'first full sync', true, { liveHeap: true }), profiles);
    expect('first full sync: status', full.summary.status, 'succeeded');
    expect('first full sync: created', full.summary.created, users);
    expect('first full sync: errors', full.summary.errors, 0);
    if (full.summary.status !== 'succeeded') mismatches.push(`first full sync: ${full.summary.reason}: ${full.summary.message}`);
    if (full.summary.errorList.length) mismatches.push(`first full sync errors: ${JSON.stringify(full.summary.errorList.slice(0, 3))}`);
    progress(`  ${(full.figure.wallMs / 1000).toFixed(1)} s; full sync again, nothing changed`);

    const again = await profiled(prof, `directory-sync-${opts.mode}-unchanged.cpuprofile`, () => measureSync(rt!, 'full sync, nothing changed', true), profiles);
    expect('second full sync: status', again.summary.status, 'succeeded');
    expect('second full sync: unchanged', again.summary.unchanged, users);
    expect('second full sync: created + updated + disabled + reenabled', again.summary.created + again.summary.updated + again.summary.disabled + again.summary.reenabled, 0);
    progress(`  ${(again.figure.wallMs / 1000).toFixed(1)} s; ${opts.changes} people changed in slapd, then an incremental sync`);

    const step = Math.max(1, Math.floor(opts.users / opts.changes));
    const changed = Array.from({ length: opts.changes }, (_, k) => benchUid((k * step + 1) % opts.users));
    await ldap.ldif(changesLdif(ldap, changed));
    const incremental = await measureSync(rt, `incremental after ${opts.changes} changes`, false);
    expect('incremental sync: status', incremental.summary.status, 'succeeded');
    expect('incremental sync: ran as', incremental.summary.mode, 'incremental');
    if (incremental.summary.escalated) mismatches.push(`incremental sync escalated to full: ${incremental.summary.escalated}`);
    expect('incremental sync: entries read', incremental.summary.entries, opts.changes);
    expect('incremental sync: updated', incremental.summary.updated, opts.changes);
    expect('incremental sync: created + disabled + reenabled', incremental.summary.created + incremental.summary.disabled + incremental.summary.reenabled, 0);
    // The change reached the account: the first changed person's new address.
    const first = await rt.accounts.users.findUser(TENANT, changed[0]!).catch(() => undefined);
    expect(`incremental sync: ${changed[0]}'s email`, (first as { email?: string } | undefined)?.email, `${changed[0]}.changed@clinic.example`);

    progress(`  ${(incremental.figure.wallMs / 1000).toFixed(2)} s; incremental sync, nothing changed`);
    const none = await measureSync(rt, 'incremental, nothing changed', false);
    expect('incremental sync, nothing changed: status', none.summary.status, 'succeeded');
    expect('incremental sync, nothing changed: ran as', none.summary.mode, 'incremental');
    expect('incremental sync, nothing changed: entries read', none.summary.entries, 0);
    expect('incremental sync, nothing changed: changes', none.summary.created + none.summary.updated + none.summary.disabled + none.summary.reenabled, 0);

    // The floor runs after the syncs, not before: its 40,000 entries read in this process leave about
    // 160 MB committed that the heap does not give back, and measured first they were charged to the
    // first sync's memory baseline and peak. A sync started by the server or `caregate directory
    // sync` has no such read before it.
    progress(`LDAP read alone (floor): StartTLS, bind, ${settings.pageSize}-entry pages of groups and users; 1 unmeasured + 3`);
    const floor = await measureFloor(ldap, settings);
    expect('floor: users read', floor.users, users);
    expect('first full sync: groups', full.summary.groups, floor.groups);

    const [{ n: mapped } = { n: 0 }] = await rt.storage.query<{ n: number }>('SELECT count(*)::int AS n FROM assignments WHERE tenant_id = $1 AND upstream = $2', [tenant.id, `ldap:${SOURCE}`]);
    if (mapped === 0) mismatches.push('the mapping rules assigned no role');

    return {
      mode: opts.mode,
      directory: {
        generatedUsers: opts.users, generatedGroups: opts.groups, users, groups: floor.groups, changes: opts.changes, pageSize: settings.pageSize,
        mappingRules: mappings.length, setupMs,
      },
      pinned,
      floor,
      full: full.figure,
      fullUnchanged: again.figure,
      incremental: incremental.figure,
      incrementalUnchanged: none.figure,
      mappedAssignments: mapped,
      ratios: {
        fullVsFloor: full.figure.wallMs / floor.ms,
        unchangedVsFloor: again.figure.wallMs / floor.ms,
        fullMsPerUser: full.figure.wallMs / users,
        unchangedMsPerUser: again.figure.wallMs / users,
        floorMsPerUser: floor.ms / users,
      },
      mismatches,
      ...(profiles.length ? { profiles } : {}),
    };
  } finally {
    await rt?.close().catch(() => {});
    if (opts.mode === 'postgres' && tenantId && process.env.REDIS_URL) await deleteRedisKeysOf(process.env.REDIS_URL, tenantId).catch(() => {});
    await ldap.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): DirectoryBenchOptions {
  const opts: DirectoryBenchOptions = { mode: 'embedded', users: 10_000, groups: 200, changes: 10 };
  const int = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer (got ${v})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--mode') {
      const mode = argv[++i];
      if (mode !== 'embedded' && mode !== 'postgres') throw new Error('--mode embedded|postgres');
      opts.mode = mode;
    } else if (arg === '--users') opts.users = int(arg, argv[++i]);
    else if (arg === '--groups') opts.groups = int(arg, argv[++i]);
    else if (arg === '--changes') opts.changes = int(arg, argv[++i]);
    else if (arg === '--pin') opts.pin = Number(argv[++i]);
    else if (arg === '--cpu-prof') opts.cpuProfDir = argv[++i];
    else throw new Error(`unknown argument ${arg}`);
  }
  if (opts.groups > opts.users) throw new Error('--groups must not exceed --users');
  if (opts.changes > opts.users) throw new Error('--changes must not exceed --users');
  return opts;
}

if (import.meta.main) {
  try {
    const result = await measureDirectorySync(parseArgs(process.argv.slice(2)));
    process.stdout.write(JSON.stringify(result) + '\n');
    // PGlite, ioredis or a pool may keep the loop alive; the result is out.
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  }
}
