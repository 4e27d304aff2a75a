// The benchmark's result document and its text table.
import type { TokenSample } from './client-credentials.ts';
import type { LoopResult } from './closed-loop.ts';
import type { DirectorySyncResult, SyncFigure } from './directory-sync.ts';
import type { EndpointFigures, EndpointSample } from './endpoints.ts';
import type { HashRate } from './hash-rate.ts';
import type { RejectedResult, RejectionPolicy } from './rejected-login.ts';
import { AFTER_LOAD_MS, restartMedian, type FloorStartupResult, type MemoryFigure, type StartupResult } from './startup.ts';
import { cpuMsPerOp, type Figure } from './stats.ts';
import type { UserSearchResult } from './user-search.ts';

/**
 * Targets from issue 17's table (DESIGN.md "Fast where it matters": a token costs one signature, a
 * login one hash): ratios to the floor measured in the same run, rates, memory and start-up times.
 */
export const TARGETS = {
  clientCredentialsVsFloor: 0.85,
  loginVsHash: 0.7,
  refreshPerSecond: { embedded: 600, postgres: 1000 },
  introspectionVsFloor: 0.7,
  introspectionPerSecond: 5000,
  userinfoVsFloor: 0.7,
  discoveryVsFloor: 0.8,
  /** Server CPU of one decision through the evaluation endpoint ("well under a millisecond"). */
  decisionCpuMs: 0.5,
  idleRssMb: { embedded: 250, postgres: 150 },
  rssAfterTokensVsIdle: 1.3,
  restartMs: 2000,
  firstStartMs: 5000,
  directoryFullSyncSeconds: 10,
  directoryPeakRssMb: { embedded: 400 },
} as const;

/** Server CPU per operation, from the process's CPU time over the measured window ÷ operations. */
export interface CpuCost {
  /** Milliseconds, all threads. */
  ms?: number;
  /** Of which on libuv's thread pool, where argon2 runs (≈ 0 means no hash was computed). */
  poolMs?: number;
}

export interface CaregateResults {
  mode: 'embedded' | 'postgres';
  /** Absent with --rejected-only. */
  clientCredentials?: Figure;
  /** The same request for an application whose role is held through a weekly window and limits two permissions. Absent with --rejected-only. */
  limitedClientCredentials?: Figure;
  token?: TokenSample;
  login: LoopResult;
  /** Absent with --rejected-only. */
  refresh?: LoopResult;
  /** Single sign-on of a signed-in browser, OIDC and SAML (bench/sso-flows.ts). Absent with --rejected-only. */
  sso?: { oidc: LoopResult; saml: LoopResult };
  /** Refused sign-in attempts (bench/rejected-login.ts) and the policy they ran under. */
  rejected: { policy: RejectionPolicy; locked: RejectedResult; throttled: RejectedResult };
  cpuPerOperation: { login: CpuCost; locked: CpuCost; throttled: CpuCost };
  ratios: {
    clientCredentialsVsFloor?: number;
    /** Rotating refresh grants/s ÷ bare oidc-provider's, same run. */
    refreshVsFloor?: number;
    /** Tokens per second through a weekly window and constraints ÷ without them (same instance, same run). */
    limitedVsPlainClientCredentials?: number;
    loginVsHash: number;
    /** Password logins/s ÷ bare oidc-provider's with the same password check (floor-server.ts), same run. */
    loginVsFloor?: number;
    /** SAML SSO responses per second ÷ OIDC code flows per second, both for signed-in browsers. */
    samlVsOidcSso?: number;
    /** Refused attempts per second ÷ argon2id verifications per second. */
    lockedVsHash: number;
    throttledVsHash: number;
    /** Server CPU of one refused attempt ÷ that of one full sign-in. */
    lockedCpuVsLogin?: number;
    throttledCpuVsLogin?: number;
  };
}

/** Introspection, userinfo and discovery of one server (bench/endpoints.ts). */
export interface EndpointMeasure {
  sample: EndpointSample;
  figures: EndpointFigures;
}

export interface CaregateEndpoints extends EndpointMeasure {
  mode: 'embedded' | 'postgres';
  /** Caregate's rate ÷ the floor's, per endpoint. */
  ratios?: { introspection: number; userinfo: number; discovery: number };
}

export const endpointRatios = (c: EndpointFigures, floor: EndpointFigures) => ({
  introspection: c.introspection.perSecond / floor.introspection.perSecond,
  userinfo: c.userinfo.perSecond / floor.userinfo.perSecond,
  discovery: c.discovery.perSecond / floor.discovery.perSecond,
});

/** Live decisions of one Caregate store: the evaluation endpoint's figure, and its rate ÷ the in-process floor's. */
export interface DecisionMeasure {
  mode: 'embedded' | 'postgres';
  figure: Figure;
  ratio?: number;
}

