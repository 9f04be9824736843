import type { Assessment } from './assessment.ts';
import { MS_PER_DAY, wholeDaysBetween } from './time.ts';
import type { AssessmentStatus, LifecycleStage, RiskLevel, UserRecord } from './user.ts';

/**
 * One row of assessment history (see the lake contract): what the policy saw and concluded about a
 * user on a scan day. Never a phone number, push address or name: the lake is read by analysts.
 */
export interface SnapshotRow {
  day: string;
  dayNumber: number;
  userId: string;
  status: AssessmentStatus;
  level: RiskLevel;
  score: number;
  lifecycle: LifecycleStage;
  channel: string;
  reasonCodes: string[];
  registeredMonth: string;
  investCount: number;
  maxInvestFen: number;
  totalInvestedFen: number;
  balanceFen: number;
  heldBonusProduct: boolean;
  daysSinceLogin: number;
  daysSinceInvest: number | null;
  churnReason: string | null;
}

/** One recorded callback or survey answer, kept for good (the user record keeps only the last). */
export interface FeedbackRow {
  day: string;
  dayNumber: number;
  userId: string;
  feedbackId: string;
  churnReason: string;
  issues: string[];
  at: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a `YYYY-MM-DD` day: integer day arithmetic reads the same on every SQL engine. */
export function dayNumber(day: string): number {
  const m = DAY.exec(day);
  if (!m) throw new RangeError(`not a day YYYY-MM-DD: ${day}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== day) throw new RangeError(`not a real day: ${day}`);
  return ms / MS_PER_DAY;
}

/** The `YYYY-MM-DD` of a day number. */
export function dayOfNumber(n: number): string {
  return new Date(n * MS_PER_DAY).toISOString().slice(0, 10);
}

// Formatting a date in a zone costs microseconds; a scan asks for the same few instants all day.
const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day of an instant in a time zone (the scan's day, which in Shanghai starts at 16:00 UTC). */
let lastDay = { atMs: Number.NaN, timeZone: '', day: '' };

export function dayInZone(atMs: number, timeZone: string): string {
  // A scan asks for the same instant once per user: remember the last answer.
  if (atMs === lastDay.atMs && timeZone === lastDay.timeZone) return lastDay.day;
  let f = dayFormatters.get(timeZone);
  if (!f) {
    // en-CA formats as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, f);
  }
  const day = f.format(new Date(atMs));
  lastDay = { atMs, timeZone, day };
  return day;
}

/** Minutes the zone's wall clock is ahead of UTC at the instant. */
function offsetMinutes(atMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(atMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  return Math.round((wall - (atMs - (atMs % 60_000))) / 60_000);
}

/**
 * The UTC instant of wall-clock `hh:mm` on `day` in `timeZone` (09:00 Asia/Shanghai on 2026-11-24 is
 * 2026-11-24T01:00Z). On a day the clocks change, the offset after the change wins.
 */
export function scanInstant(day: string, localTime: string, timeZone: string): number {
  const [h, m] = localTime.split(':').map(Number);
  const wall = dayNumber(day) * MS_PER_DAY + (h! * 60 + m!) * 60_000;
  let at = wall - offsetMinutes(wall, timeZone) * 60_000;
  at = wall - offsetMinutes(at, timeZone) * 60_000;
  return at;
}

// Every row of a scan has the same day.
let lastNumbered = { day: '', n: 0 };

/** The contract row for one assessed user. `asOf` is the scan instant; `timeZone` names its day. */
export function snapshotRow(
  user: UserRecord,
  assessment: Assessment,
  asOf: Date | number,
  timeZone: string,
): SnapshotRow {
  const now = typeof asOf === 'number' ? asOf : asOf.getTime();
  const day = dayInZone(now, timeZone);
  if (day !== lastNumbered.day) lastNumbered = { day, n: dayNumber(day) };
  const registeredMs = Date.parse(user.registeredAt);
  const loginMs = user.lastLoginAt === undefined ? registeredMs : Date.parse(user.lastLoginAt);
  const reasonCodes: string[] = [];
  for (const r of assessment.reasons) reasonCodes.push(r.code);
  return {
    day,
    dayNumber: lastNumbered.n,
    userId: user.userId,
    status: assessment.status,
    level: assessment.level,
    score: assessment.score,
    lifecycle: assessment.lifecycle,
    channel: user.channel,
    reasonCodes,
    registeredMonth: user.registeredAt.slice(0, 7),
    investCount: user.investCount,
    maxInvestFen: user.maxInvestFen,
    totalInvestedFen: user.totalInvestedFen,
    balanceFen: user.balanceFen,
    heldBonusProduct: user.heldBonusProduct,
    // Counted as assess() counts them, so a row's figures explain its reasons.
    daysSinceLogin: wholeDaysBetween(loginMs, now),
    daysSinceInvest:
      user.lastInvestAt === undefined ? null : wholeDaysBetween(Date.parse(user.lastInvestAt), now),
    churnReason: user.churnReason ?? null,
  };
}

/**
 * The history row of a feedback answer. Its id derives from the user and the time it was recorded,
 * so writing the same answer again overwrites its row instead of adding one.
 */
export function feedbackRow(
  userId: string,
  churnReason: string,
  issues: readonly string[],
  at: string,
): FeedbackRow {
  const day = at.slice(0, 10);
  return {
    day,
    dayNumber: dayNumber(day),
    userId,
    feedbackId: `${userId}-${at.replace(/[^0-9]/g, '')}`,
    churnReason,
    issues: [...issues],
    at,
  };
}
