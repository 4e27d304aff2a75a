// What every measurement reports: a rate, its latency distribution, and what went wrong.

export interface Figure {
  /** Successful operations per second over the measured window. */
  perSecond: number;
  /** Successful operations in the window. */
  count: number;
  /** Failed operations (non-2xx, wrong answer, connection error) in the window. */
  errors: number;
  /** Latency of one operation, milliseconds. */
  p50: number;
  p99: number;
  mean: number;
  /** The measured window, seconds. */
  seconds: number;
  /** CPU the server used during the window, in cores (1 = one core fully busy), when known. */
  serverCpu?: number;
  /** The part of serverCpu spent on libuv's thread pool, where argon2 hashes run (see poolCpuMeter). */
  serverPoolCpu?: number;
  /** The first few failure messages, for the report. */
  sampleErrors?: string[];
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(latenciesMs: number[], seconds: number, errors: number, sampleErrors: string[] = []): Figure {
  const sorted = Float64Array.from(latenciesMs).sort();
  const sum = latenciesMs.reduce((a, b) => a + b, 0);
  return {
    perSecond: latenciesMs.length / seconds,
    count: latenciesMs.length,
    errors,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: latenciesMs.length ? sum / latenciesMs.length : NaN,
    seconds,
    ...(sampleErrors.length ? { sampleErrors } : {}),
  };
}

/** Collects failure messages, keeping the first few distinct ones. */
export class ErrorLog {
  count = 0;
  readonly samples: string[] = [];
  add(error: unknown) {
    this.count++;
    const message = error instanceof Error ? error.message : String(error);
    if (this.samples.length < 5 && !this.samples.includes(message)) this.samples.push(message.slice(0, 300));
  }
}

/** Server CPU milliseconds per operation (all threads, or only the hashing pool), when measured. */
export function cpuMsPerOp(f: Figure, part: 'all' | 'pool' = 'all'): number | undefined {
  const cores = part === 'all' ? f.serverCpu : f.serverPoolCpu;
  return cores === undefined || f.count === 0 ? undefined : (cores * 1000) / f.perSecond;
}
