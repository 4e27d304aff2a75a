// `npm run bench -- --compare REF`: one figure of this checkout — client credentials, or
// (BENCH_COMPARE_FIGURE) token introspection, userinfo or discovery — against the same figure of
// another commit (a branch, a tag, HEAD~3), and both against bare oidc-provider, measured in turns.
//
// On a shared machine one server's rate moves by a third from one minute to the next (neighbours on
// the host, CPU frequency), which buries a change of a few per cent when the figures are taken one
// after the other. Here the three servers run side by side on the same core, idle but for the one
// being measured, and the load visits them in short slices in rotating order (BENCH_SLICES rounds of
// BENCH_SLICE_SECONDS each): whatever the machine does meanwhile falls on all three alike. The
// report gives each side's mean rate, its ratio to the floor, and the ratio of the two sides, with
// the spread of that ratio over the rounds, so a difference inside the spread reads as noise.
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCaregate, type StoreMode } from './caregate-instance.ts';
import { checkClientCredentials, clientCredentialsRequest } from './client-credentials.ts';
import { caregateEndpointTarget, checkEndpoints, endpointRequests } from './endpoints.ts';
import { startFloor } from './floor-instance.ts';
import { measureRequest, type HttpRequest } from './http-load.ts';
import { cpuMeter, makeTempDir, onCleanup, type CpuPlan } from './processes.ts';
import { percentile } from './stats.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const COMPARE_FIGURES = ['client-credentials', 'introspection', 'userinfo', 'discovery'] as const;
export type CompareFigure = (typeof COMPARE_FIGURES)[number];

export interface CompareOptions {
  ref: string;
  figure: CompareFigure;
  mode: StoreMode;
  rounds: number;
  sliceSeconds: number;
  connections: number;
}

export interface CompareResult {
  ref: string;
  figure: CompareFigure;
  commit: string;
  mode: StoreMode;
  rounds: number;
  sliceSeconds: number;
  /** Mean requests per second over the rounds. */
  floor: number;
  base: number;
  work: number;
  /** work ÷ base per round: median, lowest, highest. */
  ratio: { overall: number; median: number; min: number; max: number };
}

/** A detached worktree of `ref` beside this checkout, sharing its node_modules; removed at cleanup. */
function checkout(ref: string): { dir: string; commit: string } {
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = path.join(makeTempDir('caregate-bench-ref-'), 'caregate');
  // A run killed before its cleanup leaves only the directory removed (installExitHooks): forget such worktrees.
  execFileSync('git', ['-C', ROOT, 'worktree', 'prune'], { stdio: 'ignore' });
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, commit], { stdio: 'ignore' });
  onCleanup(async () => {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
  });
  // Dependencies as this checkout has them: a comparison measures the code, not a different install.
  if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { dir, commit };
}

export async function compareFigure(opts: CompareOptions, cpu: CpuPlan, progress: (line: string) => void): Promise<CompareResult> {
  const { dir, commit } = checkout(opts.ref);
  progress(`compare: ${opts.figure}, ${opts.ref} (${commit.slice(0, 12)}) in ${dir}`);
  const floor = await startFloor({ cpu: cpu.serverCpu });
  const base = await startCaregate({ mode: opts.mode, cpu: cpu.serverCpu, root: dir });
  const work = await startCaregate({ mode: opts.mode, cpu: cpu.serverCpu });
  try {
    // The one request each server is asked, checked once first so a misconfiguration fails loudly.
    const requestOf = async (cc: Parameters<typeof checkClientCredentials>[0], endpoints: () => ReturnType<typeof caregateEndpointTarget>): Promise<HttpRequest> => {
      if (opts.figure === 'client-credentials') {
        await checkClientCredentials(cc);
        return clientCredentialsRequest(cc);
      }
      const target = await endpoints();
      await checkEndpoints(target);
      return (await endpointRequests(target))[opts.figure];
    };
    const sides: Array<{ name: 'floor' | 'base' | 'work'; request: HttpRequest; pid: number; rates: number[] }> = [
      { name: 'floor', request: await requestOf(floor.target, () => floor.endpoints()), pid: floor.child.proc.pid!, rates: [] },
      { name: 'base', request: await requestOf(base.service, () => caregateEndpointTarget(base)), pid: base.child.proc.pid!, rates: [] },
      { name: 'work', request: await requestOf(work.service, () => caregateEndpointTarget(work)), pid: work.child.proc.pid!, rates: [] },
    ];
    for (let round = 0; round < opts.rounds; round++) {
      // Each round starts with the next side, so none is always first after the idle gap.
      const order = sides.map((_, i) => sides[(i + round) % sides.length]!);
      for (const side of order) {
        const figure = await measureRequest(side.request, {
          seconds: opts.sliceSeconds, warmupSeconds: round === 0 ? 2 : 0.5, connections: opts.connections, serverCpu: cpuMeter(side.pid),
        });
        if (figure.errors) throw new Error(`compare: ${side.name} answered ${figure.errors} errors`);
        side.rates.push(figure.perSecond);
      }
      progress(`compare: round ${round + 1}/${opts.rounds}: ${sides.map((s) => `${s.name} ${s.rates.at(-1)!.toFixed(0)}/s`).join(', ')}`);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [f, b, w] = sides.map((s) => s.rates);
    const perRound = w!.map((rate, i) => rate / b![i]!).sort((x, y) => x - y);
    return {
      ref: opts.ref, figure: opts.figure, commit, mode: opts.mode, rounds: opts.rounds, sliceSeconds: opts.sliceSeconds,
      floor: mean(f!), base: mean(b!), work: mean(w!),
      ratio: { overall: mean(w!) / mean(b!), median: percentile(perRound, 50), min: perRound[0]!, max: perRound.at(-1)! },
    };
  } finally {
    await Promise.all([floor.stop(), base.stop(), work.stop()]);
  }
}

const FIGURE_NAMES: Record<CompareFigure, string> = {
  'client-credentials': 'Client credentials', introspection: 'Token introspection', userinfo: 'Userinfo', discovery: 'Discovery',
};

export function formatCompare(r: CompareResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`;
  return [
    `${FIGURE_NAMES[r.figure]}, ${r.mode}: ${r.rounds} rounds of ${r.sliceSeconds} s per server, in turns on one core`,
    '',
    '| server | rate | vs bare oidc-provider |',
    '|---|---:|---:|',
    `| bare oidc-provider | ${rate(r.floor)} | |`,
    `| ${r.ref} (${r.commit.slice(0, 12)}) | ${rate(r.base)} | ${pct(r.base / r.floor)} |`,
    `| this checkout | ${rate(r.work)} | ${pct(r.work / r.floor)} |`,
    '',
    `this checkout ÷ ${r.ref}: ${r.ratio.overall.toFixed(3)} (per round: median ${r.ratio.median.toFixed(3)}, ${r.ratio.min.toFixed(3)}–${r.ratio.max.toFixed(3)})`,
    '',
  ].join('\n');
}
