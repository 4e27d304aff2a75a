// Memory handed back to the operating system once a burst of traffic is over.
//
// Under load V8 grows its heap, and after the load it keeps the pages it used: a server that
// served 20,000 token requests settled at 2.1 × the resident memory it had idle (bare
// oidc-provider at 2.8 ×), and stayed there. V8's own memory reducer never acts in Node: it waits
// for a low allocation rate, and an idle process allocates nothing, which V8 does not count as low.
// One full, memory-reducing collection (V8's "last resort" flavour, which also releases its pooled
// pages) took a PostgreSQL-mode server from 306 MB back to 140 MB, below its idle reading.
//
// So, as the JVM's periodic collection (G1PeriodicGCInterval) does: once the event loop has been
// quiet for a few seconds and resident memory has grown by at least `growthBytes` since the last
// collection, ask V8 for that collection. It is one pause (0.17–0.22 s measured on the bench's
// single pinned core, where V8's helper threads share it) at a moment when almost nothing is being
// served, at most once per quiet spell: after it, memory has to grow again before the next. A busy
// node (never quiet) is never interrupted, and a node whose memory did not grow is left alone.
//
// V8 offers the collection only to a process started with --expose-gc-as (src/v8-flags.ts, which
// `caregate serve` relaunches with): in a process without it (an embedding test runner, Node
// without process.execve) there is nothing to call and nothing runs.
import { performance } from 'node:perf_hooks';
import { IDLE_COLLECTOR_NAME } from '../v8-flags.ts';

/** One check a second; quiet means under 5 % of the event loop busy, five checks in a row. */
export const CHECK_MS = 1000;
export const QUIET_UTILIZATION = 0.05;
export const QUIET_CHECKS = 5;

export interface Collected {
  beforeBytes: number;
  afterBytes: number;
  /** How long the collection held the event loop. */
  ms: number;
}

export interface IdleCollectorParts {
  /** A full collection that returns V8's free pages to the operating system. */
  collect(): void;
  /** Resident memory now, bytes. */
  residentBytes(): number;
  /** The event loop's utilisation (0..1) since the previous call. */
  utilization(): number;
  now(): number;
  /** Growth of resident memory since the last collection (or start) that makes one worth it. */
  growthBytes: number;
  onCollected(collected: Collected): void;
}

/** The decision, one check at a time (startIdleCollection calls it every CHECK_MS). */
export function createIdleCollector(parts: IdleCollectorParts): { check(): void } {
  let baseline = parts.residentBytes();
  let quiet = 0;
  return {
    check() {
      quiet = parts.utilization() < QUIET_UTILIZATION ? quiet + 1 : 0;
      const resident = parts.residentBytes();
      // Memory that fell by itself lowers the mark the next growth is measured from.
      baseline = Math.min(baseline, resident);
      if (quiet < QUIET_CHECKS || resident - baseline < parts.growthBytes) return;
      const started = parts.now();
      parts.collect();
      const ms = parts.now() - started;
      baseline = parts.residentBytes();
      quiet = 0;
      parts.onCollected({ beforeBytes: resident, afterBytes: baseline, ms });
    },
  };
}

type V8Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Starts the checks when this process can collect and `growthMb` is above 0; stop() ends them.
 * `collect`: V8's, unless given (tests).
 */
export function startIdleCollection(
  { growthMb, onCollected, collect }: { growthMb: number; onCollected(collected: Collected): void; collect?: () => void },
): { running: boolean; stop(): void } {
  const v8Collect = (globalThis as Record<string, unknown>)[IDLE_COLLECTOR_NAME] as V8Collect | undefined;
  const run = collect ?? (typeof v8Collect === 'function' ? () => v8Collect({ type: 'major', execution: 'sync', flavor: 'last-resort' }) : undefined);
  if (!run || growthMb <= 0) return { running: false, stop() {} };
  let last = performance.eventLoopUtilization();
  const collector = createIdleCollector({
    collect: run,
    residentBytes: () => process.memoryUsage.rss(),
    utilization() {
      const now = performance.eventLoopUtilization();
      const { utilization } = performance.eventLoopUtilization(now, last);
      last = now;
      return utilization;
    },
    now: () => performance.now(),
    growthBytes: growthMb * 1024 * 1024,
    onCollected,
  });
  const timer = setInterval(() => collector.check(), CHECK_MS);
  timer.unref();
  return { running: true, stop: () => clearInterval(timer) };
}