export interface BenchResults {
  /** loadAverageAtStart: the 1-minute load average before the run, i.e. other work on the machine. */
  /** scope: all (the default), rejected-only, directory (--directory: only the directory sync figures). */
  /** scope user-search: --user-search, the user list figures only. */
  /** scope endpoints: --endpoints; decisions: --decisions; startup: --startup. */
  meta: { date: string; node: string; cpuModel: string; cores: number; platform: string; loadAverageAtStart: number; scope: 'all' | 'rejected-only' | 'endpoints' | 'decisions' | 'startup' | 'directory' | 'user-search' };
  cpu: { note: string; serverCpu?: number; loadCpus: number[] };
  load: {
    seconds: number; warmupSeconds: number; hashSeconds: number; connections: number; loginVus: number; refreshVus: number; rejectedVus: number;
    /** Generated directory people and groups, and people changed before the incremental sync (with the directory figures). */
    directory?: { users: number; groups: number; changes: number };
    /** Users seeded and closed-loop virtual users (with the user list figures). */
    userSearch?: { users: number; virtualUsers: number };
  };
  /** Absent with --directory (as are floor and the caregate figures: caregate is then empty). */
  hash?: HashRate;
  /** CPU of one verification in the hash-rate child. */
  hashCpu?: CpuCost;
  /** Absent with --rejected-only. */
  /** Bare oidc-provider (bench/floor-server.ts); login: its sign-in with an argon2id password check, absent with --rejected-only. */
  floor?: { clientCredentials: Figure; token: TokenSample; refresh?: Figure; login?: LoopResult };
  caregate: CaregateResults[];
  /** Token introspection, userinfo and discovery: the floor's and each Caregate store's. Absent with --rejected-only. */
  endpoints?: { floor: EndpointMeasure; caregate: CaregateEndpoints[] };
  /** Live decisions: the evaluator in-process (floor) and each store's evaluation endpoint. Absent with --rejected-only and --endpoints. */
  decisions?: { floor: Figure; caregate: DecisionMeasure[] };
  /** Start-up time and resident memory (bench/startup.ts). Absent with --no-startup and the other scopes. */
  startup?: { floor: FloorStartupResult; caregate: StartupResult[] };
  /** Directory sync figures, one per store (bench/directory-sync.ts). Absent with --rejected-only and --no-directory. */
  directory?: DirectorySyncResult[];
  /** Why a full run has no directory figures (slapd not installed). */
  directorySkipped?: string;
  /** The admin console's user list at 50,000 users, PostgreSQL (bench/user-search.ts). */
  userSearch?: UserSearchResult;
  /** Why a full run has no user list figures (no PostgreSQL configured). */
  userSearchSkipped?: string;
}

/** Every figure with its name, for the error list and the exit code. */
export function allFigures(r: BenchResults): Array<[string, Figure]> {
  const list: Array<[string, Figure]> = r.floor ? [['floor client credentials', r.floor.clientCredentials]] : [];
  if (r.floor?.refresh) list.push(['floor refresh', r.floor.refresh]);
  for (const c of r.caregate) {
    if (c.clientCredentials) list.push([`${c.mode} client credentials`, c.clientCredentials]);
    if (c.limitedClientCredentials) list.push([`${c.mode} client credentials (window and constraints)`, c.limitedClientCredentials]);
    list.push([`${c.mode} login`, c.login.figure]);
    if (c.refresh) list.push([`${c.mode} refresh`, c.refresh.figure]);
    if (c.sso) list.push([`${c.mode} OIDC SSO`, c.sso.oidc.figure], [`${c.mode} SAML SSO`, c.sso.saml.figure]);
    list.push([`${c.mode} rejected (locked account)`, c.rejected.locked.figure], [`${c.mode} rejected (throttled address)`, c.rejected.throttled.figure]);
  }
  const endpointFigures = (name: string, e: EndpointMeasure) =>
    list.push([`${name} introspection`, e.figures.introspection], [`${name} userinfo`, e.figures.userinfo], [`${name} discovery`, e.figures.discovery]);
  if (r.endpoints) {
    endpointFigures('floor', r.endpoints.floor);
    for (const c of r.endpoints.caregate) endpointFigures(c.mode, c);
  }
  if (r.decisions) list.push(['floor decisions in-process', r.decisions.floor], ...r.decisions.caregate.map((c): [string, Figure] => [`${c.mode} decisions`, c.figure]));
  if (r.startup) {
    list.push(['floor token requests (memory figure)', r.startup.floor.memory.tokens]);
    for (const c of r.startup.caregate) list.push([`${c.mode} token requests (memory figure)`, c.memory.tokens]);
  }
  for (const f of r.userSearch?.figures ?? []) list.push([`user list ${f.name}: Caregate`, f.caregate], [`user list ${f.name}: floor`, f.floor]);
  return list;
}

