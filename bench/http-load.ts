// One HTTP request repeated by autocannon (connections in a closed loop, no pipelining), as a
// Figure: successful answers per second, latencies, failures, and the server's CPU over the window.
// Every single-request figure uses it, so the floor and Caregate are always measured alike.
import autocannon from 'autocannon';
import type { Figure } from './stats.ts';

export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface Load {
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** The server's cumulative CPU seconds (see cpuMeter), sampled around the measured run. */
  serverCpu?: () => number | undefined;
}

function run(request: HttpRequest, connections: number, until: { duration: number } | { amount: number }) {
  return autocannon({ ...request, connections, pipelining: 1, ...until });
}

function figure(result: autocannon.Result, cpuSeconds?: number): Figure {
  const ok = result['2xx'];
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, s]) => `HTTP ${code} × ${s.count ?? 0}`);
  return {
    perSecond: ok / result.duration,
    count: ok,
    errors: result.non2xx + result.errors,
    // autocannon keeps latencies in an HDR histogram with millisecond resolution.
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    seconds: result.duration,
    ...(cpuSeconds !== undefined ? { serverCpu: cpuSeconds / result.duration } : {}),
    ...(statuses.length || result.errors ? { sampleErrors: [...statuses, ...(result.errors ? [`${result.errors} connection errors/timeouts`] : [])] } : {}),
  };
}

/** `request` for `load.seconds` after `load.warmupSeconds` of the same, unmeasured. */
export async function measureRequest(request: HttpRequest, load: Load): Promise<Figure> {
  if (load.warmupSeconds > 0) await run(request, load.connections, { duration: load.warmupSeconds });
  const cpuBefore = load.serverCpu?.();
  const result = await run(request, load.connections, { duration: load.seconds });
  const cpuAfter = load.serverCpu?.();
  return figure(result, cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined);
}

/** Exactly `amount` requests (no warm-up), e.g. the memory figure's 20,000 token requests. */
export async function sendRequests(request: HttpRequest, amount: number, connections: number): Promise<Figure> {
  return figure(await run(request, connections, { amount }));
}
