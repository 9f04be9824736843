/** Pure time arithmetic. Nothing here reads a clock: every instant is passed in. */

export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

export type Instant = Date | string | number;

export function toMillis(at: Instant): number {
  const ms = typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not a valid time: ${String(at)}`);
  return ms;
}

export function toIso(at: Instant): string {
  return new Date(toMillis(at)).toISOString();
}

/** Whole days elapsed from `fromMs` to `toMs` (floored; 0 when `from` is later). */
export function wholeDaysBetween(fromMs: number, toMs: number): number {
  return toMs <= fromMs ? 0 : Math.floor((toMs - fromMs) / MS_PER_DAY);
}

export function addHours(at: Instant, hours: number): string {
  return new Date(toMillis(at) + hours * MS_PER_HOUR).toISOString();
}

export function addDays(at: Instant, days: number): string {
  return new Date(toMillis(at) + days * MS_PER_DAY).toISOString();
}

/** `YYYY-MM-DD` of the instant in UTC. */
export function utcDay(at: Instant): string {
  return toIso(at).slice(0, 10);
}

/** `YYYY-MM` of the instant in UTC. */
export function utcMonth(at: Instant): string {
  return toIso(at).slice(0, 7);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Wall-clock time in a zone as `YYYY-MM-DDTHH:MM:SS` plus the zone name, for people to read. */
export function localTime(at: Instant, timeZone: string): string {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(new Date(toMillis(at)))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second} ${timeZone}`;
}

function minutesOfDay(at: number, timeZone: string): number {
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(timeZone).formatToParts(new Date(at))) {
    if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

function parseClock(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

export interface QuietHours {
  start: string;
  end: string;
}

/** Whether the instant falls in the user's quiet hours; the window may wrap past midnight. */
export function isQuietTime(at: Instant, timeZone: string, quiet: QuietHours): boolean {
  const start = parseClock(quiet.start);
  const end = parseClock(quiet.end);
  if (start === end) return false;
  const now = minutesOfDay(toMillis(at), timeZone);
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * The earliest instant at or after `at` outside quiet hours, in the user's zone. Messages are held,
 * never dropped, so a recall that reaches the SMS step at 23:00 sends at 08:00.
 */
export function nextSendableTime(at: Instant, timeZone: string, quiet: QuietHours): string {
  const ms = toMillis(at);
  if (!isQuietTime(ms, timeZone, quiet)) return new Date(ms).toISOString();
  const end = parseClock(quiet.end);
  const next = ms - (ms % MS_PER_MINUTE) + ((end - minutesOfDay(ms, timeZone) + 1440) % 1440) * MS_PER_MINUTE;
  // On a night the clocks change, wall-clock minutes and elapsed minutes differ by the shift.
  const drift = ((minutesOfDay(next, timeZone) - end + 2160) % 1440) - 720;
  const corrected = next - drift * MS_PER_MINUTE;
  return new Date(drift !== 0 && !isQuietTime(corrected, timeZone, quiet) ? corrected : next).toISOString();
}

/**
 * Which of the named times lie more than `skewMinutes` after `now`. A far-future login would hide a
 * user's inactivity for good (times only move forward), so such input is refused, not stored.
 */
export function timesTooFarAhead(
  times: Readonly<Record<string, string | undefined>>,
  now: Date,
  skewMinutes: number,
): string[] {
  const limit = now.getTime() + skewMinutes * 60_000;
  return Object.entries(times)
    .filter(([, at]) => at !== undefined && Date.parse(at) > limit)
    .map(([field]) => field);
}
