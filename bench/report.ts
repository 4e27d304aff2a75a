// The benchmark's result document and its text table.
import type { TokenSample } from './client-credentials.ts';
import type { LoopResult } from './closed-loop.ts';
import type { HashRate } from './hash-rate.ts';
import type { Figure } from './stats.ts';

/** Targets from DESIGN.md "Fast where it matters": a token costs one signature, a login one hash. */
export const TARGETS = { clientCredentialsVsFloor: 0.7, loginVsHash: 0.6 } as const;

export interface CaregateResults {
  mode: 'embedded' | 'postgres';
  clientCredentials: Figure;
  token: TokenSample;
  login: LoopResult;
  refresh: LoopResult;
  ratios: { clientCredentialsVsFloor: number; loginVsHash: number };
}

export interface BenchResults {
  /** loadAverageAtStart: the 1-minute load average before the run, i.e. other work on the machine. */
  meta: { date: string; node: string; cpuModel: string; cores: number; platform: string; loadAverageAtStart: number };
  cpu: { note: string; serverCpu?: number; loadCpus: number[] };
  load: { seconds: number; warmupSeconds: number; hashSeconds: number; connections: number; loginVus: number; refreshVus: number };
  hash: HashRate;
  floor: { clientCredentials: Figure; token: TokenSample };
  caregate: CaregateResults[];
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

export function formatReport(r: BenchResults): string {
  const hashName = `argon2id verify, 1 core (m=${r.hash.params.memoryKib} KiB, t=${r.hash.params.timeCost}, p=${r.hash.params.parallelism})`;
  const rows: Row[] = [
    { name: 'client credentials: bare oidc-provider (floor)', f: r.floor.clientCredentials },
    { name: hashName, f: r.hash },
  ];
  for (const c of r.caregate) {
    rows.push(
      { name: `client credentials: Caregate ${c.mode}`, f: c.clientCredentials, ratio: `${pct(c.ratios.clientCredentialsVsFloor)} of floor`, target: verdict(c.ratios.clientCredentialsVsFloor, TARGETS.clientCredentialsVsFloor) },
      { name: `password login end to end: Caregate ${c.mode}`, f: c.login.figure, ratio: `${pct(c.ratios.loginVsHash)} of hash/s`, target: verdict(c.ratios.loginVsHash, TARGETS.loginVsHash) },
      { name: `refresh-token grant (rotating): Caregate ${c.mode}`, f: c.refresh.figure },
    );
  }

  const out = [
    `Caregate benchmark, ${r.meta.date}`,
    `machine: ${r.meta.cores} × ${r.meta.cpuModel}, ${r.meta.platform}, Node ${r.meta.node}`,
    `cpu:     ${r.cpu.note}`,
    `other:   1-minute load average before the run ${r.meta.loadAverageAtStart.toFixed(2)}${r.meta.loadAverageAtStart > 0.5 ? ' — other work is running on this machine; expect noisy figures' : ''}`,
    `load:    ${r.load.seconds} s measured after ${r.load.warmupSeconds} s warm-up per figure; client credentials: autocannon, ${r.load.connections} connections;`,
    `         login: ${r.load.loginVus} virtual users (authorize → login page → POST → resume → token, PKCE S256, new cookie jar each);`,
    `         refresh: ${r.load.refreshVus} virtual users, each redeeming its own rotated refresh token; hash: sequential verify for ${r.load.hashSeconds} s`,
    '',
    table(rows),
    '(server CPU: cores the server process used during the window; 100% = its one core saturated. PostgreSQL and Redis not included.)',
    '',
    'per-step latency, mean / p99 ms:',
  ];
  for (const c of r.caregate) {
    const steps = Object.entries(c.login.steps).map(([name, s]) => `${name} ${ms(s.mean)} / ${ms(s.p99)}`).join(' · ');
    out.push(`  login (${c.mode}): ${steps}`);
  }
  out.push('', 'access tokens (client credentials):', `  floor: ${r.floor.token.tokenLength} chars, claims ${r.floor.token.claims.join(' ')}`);
  for (const c of r.caregate) out.push(`  Caregate ${c.mode}: ${c.token.tokenLength} chars, claims ${c.token.claims.join(' ')}`);

  const failures = [
    ...[['floor client credentials', r.floor.clientCredentials] as const],
    ...r.caregate.flatMap((c) => [[`${c.mode} client credentials`, c.clientCredentials], [`${c.mode} login`, c.login.figure], [`${c.mode} refresh`, c.refresh.figure]] as const),
  ].filter(([, f]) => f.errors > 0);
  if (failures.length) {
    out.push('', 'ERRORS during measurement:');
    for (const [name, f] of failures) out.push(`  ${name}: ${f.errors} (${(f.sampleErrors ?? []).join('; ')})`);
  }
  return out.join('\n');
}