/** Rejected-attempt figures whose audit log does not show exactly one expected refusal per attempt. */
export function auditMismatches(r: BenchResults): RejectedResult[] {
  return r.caregate.flatMap((c) => [c.rejected.locked, c.rejected.throttled]).filter((x) => x.audit.matching !== x.audit.attempts || Object.keys(x.audit.unexpected).length > 0);
}

/** User list answers whose count or page differed from the floor's (the same search sent straight to PostgreSQL). */
export function userSearchMismatches(r: BenchResults): string[] {
  return r.userSearch?.mismatches ?? [];
}

/** Directory syncs whose counts (or checks) did not come out as the directory changes call for. */
export function directoryMismatches(r: BenchResults): Array<{ mode: string; mismatch: string }> {
  return (r.directory ?? []).flatMap((d) => d.mismatches.map((mismatch) => ({ mode: d.mode, mismatch })));
}

const rate = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;

interface Row {
  name: string;
  f: Figure;
  ratio?: string;
  target?: string;
}

function table(rows: Row[]): string {
  const head = ['measurement', 'per second', 'p50 ms', 'p99 ms', 'errors', 'server CPU', 'ratio', 'target'];
  const cpu = (f: Figure) => (f.serverCpu === undefined ? '–' : `${(f.serverCpu * 100).toFixed(0)}%`);
  const cells = rows.map((r) => [r.name, rate(r.f.perSecond), ms(r.f.p50), ms(r.f.p99), String(r.f.errors), cpu(r.f), r.ratio ?? '', r.target ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 || i >= 6 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

const verdict = (ratio: number, target: number) => `≥ ${pct(target)} ${ratio >= target ? 'met' : 'MISSED'}`;
const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
const atLeast = (value: number, target: number, unit: string) => `≥ ${target.toLocaleString('en-US')}${unit} ${met(value >= target)}`;
const atMost = (value: number, target: number, unit: string) => `≤ ${target.toLocaleString('en-US')}${unit} ${met(value <= target)}`;

const times = (n: number) => `${n >= 10 ? n.toFixed(0) : n.toFixed(2)} × hash/s`;
const cpuMs = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(1));

/** Server CPU per operation: all threads, the libuv pool's part, and the share of a full sign-in. */
function cpuTable(r: BenchResults): string[] {
  const rows: string[][] = [['argon2id verify (hash-rate child)', cpuMs(r.hashCpu?.ms), '', '']];
  if (r.floor?.login) {
    const f = r.floor.login.figure;
    rows.push(['password login end to end: bare oidc-provider (floor)', cpuMs(cpuMsPerOp(f)), cpuMs(cpuMsPerOp(f, 'pool')), '']);
  }
  for (const c of r.caregate) {
    const { login, locked, throttled } = c.cpuPerOperation;
    rows.push(
      [`password login end to end: ${c.mode}`, cpuMs(login.ms), cpuMs(login.poolMs), '100%'],
      [`rejected, locked account: ${c.mode}`, cpuMs(locked.ms), cpuMs(locked.poolMs), c.ratios.lockedCpuVsLogin === undefined ? '–' : pct(c.ratios.lockedCpuVsLogin)],
      [`rejected, throttled address: ${c.mode}`, cpuMs(throttled.ms), cpuMs(throttled.poolMs), c.ratios.throttledCpuVsLogin === undefined ? '–' : pct(c.ratios.throttledCpuVsLogin)],
    );
  }
  const head = ['server CPU per operation', 'CPU ms', 'of which pool', 'of a login'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

const SCOPE_NOTE: Record<BenchResults['meta']['scope'], string> = {
  all: '',
  'rejected-only': ' (--rejected-only: no floor, client credentials or refresh grants)',
  directory: ' (--directory: directory sync figures only)',
  'user-search': ' (--user-search: user list figures only)',
  endpoints: ' (--endpoints: token introspection, userinfo and discovery only)',
  decisions: ' (--decisions: live decisions only)',
  startup: ' (--startup: start-up and memory figures only)',
};

export function formatReport(r: BenchResults): string {
  const out = [
    `Caregate benchmark, ${r.meta.date}${SCOPE_NOTE[r.meta.scope]}`,
    `machine: ${r.meta.cores} × ${r.meta.cpuModel}, ${r.meta.platform}, Node ${r.meta.node}`,
    `cpu:     ${r.cpu.note}`,
    `other:   1-minute load average before the run ${r.meta.loadAverageAtStart.toFixed(2)}${r.meta.loadAverageAtStart > 0.5 ? ' — other work is running on this machine; expect noisy figures' : ''}`,
  ];
  if (r.hash) out.push(...serverReport(r, r.hash));
  if (r.endpoints) out.push('', ...endpointReport(r.endpoints, r.load));
  if (r.decisions) out.push('', ...decisionReport(r.decisions, r.load));
  if (r.startup) out.push('', ...startupReport(r.startup, r.load.connections));
  if (r.directory?.length) out.push('', ...directoryReport(r.directory));
  if (r.directorySkipped) out.push('', `directory sync: skipped — ${r.directorySkipped}`);
  if (r.userSearch) out.push('', ...userSearchReport(r.userSearch, r.load.connections));
  if (r.userSearchSkipped) out.push('', `user list at 50,000 users: skipped — ${r.userSearchSkipped}`);
  if (!r.hash) out.push(...errorLines(r));
  return out.join('\n');
}

/** Introspection, userinfo and discovery: the floor's rows, then each store's beside them. */
function endpointReport(e: NonNullable<BenchResults['endpoints']>, load: BenchResults['load']): string[] {
  const rows: Row[] = [
    { name: 'token introspection: bare oidc-provider (floor)', f: e.floor.figures.introspection },
    { name: 'userinfo: bare oidc-provider (floor)', f: e.floor.figures.userinfo },
    { name: 'discovery: bare oidc-provider (floor)', f: e.floor.figures.discovery },
  ];
  for (const c of e.caregate) {
    const ratios = c.ratios ?? endpointRatios(c.figures, e.floor.figures);
    const introspection = c.figures.introspection.perSecond;
    rows.push(
      {
        name: `token introspection: Caregate ${c.mode}`, f: c.figures.introspection, ratio: `${pct(ratios.introspection)} of floor`,
        target: `${verdict(ratios.introspection, TARGETS.introspectionVsFloor)}; ${atLeast(introspection, TARGETS.introspectionPerSecond, '/s')}`,
      },
      { name: `userinfo: Caregate ${c.mode}`, f: c.figures.userinfo, ratio: `${pct(ratios.userinfo)} of floor`, target: verdict(ratios.userinfo, TARGETS.userinfoVsFloor) },
      { name: `discovery: Caregate ${c.mode}`, f: c.figures.discovery, ratio: `${pct(ratios.discovery)} of floor`, target: verdict(ratios.discovery, TARGETS.discoveryVsFloor) },
    );
  }
  const sample = (name: string, m: EndpointMeasure) =>
    `  ${name}: introspection answers ${m.sample.introspection.join(' ')}; userinfo claims ${m.sample.userinfo.join(' ')}; discovery ${m.sample.discoveryBytes.toLocaleString('en-US')} bytes`;
  return [
    `relying-party endpoints: autocannon, ${load.connections} connections, ${load.seconds} s after ${load.warmupSeconds} s warm-up each; one opaque user access token`,
    '         (scope openid profile email roles, no resource indicator) held by a confidential client (client_secret_basic): introspected by that client',
    '         (POST introspection_endpoint, token=…), presented at userinfo (GET, Bearer); GET /.well-known/openid-configuration. Caregate\'s token comes from',
    '         a password sign-in; the floor mints the same kind of token (a grant, then an AccessToken bound to it) for its one account.',
    '',
    table(rows),
    ...[sample('floor', e.floor), ...e.caregate.map((c) => sample(`Caregate ${c.mode}`, c))],
  ];
}

/** CPU microseconds per decision, from the figure's CPU over its window. */
const cpuUs = (f: Figure) => {
  const perOp = cpuMsPerOp(f);
  return perOp === undefined ? '–' : `${(perOp * 1000).toFixed(0)} µs CPU`;
};

/** Live decisions: the evaluator in-process, then each store's evaluation endpoint beside it. */
function decisionReport(d: NonNullable<BenchResults['decisions']>, load: BenchResults['load']): string[] {
  const rows: Row[] = [{ name: 'decisions: the evaluator in-process (floor)', f: d.floor, ratio: cpuUs(d.floor) }];
  for (const c of d.caregate) {
    const perOp = cpuMsPerOp(c.figure);
    rows.push({
      name: `decisions: POST /access/v1/evaluation, Caregate ${c.mode}`, f: c.figure,
      ratio: `${pct(c.ratio ?? c.figure.perSecond / d.floor.perSecond)} of floor, ${cpuUs(c.figure)}`,
      target: perOp === undefined ? '' : atMost(perOp, TARGETS.decisionCpuMs, ' ms CPU'),
    });
  }
  return [
    `live decisions (AuthZEN): autocannon, ${load.connections} connections, ${load.seconds} s after ${load.warmupSeconds} s warm-up; one application (HTTP Basic)`,
    '         asking whether one user may reports:read (a yes: the whole evaluation runs). The floor calls the same evaluator (projectClaims, then decide)',
    '         over that user\'s snapshot in a child pinned to the server core; its p50/p99 are per decision, averaged over batches of 1,000.',
    '',
    table(rows),
  ];
}

/** Start-up times and resident memory, each beside its target. */
function startupReport(s: NonNullable<BenchResults['startup']>, connections: number): string[] {
  const head = ['measurement', 'value', 'target'];
  const rows: string[][] = [];
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const mb = (n: number) => `${n.toFixed(0)} MB`;
  const memoryRows = (name: string, m: MemoryFigure, idleTarget?: number) => {
    rows.push(
      [`resident memory, idle after start: ${name}`, `${mb(m.idleMb)}${m.idleSettled ? '' : ' (still moving)'}; start-up peak ${mb(m.startPeakMb)}, settled ${m.settleSeconds.toFixed(1)} s after ready`,
        idleTarget === undefined ? '' : atMost(m.idleMb, idleTarget, ' MB')],
      [`resident memory after ${int(m.tokens.count + m.tokens.errors)} token requests, settled: ${name}`,
        `${mb(m.afterTokensSettledMb)} = ${m.ratio.toFixed(2)} × idle (right after: ${mb(m.afterTokensMb)}; ${rate(m.tokens.perSecond)} tokens/s, ${m.tokens.errors} errors)`,
        idleTarget === undefined ? '' : `≤ ${TARGETS.rssAfterTokensVsIdle} × idle ${met(m.ratio <= TARGETS.rssAfterTokensVsIdle)}`],
    );
  };
  rows.push(['ready: bare oidc-provider (floor)', sec(s.floor.readyMs), '']);
  for (const c of s.caregate) {
    const restart = restartMedian(c);
    rows.push(
      [`first start on an empty ${c.mode === 'embedded' ? 'data directory' : 'database'}: Caregate ${c.mode}`, sec(c.firstStartMs), atMost(c.firstStartMs / 1000, TARGETS.firstStartMs / 1000, ' s')],
      [`start with existing data, median of ${c.restartMs.length}: Caregate ${c.mode}`, `${sec(restart)} (${c.restartMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')})`, atMost(restart / 1000, TARGETS.restartMs / 1000, ' s')],
    );
  }
  memoryRows('bare oidc-provider (floor)', s.floor.memory);
  for (const c of s.caregate) memoryRows(`Caregate ${c.mode}`, c.memory, TARGETS.idleRssMb[c.mode]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    'start-up and memory: `caregate serve` pinned to the server core; ready = /health answers 200 (floor: its discovery document), timed from',
    '         spawning the process; existing data: after a clean stop, a client-credentials application added with the CLI. Idle: RSS once it held',
    `         within 2 % for 3 s (start-up peak: the kernel's VmHWM by then); then client-credentials token requests, ${connections} connections, RSS right after and once it held within 2 % for 5 s, no sooner than ${AFTER_LOAD_MS / 1000} s after them.`,
    '',
    line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line),
  ];
}

/** The HTTP figures: tokens, logins, refresh, SSO, rejected attempts. */
function serverReport(r: BenchResults, hash: HashRate): string[] {
  const hashName = `argon2id verify, 1 core (m=${hash.params.memoryKib} KiB, t=${hash.params.timeCost}, p=${hash.params.parallelism})`;
  const rows: Row[] = [];
  if (r.floor) rows.push({ name: 'client credentials: bare oidc-provider (floor)', f: r.floor.clientCredentials });
  if (r.floor?.refresh) rows.push({ name: 'refresh-token grant (rotating): bare oidc-provider (floor)', f: r.floor.refresh });
  rows.push({ name: hashName, f: hash });
  if (r.floor?.login) rows.push({ name: 'password login end to end: bare oidc-provider + argon2id (floor)', f: r.floor.login.figure, ratio: `${pct(r.floor.login.figure.perSecond / hash.perSecond)} of hash/s` });
  for (const c of r.caregate) {
    if (c.clientCredentials && c.ratios.clientCredentialsVsFloor !== undefined) {
      rows.push({ name: `client credentials: Caregate ${c.mode}`, f: c.clientCredentials, ratio: `${pct(c.ratios.clientCredentialsVsFloor)} of floor`, target: verdict(c.ratios.clientCredentialsVsFloor, TARGETS.clientCredentialsVsFloor) });
    }
    if (c.limitedClientCredentials && c.ratios.limitedVsPlainClientCredentials !== undefined) {
      rows.push({ name: `client credentials, role held through a weekly window, 2 constraints: Caregate ${c.mode}`, f: c.limitedClientCredentials, ratio: `${pct(c.ratios.limitedVsPlainClientCredentials)} of without` });
    }
    const ofFloor = c.ratios.loginVsFloor === undefined ? '' : `, ${pct(c.ratios.loginVsFloor)} of floor`;
    rows.push({ name: `password login end to end: Caregate ${c.mode}`, f: c.login.figure, ratio: `${pct(c.ratios.loginVsHash)} of hash/s${ofFloor}`, target: verdict(c.ratios.loginVsHash, TARGETS.loginVsHash) });
    if (c.refresh) {
      const ratio = c.ratios.refreshVsFloor === undefined ? undefined : `${pct(c.ratios.refreshVsFloor)} of floor`;
      rows.push({ name: `refresh-token grant (rotating): Caregate ${c.mode}`, f: c.refresh.figure, ratio, target: atLeast(c.refresh.figure.perSecond, TARGETS.refreshPerSecond[c.mode], '/s') });
    }
    if (c.sso) {
      rows.push(
        { name: `SSO, signed-in browser, OIDC code flow: Caregate ${c.mode}`, f: c.sso.oidc.figure },
        { name: `SSO, signed-in browser, SAML response: Caregate ${c.mode}`, f: c.sso.saml.figure, ratio: c.ratios.samlVsOidcSso === undefined ? undefined : `${pct(c.ratios.samlVsOidcSso)} of OIDC` },
      );
    }
    rows.push(
      { name: `rejected sign-in, locked account (${c.rejected.locked.status}): Caregate ${c.mode}`, f: c.rejected.locked.figure, ratio: times(c.ratios.lockedVsHash) },
      { name: `rejected sign-in, throttled address (${c.rejected.throttled.status}): Caregate ${c.mode}`, f: c.rejected.throttled.figure, ratio: times(c.ratios.throttledVsHash) },
    );
  }

  const policy = r.caregate[0]?.rejected.policy;
  const out = [
    `load:    ${r.load.seconds} s measured after ${r.load.warmupSeconds} s warm-up per figure; client credentials: autocannon, ${r.load.connections} connections;`,
    `         login: ${r.load.loginVus} virtual users (authorize → login page → POST → resume → token, PKCE S256, new cookie jar each);`,
    `         refresh: ${r.load.refreshVus} virtual users, each redeeming its own rotated refresh token; hash: sequential verify for ${r.load.hashSeconds} s;`,
    `         SSO: ${r.load.loginVus} signed-in browsers; OIDC authorize → code → token; SAML AuthnRequest (Redirect) → sso → auth → continue → signed Response (response and assertion signed, RSA-SHA256);`,
    `         rejected: ${r.load.rejectedVus} virtual users, each POSTing wrong passwords to the login form of its own interaction (CSRF token, cookies)`,
    ...(policy
      ? [`         (policy: lockout.threshold ${policy.lockout.threshold}, mode ${policy.lockout.mode}; addressThrottle.maxFailures ${policy.addressThrottle.maxFailures} per ${policy.addressThrottle.windowSeconds} s)`]
      : []),
    '',
    table(rows),
    '(server CPU: cores the server process used during the window; 100% = its one core saturated. PostgreSQL and Redis not included.)',
    '',
    ...cpuTable(r),
    '(CPU ms: the server process\'s CPU time over the window ÷ operations. Pool: the libuv threads, where argon2 runs; ≈ 0 means no hash.)',
    '',
    'per-step latency, mean / p99 ms:',
  ];
  const stepLine = (login: LoopResult) => Object.entries(login.steps).map(([name, s]) => `${name} ${ms(s.mean)} / ${ms(s.p99)}`).join(' · ');
  if (r.floor?.login) out.push(`  login (floor): ${stepLine(r.floor.login)}`);
  for (const c of r.caregate) out.push(`  login (${c.mode}): ${stepLine(c.login)}`);
  out.push('', 'rejected attempts in the audit log (login.failure with the expected reason and client address / attempts sent):');
  for (const c of r.caregate) {
    const line = (x: RejectedResult) => `${x.audit.matching.toLocaleString('en-US')}/${x.audit.attempts.toLocaleString('en-US')} ${x.rejection} from ${x.clientAddress}`;
    out.push(`  ${c.mode}: ${line(c.rejected.locked)} · ${line(c.rejected.throttled)}`);
  }
  if (r.floor) {
    out.push('', 'access tokens (client credentials):', `  floor: ${r.floor.token.tokenLength} chars, claims ${r.floor.token.claims.join(' ')}`);
    for (const c of r.caregate) if (c.token) out.push(`  Caregate ${c.mode}: ${c.token.tokenLength} chars, claims ${c.token.claims.join(' ')}`);
  }

  out.push(...errorLines(r));
  const mismatches = auditMismatches(r);
  if (mismatches.length) {
    out.push('', 'AUDIT MISMATCH (an attempt was not refused for the reason measured):');
    for (const x of mismatches) out.push(`  ${x.rejection}: ${x.audit.matching} of ${x.audit.attempts} attempts; unexpected ${JSON.stringify(x.audit.unexpected)}`);
  }
  return out;
}

/** The figures measured with failures, if any. */
function errorLines(r: BenchResults): string[] {
  const failures = allFigures(r).filter(([, f]) => f.errors > 0);
  if (!failures.length) return [];
  return ['', 'ERRORS during measurement:', ...failures.map(([name, f]) => `  ${name}: ${f.errors} (${(f.sampleErrors ?? []).join('; ')})`)];
}

// ---------------------------------------------------------------------------------------------
// The admin console's user list (bench/user-search.ts).

function userSearchReport(u: UserSearchResult, connections: number): string[] {
  const rows: Row[] = [];
  for (const f of u.figures) {
    const matched = `${int(f.total)} match`;
    rows.push(
      { name: `${f.name}, ${matched}: Caregate ${u.mode}`, f: f.caregate, ratio: `${pct(f.ratio)} of floor` },
      { name: `${f.name}: floor (SQL alone)`, f: f.floor },
    );
  }
  const mismatches = u.mismatches.length ? ['', 'USER LIST MISMATCH (Caregate and the same SQL sent straight to PostgreSQL disagree):', ...u.mismatches.map((m) => `  ${m}`)] : [];
  return [
    `user list at ${int(u.users)} users (GET /admin/api/v1/t/{tenant}/users, pages of ${u.figures[0]?.page ?? ''}, X-Total-Count), PostgreSQL: seeded in ${secs(u.seed.ms)} s with`,
    `         ${int(u.seed.assignments)} assignments at ${u.seed.locations} locations, ${int(u.seed.teamMembers)} members of ${u.seed.teams} teams, ${int(u.seed.phi)} with PHI;`,
    `         ${connections} virtual users each; the location manager holds caregate.users:read at one location and reaches ${int(u.reach)} users; ${u.pinned}`,
    '',
    table(rows),
    '(floor: the page\'s two statements — count, then the page — built by src/storage/user-search.ts with the ids resolved once, sent through pg',
    ' from this process with a pool of 10 like Caregate\'s; ratio: Caregate requests/s ÷ floor pages/s. Server CPU: Caregate\'s process, not PostgreSQL.)',
    ...mismatches,
  ];
}

// ---------------------------------------------------------------------------------------------
// Directory sync (bench/directory-sync.ts).

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => (ms >= 10_000 ? (ms / 1000).toFixed(1) : (ms / 1000).toFixed(2));
const mem = (peak: number, base: number) => `${peak.toFixed(0)} (+${Math.max(0, peak - base).toFixed(0)})`;
const timesFloor = (n: number) => `${n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)} × floor`;

function syncResult(f: SyncFigure): string {
  const c = f.counts;
  const parts = ([['created', c.created], ['updated', c.updated], ['disabled', c.disabled], ['re-enabled', c.reenabled], ['unchanged', c.unchanged], ['errors', c.errors]] as const)
    .filter(([, n]) => n > 0).map(([name, n]) => `${name} ${int(n)}`);
  const how = f.ranAs !== f.requested ? ` (ran ${f.ranAs}: ${f.escalated ?? 'escalated'})` : '';
  return `${f.status === 'succeeded' ? '' : `${f.status.toUpperCase()} `}read ${int(c.entries)}: ${parts.join(', ') || 'nothing to do'}${how}`;
}

function directoryReport(results: DirectorySyncResult[]): string[] {
  const d = results[0]!.directory;
  const out = [
    `directory sync: OpenLDAP (slapd, mdb, ldap:// + StartTLS) with ${int(d.users)} people in ${int(d.groups)} groups (${int(d.generatedUsers)} / ${d.generatedGroups} generated,`,
    `         the rest the test directory's clinic fixture), read in ${d.pageSize}-entry pages, group membership from the groups' member lists;`,
    `         ${d.mappingRules} mapping rules from "Bench Group NNN" to roles; ${d.changes} people then changed in slapd (title, mail, telephoneNumber); ${results[0]!.pinned}`,
    '',
  ];
  const head = ['measurement', 'seconds', 'users/s', 'read+plan s', 'apply s', 'CPU', 'SQL stmts', 'peak RSS MB (Δ)', 'peak heap MB (Δ)', 'ratio', 'result'];
  const rows: string[][] = [];
  for (const r of results) {
    rows.push([`LDAP read alone (floor), median of 3: ${r.mode} run`, secs(r.floor.ms), int(r.floor.usersPerSecond), '', '', `${((r.floor.cpuMs / r.floor.ms) * 100).toFixed(0)}%`, '', '', '', '',
      `${int(r.floor.users)} users, ${int(r.floor.groups)} groups (${int(r.floor.memberValues)} member values)`]);
    const figures: Array<[SyncFigure, string]> = [
      [r.full, timesFloor(r.ratios.fullVsFloor)],
      [r.fullUnchanged, timesFloor(r.ratios.unchangedVsFloor)],
      [r.incremental, ''],
      [r.incrementalUnchanged, ''],
    ];
    for (const [f, ratio] of figures) {
      rows.push([
        `${f.name}: Caregate ${r.mode}`, secs(f.wallMs), f.counts.entries ? int(f.usersPerSecond) : '–',
        f.readPlanMs === undefined ? '–' : secs(f.readPlanMs), f.applyMs === undefined ? '–' : secs(f.applyMs),
        `${((f.cpuMs / f.wallMs) * 100).toFixed(0)}%`, int(f.sqlStatements),
        mem(f.memory.peakRssMb, f.memory.baselineRssMb), mem(f.memory.peakHeapMb, f.memory.baselineHeapMb), ratio, syncResult(f),
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)));
  const left = new Set([0, 9, 10]);
  const line = (c: string[]) => c.map((v, i) => (left.has(i) ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd();
  out.push(line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line));
  out.push(
    '(seconds: wall time of the run; read+plan: connect, read every page, plan; apply: write the changes, the watermark, the run. CPU: the sync',
    ' process\'s CPU time ÷ wall time, on its one core; PostgreSQL, Redis and slapd not included. SQL stmts: statements sent, BEGIN/COMMIT included.',
    ' Memory: highest RSS and V8 heap sampled during the run, and the rise over the baseline taken after a GC just before it. Ratio: wall time',
    ' ÷ the floor, the same searches through ldapts with no Caregate work, in the same process.)',
    '',
  );
  for (const r of results) {
    const f = r.full;
    const perCreated = f.counts.created ? `; per 100 people created ${((100 * f.sqlStatements) / f.counts.created).toFixed(1)} SQL statements in ${((100 * f.transactions) / f.counts.created).toFixed(2)} transactions` : '';
    const drift = f.applyRateFirstTenth && f.applyRateLastTenth ? `; apply rate ${int(f.applyRateFirstTenth)}/s in the first tenth, ${int(f.applyRateLastTenth)}/s in the last` : '';
    out.push(`  ${r.mode}: per user ${r.ratios.fullMsPerUser.toFixed(2)} ms (first full sync), ${r.ratios.unchangedMsPerUser.toFixed(3)} ms (unchanged), ${r.ratios.floorMsPerUser.toFixed(3)} ms (floor)${perCreated}${drift}`);
    out.push(`    first full sync: heap in use after a GC when applying began ${f.liveHeapAtApplyMb === undefined ? '–' : `${f.liveHeapAtApplyMb.toFixed(0)} MB (baseline ${f.memory.baselineHeapMb.toFixed(0)})`}; peak RSS (kernel VmHWM) ${f.memory.kernelPeakRssMb?.toFixed(0) ?? '–'} MB;`
      + ` external (ArrayBuffers, WebAssembly) ${mem(f.memory.peakExternalMb, f.memory.baselineExternalMb)} MB; roles mapped to ${int(r.mappedAssignments)} assignments`);
    const top = f.topStatements.filter((s) => !/^(START TRANSACTION|BEGIN|COMMIT)\b/.test(s.sql)).slice(0, 4);
    out.push(`    most frequent statements of the first full sync (besides BEGIN/COMMIT): ${top.map((s) => `${int(s.count)} × ${s.sql.slice(0, 48)}…`).join(' · ')}`);
    if (r.profiles?.length) out.push(`    CPU profiles: ${r.profiles.join(', ')}`);
    const peakTarget = r.mode === 'embedded' ? TARGETS.directoryPeakRssMb.embedded : undefined;
    out.push(`    targets: first full sync ${atMost(f.wallMs / 1000, TARGETS.directoryFullSyncSeconds, ' s')} (${secs(f.wallMs)} s)`
      + (peakTarget === undefined ? '' : `; its peak RSS ${atMost(f.memory.peakRssMb, peakTarget, ' MB')} (${f.memory.peakRssMb.toFixed(0)} MB)`));
  }
  const mismatches = results.flatMap((r) => r.mismatches.map((m) => `  ${r.mode}: ${m}`));
  if (mismatches.length) out.push('', 'DIRECTORY SYNC MISMATCH (a count the directory changes call for did not come out):', ...mismatches);
  return out;
}
