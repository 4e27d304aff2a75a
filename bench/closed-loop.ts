// A closed-loop load generator for multi-request operations autocannon cannot express (a login that
// follows redirects and parses a form, a refresh chain where each answer feeds the next request).
// N virtual users each run `iteration` back to back. The loop runs warm-up and measurement as one
// continuous stretch and counts only operations that *finish* inside the measured window, so the
// figure is a steady-state rate with no ramp-up at its start.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorLog, summarize, type Figure } from './stats.ts';

/** Per-step timings of one operation (e.g. { authorize: 3.1, login: 41.2 }), milliseconds. */
export type Steps = Record<string, number>;

export interface StepFigure {
  mean: number;
  p99: number;
}

export interface LoopResult {
  figure: Figure;
  /** Mean and p99 of each named step, over the measured operations. */
  steps: Record<string, StepFigure>;
}

export interface LoopOptions {
  seconds: number;
  warmupSeconds: number;
  /** The server's cumulative CPU seconds (see cpuMeter), sampled at the window's start and end. */
  serverCpu?: () => number | undefined;
  /** The same for its libuv thread pool, where password hashes run (see poolCpuMeter). */
  serverPoolCpu?: () => number | undefined;
}

export async function closedLoop<S>(states: S[], { seconds, warmupSeconds, serverCpu, serverPoolCpu }: LoopOptions, iteration: (state: S) => Promise<Steps | void>): Promise<LoopResult> {
  const t0 = performance.now();
  const from = t0 + warmupSeconds * 1000;
  const to = from + seconds * 1000;
  const latencies: number[] = [];
  const steps = new Map<string, number[]>();
  const errors = new ErrorLog();
  // CPU is sampled when the window opens and closes; if every virtual user has finished before the
  // closing timer runs, it is sampled then. Either way it is divided by the time between the samples.
  type Sample = { at: number; cpu?: number; pool?: number };
  const sample = (): Sample => ({ at: performance.now(), cpu: serverCpu?.(), pool: serverPoolCpu?.() });
  let opened: Sample | undefined;
  let closed: Sample | undefined;
  const startTimer = setTimeout(() => (opened = sample()), warmupSeconds * 1000);
  const endTimer = setTimeout(() => (closed = sample()), (warmupSeconds + seconds) * 1000);

  await Promise.all(
    states.map(async (state) => {
      while (performance.now() < to) {
        const start = performance.now();
        try {
          const timings = await iteration(state);
          const end = performance.now();
          if (end < from || end > to) continue;
          latencies.push(end - start);
          for (const [name, ms] of Object.entries(timings ?? {})) {
            let list = steps.get(name);
            if (!list) steps.set(name, (list = []));
            list.push(ms);
          }
        } catch (error) {
          const end = performance.now();
          if (end >= from && end <= to) errors.add(error);
          // A failing target would otherwise be hammered in a tight loop.
          await sleep(20);
        }
      }
    }),
  );
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  closed ??= sample();

  const stepFigures: Record<string, StepFigure> = {};
  for (const [name, list] of steps) {
    const s = summarize(list, seconds, 0);
    stepFigures[name] = { mean: s.mean, p99: s.p99 };
  }
  const figure = summarize(latencies, seconds, errors.count, errors.samples);
  if (opened) {
    const elapsed = (closed.at - opened.at) / 1000;
    if (opened.cpu !== undefined && closed.cpu !== undefined) figure.serverCpu = (closed.cpu - opened.cpu) / elapsed;
    if (opened.pool !== undefined && closed.pool !== undefined) figure.serverPoolCpu = (closed.pool - opened.pool) / elapsed;
  }
  return { figure, steps: stepFigures };
}
