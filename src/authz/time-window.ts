// Weekly time windows ("Mon–Fri 09:00–17:00") read on the wall clock of a time zone: whether one is
// open at an instant, and when it next closes or opens. Pure; the one home of the rule for token
// claims, the access token's lifetime cap and the grant guard alike. Wall-clock arithmetic goes
// through Intl (the IANA database Node carries), so daylight-saving changes are honoured: a
// window ending 17:00 ends at 17:00 local on a switch day, one hour earlier or later in UTC.

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * One weekly range: on each of `days`, from `start` to `end` ("HH:MM", end may be "24:00"). An end
 * before the start runs past midnight into the next day (Mon 22:00–06:00 ends Tuesday 06:00); the
 * range belongs to the day it starts on.
 */
export interface TimeRange {
  days: Weekday[];
  start: string;
  end: string;
}

/** A window is open when any of its ranges is. */
export type TimeWindow = TimeRange[];

const MINUTES_PER_DAY = 1440;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
const MINUTE_MS = 60_000;

/** "HH:MM" → minutes since midnight (24:00 → 1440); NaN when malformed. */
export function clockMinutes(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  return hhmm === '24:00' ? MINUTES_PER_DAY : Number.NaN;
}

/** The window as merged, sorted [from, to) minute-of-week intervals (Monday 00:00 = 0), wrapping ranges split. */
export function weekIntervals(window: TimeWindow): Array<[number, number]> {
  const raw: Array<[number, number]> = [];
  for (const range of window) {
    const start = clockMinutes(range.start);
    let end = clockMinutes(range.end);
    if (Number.isNaN(start) || Number.isNaN(end) || start === end) continue;
    if (end < start) end += MINUTES_PER_DAY;
    for (const day of new Set(range.days)) {
      const from = WEEKDAYS.indexOf(day) * MINUTES_PER_DAY + start;
      const to = from + (end - start);
      if (to <= MINUTES_PER_WEEK) raw.push([from, to]);
      else raw.push([from, MINUTES_PER_WEEK], [0, to - MINUTES_PER_WEEK]);
    }
  }
  raw.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [from, to] of raw) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cached formatter for the zone (building one costs far more than using it). */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAY_OF: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/**
 * The wall clock of `timeZone` at `at`: the local date and time written as if it were UTC
 * (`wallMs`, whole seconds), and the minute of the local week (`weekMinute`, Monday 00:00 = 0).
 */
export function wallClock(at: Date, timeZone: string): { wallMs: number; weekMinute: number } {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(at)) parts[p.type] = p.value;
  const [hour, minute] = [Number(parts.hour), Number(parts.minute)];
  const wallMs = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), hour, minute, Number(parts.second));
  return { wallMs, weekMinute: WEEKDAY_OF[parts.weekday!]! * MINUTES_PER_DAY + hour * 60 + minute };
}

/** The zone's offset from UTC at `at`, in ms (wall clock minus UTC). */
function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallClock(new Date(whole), timeZone).wallMs - whole;
}

/**
 * The first instant after `after` at which the wall clock of `timeZone` reads `wallMs`, or — when
 * that local time does not exist (the hour skipped in spring) — the instant the clock jumps past it.
 */
function instantOf(wallMs: number, timeZone: string, after: number): number {
  // The offsets on either side of a change are the offsets a few hours before and after the guess.
  const offsets = [...new Set([offsetAt(wallMs - 14 * 3_600_000, timeZone), offsetAt(wallMs + 14 * 3_600_000, timeZone), offsetAt(wallMs, timeZone)])];
  const exact = offsets.map((o) => wallMs - o).filter((t) => offsetAt(t, timeZone) === wallMs - t && t > after).sort((a, b) => a - b);
  if (exact.length) return exact[0]!;
  // A skipped local time: find the jump between the two readings by halving (to the second).
  let [lo, hi] = offsets.map((o) => wallMs - o).sort((a, b) => a - b) as [number, number];
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (wallClock(new Date(mid), timeZone).wallMs >= wallMs) hi = mid;
    else lo = mid;
  }
  return Math.max(hi, after + 1);
}

/**
 * The instant a local calendar day ("2027-03-14") begins on the wall clock of `timeZone` (or, where
 * midnight is skipped, the instant the clock jumps past it): what a date typed into a form means.
 */
export function startOfLocalDay(date: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(instantOf(Date.UTC(y, m - 1, d), timeZone, -Infinity));
}

/** True when the window is open at `at` on the wall clock of `timeZone`. */
export function windowOpen(window: TimeWindow, timeZone: string, at: Date): boolean {
  const minute = wallClock(at, timeZone).weekMinute;
  return weekIntervals(window).some(([from, to]) => minute >= from && minute < to);
}

/**
 * Whether the window is open at `at`, and when that next changes: the instant it closes (when
 * open) or opens (when closed); null when it never does (open all week, or no range at all).
 */
export function windowState(window: TimeWindow, timeZone: string, at: Date): { open: boolean; changesAt: Date | null } {
  const intervals = weekIntervals(window);
  const { wallMs, weekMinute } = wallClock(at, timeZone);
  if (!intervals.length) return { open: false, changesAt: null };
  if (intervals.length === 1 && intervals[0]![0] === 0 && intervals[0]![1] === MINUTES_PER_WEEK) return { open: true, changesAt: null };
  // Boundaries in minutes from the start of the current local minute, looking up to a week ahead
  // (a range that wraps past Sunday midnight continues in the next week's Monday interval).
  const inside = intervals.find(([from, to]) => weekMinute >= from && weekMinute < to);
  let ahead: number;
  if (inside) {
    let end = inside[1];
    // Open through Sunday midnight into Monday: the stretch continues.
    if (end === MINUTES_PER_WEEK && intervals[0]![0] === 0) end = MINUTES_PER_WEEK + intervals[0]![1];
    ahead = end - weekMinute;
  } else {
    const next = intervals.find(([from]) => from > weekMinute) ?? [intervals[0]![0] + MINUTES_PER_WEEK];
    ahead = next[0] - weekMinute;
  }
  const minuteStart = wallMs - (wallMs % MINUTE_MS);
  return { open: Boolean(inside), changesAt: new Date(instantOf(minuteStart + ahead * MINUTE_MS, timeZone, at.getTime())) };
}
