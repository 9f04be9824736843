import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addHours,
  isQuietTime,
  localTime,
  MS_PER_DAY,
  MS_PER_HOUR,
  MS_PER_MINUTE,
  nextSendableTime,
  toIso,
  toMillis,
  utcDay,
  utcMonth,
  wholeDaysBetween,
} from '../../functions/domain/time.ts';

const QUIET = { start: '21:00', end: '08:00' };
const SH = 'Asia/Shanghai';
const NY = 'America/New_York';

describe('wholeDaysBetween', () => {
  it.each([
    { from: 0, to: 0, days: 0 },
    { from: 0, to: MS_PER_DAY - 1, days: 0 },
    { from: 0, to: MS_PER_DAY, days: 1 },
    { from: 0, to: 15 * MS_PER_DAY, days: 15 },
    { from: 0, to: 30 * MS_PER_DAY - 1, days: 29 },
    { from: 0, to: 30 * MS_PER_DAY, days: 30 },
    { from: MS_PER_DAY, to: 0, days: 0 },
    { from: Date.parse('2026-10-25T01:00:00Z'), to: Date.parse('2026-11-24T01:00:00Z'), days: 30 },
    { from: Date.parse('2026-10-25T01:00:01Z'), to: Date.parse('2026-11-24T01:00:00Z'), days: 29 },
  ])('$from → $to is $days whole days', ({ from, to, days }) => {
    expect(wholeDaysBetween(from, to)).toBe(days);
  });
});

describe('instants', () => {
  it('accepts a Date, an ISO string or epoch milliseconds', () => {
    const ms = Date.parse('2026-11-24T01:00:00Z');
    expect(toMillis(new Date(ms))).toBe(ms);
    expect(toMillis('2026-11-24T09:00:00+08:00')).toBe(ms);
    expect(toMillis(ms)).toBe(ms);
    expect(toIso('2026-11-24T09:00:00+08:00')).toBe('2026-11-24T01:00:00.000Z');
  });

  it.each([{ at: 'yesterday' }, { at: Number.NaN }, { at: new Date('nope') }])('rejects $at', ({ at }) => {
    expect(() => toMillis(at)).toThrow(RangeError);
    expect(() => toMillis(at)).toThrow(/^not a valid time: /);
  });

  it('adds hours and days and names UTC days and months', () => {
    expect(addHours('2026-11-24T01:00:00Z', 48)).toBe('2026-11-26T01:00:00.000Z');
    expect(addHours('2026-11-24T01:00:00Z', 0.5)).toBe('2026-11-24T01:30:00.000Z');
    expect(addDays('2026-11-24T01:00:00Z', -30)).toBe('2026-10-25T01:00:00.000Z');
    expect(utcDay('2026-11-24T23:30:00-01:00')).toBe('2026-11-25');
    expect(utcMonth('2026-11-30T23:30:00-01:00')).toBe('2026-12');
  });
});

describe('localTime', () => {
  it.each([
    { at: '2026-11-24T01:00:00Z', zone: SH, local: '2026-11-24T09:00:00 Asia/Shanghai' },
    { at: '2026-11-23T16:00:00Z', zone: SH, local: '2026-11-24T00:00:00 Asia/Shanghai' },
    { at: '2026-11-24T15:59:59Z', zone: SH, local: '2026-11-24T23:59:59 Asia/Shanghai' },
    { at: '2026-07-01T12:00:00Z', zone: NY, local: '2026-07-01T08:00:00 America/New_York' },
    { at: '2026-12-01T12:00:00Z', zone: NY, local: '2026-12-01T07:00:00 America/New_York' },
    // The repeated hour when New York falls back: 01:30 EDT, then 01:30 EST.
    { at: '2026-11-01T05:30:00Z', zone: NY, local: '2026-11-01T01:30:00 America/New_York' },
    { at: '2026-11-01T06:30:00Z', zone: NY, local: '2026-11-01T01:30:00 America/New_York' },
    // The skipped hour when New York springs forward: 01:59 EST is followed by 03:00 EDT.
    { at: '2026-03-08T06:59:00Z', zone: NY, local: '2026-03-08T01:59:00 America/New_York' },
    { at: '2026-03-08T07:00:00Z', zone: NY, local: '2026-03-08T03:00:00 America/New_York' },
    { at: '2026-11-24T01:00:00Z', zone: 'UTC', local: '2026-11-24T01:00:00 UTC' },
  ])('$at in $zone is $local', ({ at, zone, local }) => {
    expect(localTime(at, zone)).toBe(local);
  });
});

