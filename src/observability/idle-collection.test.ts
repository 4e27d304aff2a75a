// When a node asks V8 to hand memory back: only after QUIET_CHECKS quiet checks in a row, only when
// resident memory grew by the threshold since the last collection, once per quiet spell; and never
// in a process V8 offers no collection to, or with the setting at 0.
import { describe, expect, it } from '@jest/globals';
import { createIdleCollector, QUIET_CHECKS, QUIET_UTILIZATION, startIdleCollection, type Collected } from './idle-collection.ts';

const MB = 1024 * 1024;

/** A collector over a scripted process: memory and load are what the test sets before each check. */
function scripted({ growthMb = 32, residentMb = 150, freedTo = 120 } = {}) {
  const state = { residentMb, busy: 0 };
  const collected: Collected[] = [];
  let collections = 0;
  const collector = createIdleCollector({
    collect() {
      collections += 1;
      state.residentMb = freedTo;
    },
    residentBytes: () => state.residentMb * MB,
    utilization: () => state.busy,
    now: () => collections * 40,
    growthBytes: growthMb * MB,
    onCollected: (c) => collected.push(c),
  });
  const checks = (n: number) => {
    for (let i = 0; i < n; i++) collector.check();
  };
  return { state, collected, checks, collections: () => collections };
}

describe('the idle collector', () => {
  it('collects once memory grew by the threshold and the loop has been quiet for QUIET_CHECKS checks, and reports what went back', () => {
    const p = scripted();
    p.state.busy = 0.9;
    p.state.residentMb = 300;
    p.checks(10);
    expect(p.collections()).toBe(0);
    p.state.busy = 0.01;
    p.checks(QUIET_CHECKS - 1);
    expect(p.collections()).toBe(0);
    p.checks(1);
    expect(p.collections()).toBe(1);
    expect(p.collected).toEqual([{ beforeBytes: 300 * MB, afterBytes: 120 * MB, ms: 40 }]);
  });

  it('leaves a busy node alone however much it grew: one busy check starts the quiet count again', () => {
    const p = scripted();
    p.state.residentMb = 500;
    for (let round = 0; round < 20; round++) {
      p.state.busy = 0;
      p.checks(QUIET_CHECKS - 1);
      p.state.busy = QUIET_UTILIZATION;
      p.checks(1);
    }
    expect(p.collections()).toBe(0);
  });

  it('leaves a quiet node alone when its memory did not grow by the threshold', () => {
    const p = scripted({ growthMb: 32 });
    p.state.residentMb = 150 + 31;
    p.checks(QUIET_CHECKS * 10);
    expect(p.collections()).toBe(0);
  });

  it('collects once per quiet spell: memory has to grow again from what the collection left', () => {
    const p = scripted({ freedTo: 200 });
    p.state.residentMb = 300;
    p.checks(QUIET_CHECKS * 5);
    expect(p.collections()).toBe(1);
    // 200 MB is the new mark: 231 MB is not enough growth, 232 MB is.
    p.state.residentMb = 231;
    p.checks(QUIET_CHECKS * 5);
    expect(p.collections()).toBe(1);
    p.state.residentMb = 232;
    p.checks(QUIET_CHECKS);
    expect(p.collections()).toBe(2);
  });

  it('measures growth from the lowest memory it has seen, so memory that fell by itself does not hide a new burst', () => {
    const p = scripted({ residentMb: 200 });
    p.state.residentMb = 100;
    p.checks(1);
    p.state.residentMb = 140;
    p.checks(QUIET_CHECKS);
    expect(p.collections()).toBe(1);
  });
});

describe('starting it', () => {
  it('runs nothing with the setting at 0, nor in a process V8 offers no collection to', () => {
    const off = startIdleCollection({ growthMb: 0, onCollected() {}, collect() {} });
    expect(off.running).toBe(false);
    // Jest's workers are not started with --expose-gc-as: no collection to call.
    const unavailable = startIdleCollection({ growthMb: 32, onCollected() {} });
    expect(unavailable.running).toBe(false);
    const on = startIdleCollection({ growthMb: 32, onCollected() {}, collect() {} });
    expect(on.running).toBe(true);
    on.stop();
  });
});
