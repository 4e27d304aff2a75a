// Weekly windows on the tenant's wall clock: weekday ranges, overnight ranges, time zones and the
// days the clocks change (America/New_York: 2025-03-09 02:00 → 03:00, 2025-11-02 02:00 → 01:00).
import { describe, expect, it } from '@jest/globals';
import { startOfLocalDay, weekIntervals, windowOpen, windowState, type TimeWindow } from './time-window.ts';

const WEEKDAYS_9_TO_5: TimeWindow = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }];
const at = (iso: string) => new Date(iso);
const UTC = 'UTC';
const NY = 'America/New_York';

describe('windowOpen: weekday ranges', () => {
  // 2026-03-04 is a Wednesday.
  it('is open inside the range and closed outside it, start inclusive and end exclusive', () => {
    expect(windowOpen(WEEKDAYS_9_TO_5, UTC, at('2026-03-04T08:59:59Z'))).toBe(false);
    expect(windowOpen(WEEKDAYS_9_TO_5, UTC, at('2026-03-04T09:00:00Z'))).toBe(true);
    expect(windowOpen(WEEKDAYS_9_TO_5, UTC, at('2026-03-04T16:59:59Z'))).toBe(true);
    expect(windowOpen(WEEKDAYS_9_TO_5, UTC, at('2026-03-04T17:00:00Z'))).toBe(false);
  });

  it('is closed on the days it does not name', () => {
    expect(windowOpen(WEEKDAYS_9_TO_5, UTC, at('2026-03-07T12:00:00Z'))).toBe(false); // Saturday
    expect(windowOpen(WEEKDAYS_9_TO_5, UTC, at('2026-03-08T12:00:00Z'))).toBe(false); // Sunday
  });

  it('allows several ranges a day (a split shift)', () => {
    const split: TimeWindow = [{ days: ['mon'], start: '07:00', end: '11:00' }, { days: ['mon'], start: '15:00', end: '19:00' }];
    expect(windowOpen(split, UTC, at('2026-03-02T10:00:00Z'))).toBe(true);
    expect(windowOpen(split, UTC, at('2026-03-02T13:00:00Z'))).toBe(false);
    expect(windowOpen(split, UTC, at('2026-03-02T18:00:00Z'))).toBe(true);
  });

  it('reads the wall clock of the time zone, not UTC', () => {
    // 09:00 in Chicago in March (CST before the 8th, CDT after) — Wednesday 4 March: UTC−6.
    expect(windowOpen(WEEKDAYS_9_TO_5, 'America/Chicago', at('2026-03-04T14:59:00Z'))).toBe(false);
    expect(windowOpen(WEEKDAYS_9_TO_5, 'America/Chicago', at('2026-03-04T15:00:00Z'))).toBe(true);
    // Friday 23:30 in Chicago is already Saturday in UTC; the window is read in Chicago.
    expect(windowOpen([{ days: ['fri'], start: '23:00', end: '24:00' }], 'America/Chicago', at('2026-03-07T05:30:00Z'))).toBe(true);
  });
});

describe('windowOpen: overnight ranges', () => {
  const nights: TimeWindow = [{ days: ['mon'], start: '22:00', end: '06:00' }];

  it('runs from the named day into the next morning', () => {
    expect(windowOpen(nights, UTC, at('2026-03-02T21:59:00Z'))).toBe(false); // Monday
    expect(windowOpen(nights, UTC, at('2026-03-02T23:30:00Z'))).toBe(true);
    expect(windowOpen(nights, UTC, at('2026-03-03T05:59:00Z'))).toBe(true); // Tuesday morning
    expect(windowOpen(nights, UTC, at('2026-03-03T06:00:00Z'))).toBe(false);
    expect(windowOpen(nights, UTC, at('2026-03-03T23:00:00Z'))).toBe(false); // Tuesday night is not named
  });

  it('wraps from Sunday night into Monday morning', () => {
    const sunday: TimeWindow = [{ days: ['sun'], start: '20:00', end: '04:00' }];
    expect(weekIntervals(sunday)).toEqual([[0, 240], [6 * 1440 + 1200, 7 * 1440]]);
    expect(windowOpen(sunday, UTC, at('2026-03-09T03:00:00Z'))).toBe(true); // Monday 03:00
    expect(windowState(sunday, UTC, at('2026-03-08T21:00:00Z'))).toEqual({ open: true, changesAt: at('2026-03-09T04:00:00Z') });
  });
});