describe('isQuietTime', () => {
  it.each([
    // Asia/Shanghai, UTC+8 all year.
    { at: '2026-11-24T12:59:59Z', zone: SH, local: '20:59:59', quiet: false },
    { at: '2026-11-24T13:00:00Z', zone: SH, local: '21:00', quiet: true },
    { at: '2026-11-24T16:00:00Z', zone: SH, local: '00:00', quiet: true },
    { at: '2026-11-24T23:59:59Z', zone: SH, local: '07:59:59', quiet: true },
    { at: '2026-11-25T00:00:00Z', zone: SH, local: '08:00', quiet: false },
    { at: '2026-11-25T04:00:00Z', zone: SH, local: '12:00', quiet: false },
    // America/New_York in winter, UTC-5.
    { at: '2026-12-02T01:59:00Z', zone: NY, local: '20:59 EST', quiet: false },
    { at: '2026-12-02T02:00:00Z', zone: NY, local: '21:00 EST', quiet: true },
    { at: '2026-12-01T12:59:00Z', zone: NY, local: '07:59 EST', quiet: true },
    { at: '2026-12-01T13:00:00Z', zone: NY, local: '08:00 EST', quiet: false },
    // America/New_York in summer, UTC-4: the same UTC instants fall an hour later.
    { at: '2026-07-02T00:59:00Z', zone: NY, local: '20:59 EDT', quiet: false },
    { at: '2026-07-02T01:00:00Z', zone: NY, local: '21:00 EDT', quiet: true },
    { at: '2026-07-01T11:59:00Z', zone: NY, local: '07:59 EDT', quiet: true },
    { at: '2026-07-01T12:00:00Z', zone: NY, local: '08:00 EDT', quiet: false },
    { at: '2026-07-01T12:30:00Z', zone: NY, local: '08:30 EDT', quiet: false },
    { at: '2026-12-01T12:30:00Z', zone: NY, local: '07:30 EST', quiet: true },
    // DST change days.
    { at: '2026-03-08T07:30:00Z', zone: NY, local: '03:30 EDT, spring forward', quiet: true },
    { at: '2026-03-08T12:00:00Z', zone: NY, local: '08:00 EDT, spring forward', quiet: false },
    { at: '2026-11-01T12:00:00Z', zone: NY, local: '07:00 EST, fall back', quiet: true },
    { at: '2026-11-01T13:00:00Z', zone: NY, local: '08:00 EST, fall back', quiet: false },
  ])('$local in $zone → quiet $quiet', ({ at, zone, quiet }) => {
    expect(isQuietTime(at, zone, QUIET)).toBe(quiet);
  });

  it.each([
    { at: '2026-11-24T04:59:00Z', quiet: false },
    { at: '2026-11-24T05:00:00Z', quiet: true },
    { at: '2026-11-24T05:59:00Z', quiet: true },
    { at: '2026-11-24T06:00:00Z', quiet: false },
  ])('a window within the day (13:00–14:00 Shanghai): $at → $quiet', ({ at, quiet }) => {
    expect(isQuietTime(at, SH, { start: '13:00', end: '14:00' })).toBe(quiet);
  });

  it('a window that starts where it ends is never quiet', () => {
    expect(isQuietTime('2026-11-24T13:00:00Z', SH, { start: '21:00', end: '21:00' })).toBe(false);
    expect(isQuietTime('2026-11-24T16:00:00Z', SH, { start: '00:00', end: '00:00' })).toBe(false);
  });
});

