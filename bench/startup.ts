// Start-up time and resident memory (issue 17: "start with existing data ≤ 2 s", "first start on an
// empty data directory ≤ 5 s", idle RSS, RSS after 20,000 token requests ≤ 1.3 × idle).
//
// For each store, `caregate serve` is started as the operator would, pinned to the server core:
//   1. first start: on a new, empty data directory (embedded) or a new, empty database (postgres):
//      the schema is created, the bootstrap tenant, its admin and its signing keys too;
//   2. then stopped (SIGTERM: a clean shutdown), a client-credentials application created with the
//      CLI, and started again RESTARTS times on that existing data;
//   3. on the last start, left alone until its resident memory has settled (idle), then sent
//      20,000 client-credentials token requests, and its memory read right after them and once it
//      has settled again, no sooner than 8 s after them (what the requests left behind once the
//      server, quiet for 5 s, has handed back what it could).
// Ready means /health answers 200 (both stores reachable); the time runs from spawning the process,
// so it includes Node's own start and loading the code. The same for bare oidc-provider (ready:
// its discovery document answers) gives the memory floor.
import { performance } from 'node:perf_hooks';
import { cli, deleteRedisKeysOf, instanceEnv, spawnServe, type AppCreated, type StoreMode } from './caregate-instance.ts';
import { clientCredentialsRequest, type TokenTarget } from './client-credentials.ts';
import { startFloor } from './floor-instance.ts';
import { sendRequests } from './http-load.ts';
import type { BenchOptions } from './options.ts';
import { onCleanup, peakRssMb, rssMb, settledRss, waitForHttp, type Child, type CpuPlan } from './processes.ts';
import type { Figure } from './stats.ts';
import { CHECK_MS, QUIET_CHECKS } from '../src/observability/idle-collection.ts';

/** Starts on existing data, after the first. */
export const RESTARTS = 3;
/** Token requests before the second memory reading. */
export const TOKEN_REQUESTS = 20_000;
/**
 * The settled reading after them comes no sooner than this: a server hands memory back once it has
 * been quiet for QUIET_CHECKS × CHECK_MS (5 s), plus the collection's own time.
 */
export const AFTER_LOAD_MS = QUIET_CHECKS * CHECK_MS + 3000;

export interface MemoryFigure {
  /** RSS once settled after start, MB (see settledRss). */
  idleMb: number;
  /** Whether it settled before the time limit. */
  idleSettled: boolean;
  /** Seconds from ready until it settled. */
  settleSeconds: number;
  /** The kernel's peak RSS (VmHWM) up to the idle reading, MB: start-up's own peak. */
  startPeakMb: number;
  /** RSS right after the last of the token requests was answered, MB (uncollected garbage included). */
  afterTokensMb: number;
  /** RSS once settled again after them, MB: what the requests left behind. */
  afterTokensSettledMb: number;
  /** The token requests: rate (with no warm-up) and failures. */
  tokens: Figure;
  /** afterTokensSettledMb ÷ idleMb. */
  ratio: number;
}

export interface StartupResult {
  mode: StoreMode;
  /** Spawn → /health 200 on an empty data directory / database, ms. */
  firstStartMs: number;
  /** Spawn → /health 200 on existing data, each start, ms. */
  restartMs: number[];
  memory: MemoryFigure;
}

export interface FloorStartupResult {
  /** Spawn → discovery answering, ms. */
  readyMs: number;
  memory: MemoryFigure;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const restartMedian = (r: StartupResult) => median(r.restartMs);

/** Idle memory, then TOKEN_REQUESTS client-credentials requests, then memory again. */
async function memoryFigure(child: Child, target: TokenTarget, connections: number): Promise<MemoryFigure> {
  const pid = child.proc.pid!;
  const idle = await settledRss(pid);
  const startPeakMb = peakRssMb(pid);
  const tokens = await sendRequests(clientCredentialsRequest(target), TOKEN_REQUESTS, connections);
  const afterTokensMb = rssMb(pid);
  // A quiet server hands back what the burst took (src/observability/idle-collection.ts): read it
  // once it has had the chance, the same for the floor, which keeps it.
  const after = await settledRss(pid, { windowMs: 5000, notBeforeMs: AFTER_LOAD_MS });
  return {
    idleMb: idle.mb, idleSettled: idle.settled, settleSeconds: idle.waitedMs / 1000, startPeakMb,
    afterTokensMb, afterTokensSettledMb: after.mb, tokens, ratio: after.mb / idle.mb,
  };
}

/** Spawns `caregate serve` and waits for /health; the milliseconds it took. */
async function timedStart(mode: StoreMode, env: NodeJS.ProcessEnv, baseUrl: string, cpu: CpuPlan, opts: BenchOptions, label: string): Promise<{ child: Child; ms: number }> {
  const started = performance.now();
  const child = spawnServe(`caregate-${mode}-${label}`, env, { cpu: cpu.serverCpu, cpuProfDir: opts.cpuProfDir });
  await waitForHttp(`${baseUrl}/health`, child, { intervalMs: 20, timeoutMs: 180_000 });
  return { child, ms: performance.now() - started };
}

export async function benchStartup(mode: StoreMode, opts: BenchOptions, cpu: CpuPlan, progress: (line: string) => void): Promise<StartupResult> {
  const { env, baseUrl } = await instanceEnv(mode);
  progress(`start-up (${mode}): first start on an empty ${mode === 'embedded' ? 'data directory' : 'database'}`);
  const first = await timedStart(mode, env, baseUrl, cpu, opts, 'first');
  await first.child.stop();

  const tenant = env.CAREGATE_BOOTSTRAP_TENANT ?? 'demo';
  if (mode === 'postgres') {
    const tenants = await cli<Array<{ id: string }>>(env, ['tenant', 'list']);
    for (const t of tenants) onCleanup(() => deleteRedisKeysOf(process.env.REDIS_URL!, t.id));
  }
  const app = await cli<AppCreated>(env, ['app', 'create', '--tenant', tenant, '--name', 'Bench', '--grant', 'client_credentials', '--service-role', 'report_viewer', '--permission', 'reports:read']);
  const target: TokenTarget = { tokenUrl: `${baseUrl}/t/${tenant}/token`, clientId: app.client_id, clientSecret: app.client_secret, resource: app.resource };

  const restartMs: number[] = [];
  let running: Child | undefined;
  for (let i = 1; i <= RESTARTS; i++) {
    await running?.stop();
    progress(`start-up (${mode}): start ${i} of ${RESTARTS} on existing data`);
    const { child, ms } = await timedStart(mode, env, baseUrl, cpu, opts, `restart-${i}`);
    restartMs.push(ms);
    running = child;
  }
  try {
    progress(`start-up (${mode}): resident memory, idle, then after ${TOKEN_REQUESTS.toLocaleString('en-US')} token requests`);
    return { mode, firstStartMs: first.ms, restartMs, memory: await memoryFigure(running!, target, opts.connections) };
  } finally {
    await running!.stop();
  }
}

export async function benchFloorStartup(opts: BenchOptions, cpu: CpuPlan, progress: (line: string) => void): Promise<FloorStartupResult> {
  progress(`start-up: bare oidc-provider, resident memory idle and after ${TOKEN_REQUESTS.toLocaleString('en-US')} token requests`);
  const floor = await startFloor({ cpu: cpu.serverCpu });
  try {
    return { readyMs: floor.readyMs, memory: await memoryFigure(floor.child, floor.target, opts.connections) };
  } finally {
    await floor.stop();
  }
}