describe('windowState: when the window next closes or opens', () => {
  it('closes at the end of the range when open', () => {
    expect(windowState(WEEKDAYS_9_TO_5, UTC, at('2026-03-04T10:15:30Z'))).toEqual({ open: true, changesAt: at('2026-03-04T17:00:00Z') });
  });

  it('opens at the next range when closed, across the weekend', () => {
    expect(windowState(WEEKDAYS_9_TO_5, UTC, at('2026-03-06T18:00:00Z'))).toEqual({ open: false, changesAt: at('2026-03-09T09:00:00Z') });
  });

  it('treats ranges that meet as one stretch', () => {
    const meeting: TimeWindow = [{ days: ['mon'], start: '09:00', end: '12:00' }, { days: ['mon'], start: '12:00', end: '17:00' }, { days: ['mon'], start: '22:00', end: '24:00' }, { days: ['tue'], start: '00:00', end: '02:00' }];
    expect(windowState(meeting, UTC, at('2026-03-02T10:00:00Z')).changesAt).toEqual(at('2026-03-02T17:00:00Z'));
    expect(windowState(meeting, UTC, at('2026-03-02T23:00:00Z')).changesAt).toEqual(at('2026-03-03T02:00:00Z'));
  });

  it('never changes when open all week, or when it has no range', () => {
    const always: TimeWindow = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }];
    expect(windowState(always, NY, at('2026-03-04T10:00:00Z'))).toEqual({ open: true, changesAt: null });
    expect(windowState([], NY, at('2026-03-04T10:00:00Z'))).toEqual({ open: false, changesAt: null });
  });
});

describe('windowState: daylight-saving days (America/New_York)', () => {
  const sunday9to5: TimeWindow = [{ days: ['sun'], start: '09:00', end: '17:00' }];

  it('closes at 17:00 local on the spring-forward day: 21:00 UTC, not 22:00', () => {
    expect(windowState(sunday9to5, NY, at('2025-03-09T14:00:00Z'))).toEqual({ open: true, changesAt: at('2025-03-09T21:00:00Z') });
    // The Sunday before, still on standard time.
    expect(windowState(sunday9to5, NY, at('2025-03-02T15:00:00Z'))).toEqual({ open: true, changesAt: at('2025-03-02T22:00:00Z') });
  });

  it('an overnight range across the spring change lasts 7 hours, ending 06:00 local', () => {
    const saturdayNight: TimeWindow = [{ days: ['sat'], start: '22:00', end: '06:00' }];
    expect(windowState(saturdayNight, NY, at('2025-03-09T03:00:00Z'))).toEqual({ open: true, changesAt: at('2025-03-09T10:00:00Z') });
  });

  it('ends a range whose end is in the skipped hour when the clock jumps past it', () => {
    const untilTwoThirty: TimeWindow = [{ days: ['sat'], start: '22:00', end: '02:30' }];
    expect(windowOpen(untilTwoThirty, NY, at('2025-03-09T06:59:00Z'))).toBe(true); // 01:59 EST
    expect(windowOpen(untilTwoThirty, NY, at('2025-03-09T07:00:00Z'))).toBe(false); // 03:00 EDT
    expect(windowState(untilTwoThirty, NY, at('2025-03-09T04:00:00Z')).changesAt).toEqual(at('2025-03-09T07:00:00Z'));
  });

  it('an overnight range across the autumn change lasts 9 hours, ending 06:00 local', () => {
    const saturdayNight: TimeWindow = [{ days: ['sat'], start: '22:00', end: '06:00' }];
    expect(windowState(saturdayNight, NY, at('2025-11-02T02:00:00Z'))).toEqual({ open: true, changesAt: at('2025-11-02T11:00:00Z') });
  });

  it('closes at the first 01:30 when the autumn clock reads it twice', () => {
    const untilOneThirty: TimeWindow = [{ days: ['sat'], start: '22:00', end: '01:30' }];
    // 01:00 EDT = 05:00Z; the first 01:30 is 05:30Z (EDT), the second 06:30Z (EST).
    expect(windowState(untilOneThirty, NY, at('2025-11-02T05:00:00Z')).changesAt).toEqual(at('2025-11-02T05:30:00Z'));
  });

  it('opens on Monday at 09:00 local after the spring change: 13:00 UTC, not 14:00', () => {
    expect(windowState(WEEKDAYS_9_TO_5, NY, at('2025-03-08T23:00:00Z'))).toEqual({ open: false, changesAt: at('2025-03-10T13:00:00Z') });
  });
});

describe('startOfLocalDay: what a date typed into a form means on the tenant\'s clock', () => {
  it('is local midnight, in and out of daylight saving time', () => {
    expect(startOfLocalDay('2027-01-15', 'UTC').toISOString()).toBe('2027-01-15T00:00:00.000Z');
    expect(startOfLocalDay('2027-01-15', 'America/New_York').toISOString()).toBe('2027-01-15T05:00:00.000Z');
    expect(startOfLocalDay('2027-07-15', 'America/New_York').toISOString()).toBe('2027-07-15T04:00:00.000Z');
    expect(startOfLocalDay('2027-07-15', 'Australia/Sydney').toISOString()).toBe('2027-07-14T14:00:00.000Z');
  });

  it('is the instant the clock jumps past a skipped midnight', () => {
    // Santiago moves its clocks from 00:00 to 01:00 on the first Sunday of September.
    expect(startOfLocalDay('2027-09-05', 'America/Santiago').toISOString()).toBe('2027-09-05T04:00:00.000Z');
  });
});