describe('nextSendableTime', () => {
  it.each([
    // Asia/Shanghai.
    {
      case: '20:59:59.5, not quiet',
      at: '2026-11-24T12:59:59.500Z',
      zone: SH,
      next: '2026-11-24T12:59:59.500Z',
    },
    { case: 'exactly 21:00', at: '2026-11-24T13:00:00Z', zone: SH, next: '2026-11-25T00:00:00.000Z' },
    { case: '23:00', at: '2026-11-24T15:00:00Z', zone: SH, next: '2026-11-25T00:00:00.000Z' },
    { case: 'midnight', at: '2026-11-24T16:00:00Z', zone: SH, next: '2026-11-25T00:00:00.000Z' },
    { case: '00:30, after midnight', at: '2026-11-24T16:30:00Z', zone: SH, next: '2026-11-25T00:00:00.000Z' },
    { case: '07:59:30', at: '2026-11-24T23:59:30Z', zone: SH, next: '2026-11-25T00:00:00.000Z' },
    { case: 'exactly 08:00', at: '2026-11-25T00:00:00Z', zone: SH, next: '2026-11-25T00:00:00.000Z' },
    { case: 'year end 23:00', at: '2026-12-31T15:00:00Z', zone: SH, next: '2027-01-01T00:00:00.000Z' },
    // America/New_York.
    { case: '23:00 EST', at: '2026-12-02T04:00:00Z', zone: NY, next: '2026-12-02T13:00:00.000Z' },
    { case: '23:00 EDT', at: '2026-07-02T03:00:00Z', zone: NY, next: '2026-07-02T12:00:00.000Z' },
    { case: '21:00 EDT', at: '2026-07-02T01:00:00Z', zone: NY, next: '2026-07-02T12:00:00.000Z' },
    {
      case: '03:30 EDT after springing forward',
      at: '2026-03-08T07:30:00Z',
      zone: NY,
      next: '2026-03-08T12:00:00.000Z',
    },
    {
      case: '03:00 EST after falling back',
      at: '2026-11-01T08:00:00Z',
      zone: NY,
      next: '2026-11-01T13:00:00.000Z',
    },
    // The night the clocks change: 08:00 is 8 h away in spring and 10 h away in autumn, not 9 h.
    {
      case: '23:00 EST before springing forward',
      at: '2026-03-08T04:00:00Z',
      zone: NY,
      next: '2026-03-08T12:00:00.000Z',
    },
    {
      case: '23:00 EDT before falling back',
      at: '2026-11-01T03:00:00Z',
      zone: NY,
      next: '2026-11-01T13:00:00.000Z',
    },
  ])('$case in $zone → $next', ({ at, zone, next }) => {
    expect(nextSendableTime(at, zone, QUIET)).toBe(next);
  });

  it('accepts a Date and epoch milliseconds', () => {
    const at = Date.parse('2026-11-24T15:00:00Z');
    expect(nextSendableTime(new Date(at), SH, QUIET)).toBe('2026-11-25T00:00:00.000Z');
    expect(nextSendableTime(at, SH, QUIET)).toBe('2026-11-25T00:00:00.000Z');
  });

  it('holds a message in a daytime window until its end', () => {
    expect(nextSendableTime('2026-11-24T05:30:00Z', SH, { start: '13:00', end: '14:00' })).toBe(
      '2026-11-24T06:00:00.000Z',
    );
  });

  // Instants within three days of each New York clock change of 2026 and 2027, and anywhere in 2026.
  const transitions = [
    '2026-03-08T07:00:00Z',
    '2026-11-01T06:00:00Z',
    '2027-03-14T07:00:00Z',
    '2027-11-07T06:00:00Z',
  ];
  const instantArb = fc.oneof(
    fc
      .tuple(
        fc.constantFrom(...transitions),
        fc.integer({ min: -72 * 60, max: 72 * 60 }),
        fc.nat({ max: 59_999 }),
      )
      .map(([t, minutes, ms]) => Date.parse(t) + minutes * MS_PER_MINUTE + ms),
    fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
  );
  const windowArb = fc.constantFrom(
    QUIET,
    { start: '22:30', end: '07:15' },
    { start: '13:00', end: '14:00' },
  );

  it('property: the result is the earliest non-quiet minute at or after the instant, within a day', () => {
    fc.assert(
      fc.property(instantArb, fc.constantFrom(SH, NY), windowArb, (at, zone, window) => {
        const next = Date.parse(nextSendableTime(at, zone, window));
        expect(next).toBeGreaterThanOrEqual(at);
        expect(next - at).toBeLessThan(24 * MS_PER_HOUR);
        expect(isQuietTime(next, zone, window)).toBe(false);
        if (next === at) expect(isQuietTime(at, zone, window)).toBe(false);
        else expect(isQuietTime(next - MS_PER_MINUTE, zone, window)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
