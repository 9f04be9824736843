import type { RecallChannel, StrategyKind } from './assessment.ts';
import type { Policy } from './policy.ts';
import type { RecallOutcome, RecallRoute, RecallTrigger } from './recall.ts';
import { dayInZone, dayNumber as dayNumberOf } from './snapshot.ts';
import { MS_PER_DAY, toMillis } from './time.ts';
import type { LifecycleStage, RiskLevel } from './user.ts';

/**
 * What works, measured: the outcome row a closed recall (or holdout draw) leaves in the lake, and
 * the figures the report computes from those rows: uplift against the holdout over the same matured
 * window with a 95% interval, the same by segment, cost per incremental return, reward ROI, relapse,
 * and the decision to skip SMS where it measurably does not help. Pure: rows in, figures out.
 */

// ---------------------------------------------------------------------------------------------
// The outcome row
// ---------------------------------------------------------------------------------------------

/** How the lake names what started a recall. */
export type OutcomeTrigger = 'scan' | 'manual' | 'segment';
const TRIGGER_NAMES: Record<RecallTrigger, OutcomeTrigger> = {
  scheduled: 'scan',
  manual: 'manual',
  segment: 'segment',
};

/** One row per closed recall or holdout draw (lake table `recalls`, camelCase keys, PII-free). */
export interface RecallOutcomeRow {
  /** The lake partition (`day=`): the start day, so Athena prunes a report window's recalls like its snapshots. */
  day: string;
  recallId: string;
  userId: string;
  trigger: OutcomeTrigger;
  /** YYYY-MM-DD in the scan's time zone, like the snapshot `day`. */
  startedDay: string;
  /** Days since 1970-01-01 of `startedDay`, like the snapshot `dayNumber`: queries need no date functions. */
  startedDayNumber: number;
  closedDay: string | null;
  closedDayNumber: number | null;
  outcome: RecallOutcome | null;
  winningStep: RecallChannel | null;
  holdout: boolean;
  level: RiskLevel;
  lifecycle: LifecycleStage;
  /** Acquisition channel, as in the snapshots. */
  channel: string;
  /** Strategy kinds of the plan, the one the messages used first. */
  strategies: StrategyKind[];
  /**
   * The lead strategy (`strategies[0]`, `reminder` for a plan without one) as a plain column: the
   * queries then need no array indexing, which the two engines spell differently.
   */
  strategy: string;
  /** Channels actually sent, in the order sent. */
  stepsSent: RecallChannel[];
  smsCount: number;
  pushCount: number;
  inAppCount: number;
  /** The day number the SMS went out (null without one), for the SMS step's own uplift. */
  smsDayNumber: number | null;
  /** `recall.skipSmsWithoutUplift` took the SMS step out of this recall's plan. */
  smsSkipped: boolean;
  /** The conditional reward offered (0 without one); paid only when `rewardUnlocked`. */
  rewardFen: number;
  rewardUnlocked: boolean;
  /** Investment between the recall's start and the end of its window. */
  reinvestedFen: number;
  /** Null until the relapse watch has ended (or for a recall that did not bring the user back). */
  relapsedWithin30Days: boolean | null;
}

/** The recall record's fields the row needs (RecallRecord in adapters/recall-repository.ts has them). */
export interface RecallFacts {
  recallId: string;
  userId: string;
  trigger: RecallTrigger;
  level: RiskLevel;
  startedAt: string;
  holdout: boolean;
  plan?: { route: RecallRoute; strategies: { kind: StrategyKind }[] };
  closedAt?: string;
  outcome?: RecallOutcome;
  winningStep?: RecallChannel;
  /** Prepare's SMS decision (adapters/recall-repository.ts records it with the plan). */
  smsDecision?: { skipSms: boolean };
}

/** A ledger entry (MessageRecord in adapters/message-ledger.ts): only `sent` ones count. */
export interface MessageFacts {
  channel: RecallChannel;
  /** `unknown` may have reached the user (a send in doubt), so it counts as sent here, as in the workflow. */
  status: 'sending' | 'sent' | 'failed' | 'unknown';
  sentAt?: string;
}

/** A reward (RewardRecord in adapters/rewards.ts). */
export interface RewardFacts {
  amountFen: number;
  /** Only an `open` or `unlocked` reward was offered to the user; the others never reached them. */
  status: 'pending' | 'open' | 'unlocked' | 'cancelled' | 'refused';
}

export interface OutcomeRowInput {
  recall: RecallFacts;
  messages: readonly MessageFacts[];
  reward?: RewardFacts;
  /** The user's stage and acquisition channel when the recall started (from the start day's snapshot). */
  user: { lifecycle: LifecycleStage; channel: string };
  /** Investment in the recall's window (the snapshots' `totalInvestedFen` difference); 0 when unknown. */
  reinvestedFen?: number;
  relapsedWithin30Days?: boolean | null;
  /** The scan's time zone, so the row's days line up with the snapshot days. */
  timeZone: string;
}

const dayIn = (at: string, timeZone: string) => dayInZone(toMillis(at), timeZone);

export function outcomeRow(input: OutcomeRowInput): RecallOutcomeRow {
  const { recall, timeZone } = input;
  const sent = input.messages
    .filter((m) => (m.status === 'sent' || m.status === 'unknown') && m.sentAt)
    .sort((a, b) => a.sentAt!.localeCompare(b.sentAt!));
  const countOf = (channel: RecallChannel) => sent.filter((m) => m.channel === channel).length;
  const smsAt = sent.find((m) => m.channel === 'sms')?.sentAt;
  const startedDay = dayIn(recall.startedAt, timeZone);
  const closedDay = recall.closedAt ? dayIn(recall.closedAt, timeZone) : null;
  return {
    day: startedDay,
    recallId: recall.recallId,
    userId: recall.userId,
    trigger: TRIGGER_NAMES[recall.trigger],
    startedDay,
    startedDayNumber: dayNumberOf(startedDay),
    closedDay,
    closedDayNumber: closedDay === null ? null : dayNumberOf(closedDay),
    outcome: recall.outcome ?? null,
    winningStep: recall.winningStep ?? null,
    holdout: recall.holdout,
    level: recall.level,
    lifecycle: input.user.lifecycle,
    channel: input.user.channel,
    strategies: (recall.plan?.strategies ?? []).map((s) => s.kind),
    strategy: recall.plan?.strategies[0]?.kind ?? 'reminder',
    stepsSent: sent.map((m) => m.channel),
    smsCount: countOf('sms'),
    pushCount: countOf('push'),
    inAppCount: countOf('in_app'),
    smsDayNumber: smsAt ? dayNumberOf(dayIn(smsAt, timeZone)) : null,
    smsSkipped: recall.smsDecision?.skipSms === true,
    rewardFen:
      input.reward?.status === 'open' || input.reward?.status === 'unlocked' ? input.reward.amountFen : 0,
    rewardUnlocked: input.reward?.status === 'unlocked',
    reinvestedFen: input.reinvestedFen ?? 0,
    relapsedWithin30Days: input.relapsedWithin30Days ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Intervals
// ---------------------------------------------------------------------------------------------

export const Z95 = 1.959964;

export interface Interval {
  low: number;
  high: number;
}

/** Wilson score interval for a proportion (no continuity correction). */
export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval for p1 − p2 (Newcombe 1998, method 10): each proportion's
 * Wilson interval, combined. Good coverage at small n and near 0 or 1, where the Wald interval fails.
 */
export function newcombeInterval(x1: number, n1: number, x2: number, n2: number, z = Z95): Interval {
  const p1 = n1 === 0 ? 0 : x1 / n1;
  const p2 = n2 === 0 ? 0 : x2 / n2;
  const a = wilsonInterval(x1, n1, z);
  const b = wilsonInterval(x2, n2, z);
  const d = p1 - p2;
  return {
    low: d - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2),
    high: d + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2),
  };
}

// ---------------------------------------------------------------------------------------------
// Uplift over the same matured window
// ---------------------------------------------------------------------------------------------

/**
 * One recall or holdout draw as the uplift sees it. `returnDayNumber` is the first day on or after
 * the start with a login or an investment (from the snapshots), for both arms alike: an opened
 * in-app message is not a return, since a holdout user has none to open.
 */
export interface UpliftDraw {
  holdout: boolean;
  trigger: OutcomeTrigger;
  startedDayNumber: number;
  returnDayNumber: number | null;
  strategy: string;
  lifecycle: string;
  level: string;
  channel: string;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` day, as the lake's `dayNumber` (snapshot.ts). */
export { dayNumber as dayNumberOf } from './snapshot.ts';

/** A draw from its outcome row and the return day the snapshots show. */
export function drawOf(row: RecallOutcomeRow, returnDayNumber: number | null): UpliftDraw {
  return {
    holdout: row.holdout,
    trigger: row.trigger,
    startedDayNumber: row.startedDayNumber,
    returnDayNumber,
    strategy: row.strategies[0] ?? 'reminder',
    lifecycle: row.lifecycle,
    level: row.level,
    channel: row.channel,
  };
}

/**
 * The length of a full escalation in days: every wait after a step, plus one day for the wait for
 * sending hours and quiet-hour holds. A draw counts once this many days have passed since its start.
 */
export function escalationWindowDays(policy: Policy): number {
  const w = policy.recall.waitHours;
  return Math.ceil((w.afterInApp + w.afterPush + w.afterSms) / 24) + 1;
}

export const NOT_ENOUGH_DATA = 'not enough data yet';

export interface UpliftFigures {
  recalledN: number;
  holdoutN: number;
  recalledReturned: number;
  holdoutReturned: number;
  recalledReturnRate: number | null;
  holdoutReturnRate: number | null;
  /** Percentage points, one decimal; null under the minimum sample. */
  upliftPoints: number | null;
  /** In percentage points, one decimal; null under the minimum sample. */
  ci95: Interval | null;
  /** "not enough data yet" when either arm is under the minimum sample. */
  note: string | null;
}

export interface UpliftOptions {
  asOfDayNumber: number;
  windowDays: number;
  minSamplePerArm: number;
}

export function upliftOptions(policy: Policy, asOfDay: string): UpliftOptions {
  return {
    asOfDayNumber: dayNumberOf(asOfDay),
    windowDays: escalationWindowDays(policy),
    minSamplePerArm: policy.uplift.minSamplePerArm,
  };
}

/** Triggers that draw a holdout; manual recalls never do, so they have no comparison and stay out of the total. */
const COMPARABLE_TRIGGERS: readonly OutcomeTrigger[] = ['scan', 'segment'];

export function isMatured(draw: Pick<UpliftDraw, 'startedDayNumber'>, options: UpliftOptions): boolean {
  return draw.startedDayNumber + options.windowDays <= options.asOfDayNumber;
}

export function returnedInWindow(draw: UpliftDraw, windowDays: number): boolean {
  if (draw.returnDayNumber === null) return false;
  const after = draw.returnDayNumber - draw.startedDayNumber;
  return after >= 0 && after <= windowDays;
}

const points = (x: number) => Math.round(x * 1000) / 10;

/** Return rates from counts, and the uplift with its interval once both arms have enough draws. */
export function upliftFromCounts(
  recalled: { n: number; returned: number },
  holdout: { n: number; returned: number },
  minSamplePerArm: number,
): UpliftFigures {
  const rate = (a: { n: number; returned: number }) => (a.n === 0 ? null : a.returned / a.n);
  const enough = recalled.n >= minSamplePerArm && holdout.n >= minSamplePerArm;
  const r = rate(recalled);
  const h = rate(holdout);
  const ci = newcombeInterval(recalled.returned, recalled.n, holdout.returned, holdout.n);
  return {
    recalledN: recalled.n,
    holdoutN: holdout.n,
    recalledReturned: recalled.returned,
    holdoutReturned: holdout.returned,
    recalledReturnRate: r,
    holdoutReturnRate: h,
    upliftPoints: enough && r !== null && h !== null ? points(r - h) : null,
    ci95: enough ? { low: points(ci.low), high: points(ci.high) } : null,
    note: enough ? null : NOT_ENOUGH_DATA,
  };
}

/**
 * Recalled against holdout (intention to treat: every draw of a trigger that draws a holdout, whatever
 * the recall then did), only draws whose whole window has passed, the same return rule for both.
 */
export function uplift(draws: Iterable<UpliftDraw>, options: UpliftOptions): UpliftFigures {
  const arms = { recalled: { n: 0, returned: 0 }, holdout: { n: 0, returned: 0 } };
  for (const d of draws) {
    if (!COMPARABLE_TRIGGERS.includes(d.trigger) || !isMatured(d, options)) continue;
    const arm = d.holdout ? arms.holdout : arms.recalled;
    arm.n++;
    if (returnedInWindow(d, options.windowDays)) arm.returned++;
  }
  return upliftFromCounts(arms.recalled, arms.holdout, options.minSamplePerArm);
}

export type UpliftDimension = 'strategy' | 'lifecycle' | 'level' | 'channel' | 'trigger';
export type UpliftRow = { key: string } & UpliftFigures;

/**
 * The same uplift per value of one dimension. By trigger, a manual row is listed with its recalled n
 * and no holdout: it cannot be compared.
 */
export function upliftBy(
  draws: readonly UpliftDraw[],
  dimension: UpliftDimension,
  options: UpliftOptions,
): UpliftRow[] {
  const groups = new Map<string, UpliftDraw[]>();
  for (const d of draws) {
    const key = d[dimension];
    const group = groups.get(key);
    if (group) group.push(d);
    else groups.set(key, [d]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, group]) => {
      if (dimension !== 'trigger' || COMPARABLE_TRIGGERS.includes(key as OutcomeTrigger))
        return { key, ...uplift(group, options) };
      const matured = group.filter((d) => !d.holdout && isMatured(d, options));
      const returned = matured.filter((d) => returnedInWindow(d, options.windowDays)).length;
      return {
        key,
        ...upliftFromCounts({ n: matured.length, returned }, { n: 0, returned: 0 }, options.minSamplePerArm),
      };
    });
}

// ---------------------------------------------------------------------------------------------
// Cost, cost per incremental return, reward ROI
// ---------------------------------------------------------------------------------------------

/**
 * State transitions of one recall execution, estimated from its shape: Prepare, the wait for sending
 * hours, the route choice and Close (4), and per attempted step its send, wait, check and decision (4).
 * Retries and quiet-hour re-sends add a few more; the estimate leaves them out.
 */
export function estimatedTransitions(stepsAttempted: number): number {
  return 4 + 4 * stepsAttempted;
}

export interface RecallCost {
  recalls: number;
  messages: { sms: number; push: number; inApp: number };
  messagesFen: number;
  transitions: number;
  transitionsFen: number;
  rewardsPaidFen: number;
  totalFen: number;
}

type CostRow = Pick<
  RecallOutcomeRow,
  'smsCount' | 'pushCount' | 'inAppCount' | 'rewardFen' | 'rewardUnlocked'
> & { transitions?: number };

/** Messages × unit price, transitions × price (counted when known, else estimated), rewards paid. */
export function recallCost(rows: Iterable<CostRow>, policy: Policy): RecallCost {
  const c = policy.cost;
  const out: RecallCost = {
    recalls: 0,
    messages: { sms: 0, push: 0, inApp: 0 },
    messagesFen: 0,
    transitions: 0,
    transitionsFen: 0,
    rewardsPaidFen: 0,
    totalFen: 0,
  };
  for (const r of rows) {
    out.recalls++;
    out.messages.sms += r.smsCount;
    out.messages.push += r.pushCount;
    out.messages.inApp += r.inAppCount;
    // Every message sent is one step attempted (the row's counts are its stepsSent, by channel).
    out.transitions += r.transitions ?? estimatedTransitions(r.smsCount + r.pushCount + r.inAppCount);
    if (r.rewardUnlocked) out.rewardsPaidFen += r.rewardFen;
  }
  out.messagesFen =
    out.messages.sms * c.smsFen + out.messages.push * c.pushFen + out.messages.inApp * c.inAppFen;
  out.transitionsFen = Math.round((out.transitions * c.per1000TransitionsFen) / 1000);
  out.totalFen = out.messagesFen + out.transitionsFen + out.rewardsPaidFen;
  return out;
}

/**
 * Cost ÷ returns the recall added over the holdout (uplift × recalled n). Null without a measured,
 * positive uplift: dividing by a noisy or negative difference gives a number that means nothing.
 */
export function costPerIncrementalReturnFen(costFen: number, figures: UpliftFigures): number | null {
  if (figures.upliftPoints === null || figures.recalledReturnRate === null) return null;
  const incremental = (figures.recalledReturnRate - (figures.holdoutReturnRate ?? 0)) * figures.recalledN;
  if (incremental <= 0) return null;
  return Math.round(costFen / incremental);
}

/** Investment made in the window by users offered a reward, per fen of reward paid; null when none was paid. */
export function rewardRoi(
  rows: Iterable<Pick<RecallOutcomeRow, 'rewardFen' | 'rewardUnlocked' | 'reinvestedFen'>>,
): number | null {
  let paid = 0;
  let reinvested = 0;
  for (const r of rows) {
    if (r.rewardFen <= 0) continue;
    reinvested += r.reinvestedFen;
    if (r.rewardUnlocked) paid += r.rewardFen;
  }
  return paid === 0 ? null : Math.round((reinvested / paid) * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// Relapse
// ---------------------------------------------------------------------------------------------

export interface RelapseRow {
  key: string;
  returned: number;
  relapsed: number;
  relapseRate: number | null;
}

/** 30-day relapse among returned users whose watch has ended, by winning step or by strategy. */
export function relapseBy(
  rows: Iterable<Pick<RecallOutcomeRow, 'outcome' | 'winningStep' | 'strategy' | 'relapsedWithin30Days'>>,
  dimension: 'winningStep' | 'strategy',
): RelapseRow[] {
  const groups = new Map<string, { returned: number; relapsed: number }>();
  for (const r of rows) {
    if (r.outcome !== 'returned' || r.relapsedWithin30Days === null) continue;
    const key = dimension === 'winningStep' ? (r.winningStep ?? 'without_message') : r.strategy;
    const g = groups.get(key) ?? { returned: 0, relapsed: 0 };
    g.returned++;
    if (r.relapsedWithin30Days) g.relapsed++;
    groups.set(key, g);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, g]) => ({ key, ...g, relapseRate: g.returned === 0 ? null : g.relapsed / g.returned }));
}

/** Whether a returned user relapsed: at risk or churned again within 30 days of returning. */
export function relapsedWithin(
  returnedAt: string,
  firstAtRiskAfter: string | null,
  asOf: string,
  days = 30,
): boolean | null {
  const end = toMillis(returnedAt) + days * MS_PER_DAY;
  if (firstAtRiskAfter !== null && toMillis(firstAtRiskAfter) <= end) return true;
  return toMillis(asOf) >= end ? false : null;
}

// ---------------------------------------------------------------------------------------------
// Spend where it works: skipping SMS without uplift
// ---------------------------------------------------------------------------------------------

export type SmsSkipReason =
  | 'switch_off'
  | 'not_enough_data'
  | 'uplift_interval_below_minimum'
  | 'uplift_not_shown_below_minimum';

export interface SmsSkipDecision {
  skipSms: boolean;
  reason: SmsSkipReason;
  segment: { lifecycle: string; level: string };
  minSmsUpliftPoints: number;
  /** The figures the decision rests on, recorded on the recall and counted in the report. */
  smsUplift: UpliftFigures | null;
}

/**
 * With `recall.skipSmsWithoutUplift` on, the SMS step is skipped for a (lifecycle, level) segment
 * whose matured SMS-step uplift interval lies entirely below `recall.minSmsUpliftPoints` with enough
 * sample. Anything less certain keeps the SMS: the switch stops spending only where it measurably fails.
 */
export function decideSmsStep(
  policy: Policy,
  segment: { lifecycle: string; level: string },
  smsUplift: UpliftFigures | null,
): SmsSkipDecision {
  const min = policy.recall.minSmsUpliftPoints;
  const decision = (skipSms: boolean, reason: SmsSkipReason): SmsSkipDecision => ({
    skipSms,
    reason,
    segment,
    minSmsUpliftPoints: min,
    smsUplift,
  });
  if (!policy.recall.skipSmsWithoutUplift) return decision(false, 'switch_off');
  if (!smsUplift?.ci95) return decision(false, 'not_enough_data');
  if (smsUplift.ci95.high < min) return decision(true, 'uplift_interval_below_minimum');
  return decision(false, 'uplift_not_shown_below_minimum');
}

/**
 * One draw as the SMS step sees it. For a recalled draw, `smsDayNumber` is the day its SMS went out
 * (null when it never reached the SMS step); a holdout draw has none and gets the day it would have.
 */
export interface SmsStepDraw extends UpliftDraw {
  smsDayNumber: number | null;
}

/**
 * The SMS step's own uplift in a segment: recalled users who were sent the SMS against holdout users
 * still not back on the day the SMS would have gone out to them (start + in-app and push waits, or the
 * start for high risk, which goes to SMS first); a return counts within the SMS wait, for both arms.
 */
export function smsStepUplift(
  draws: Iterable<SmsStepDraw>,
  segment: { lifecycle: string; level: string },
  policy: Policy,
  asOfDayNumber: number,
): UpliftFigures {
  const w = policy.recall.waitHours;
  const smsWindow = Math.ceil(w.afterSms / 24) + 1;
  const offset = (level: string) => (level === 'high' ? 0 : Math.ceil((w.afterInApp + w.afterPush) / 24));
  const arms = { recalled: { n: 0, returned: 0 }, holdout: { n: 0, returned: 0 } };
  for (const d of draws) {
    if (d.lifecycle !== segment.lifecycle || d.level !== segment.level) continue;
    if (!COMPARABLE_TRIGGERS.includes(d.trigger)) continue;
    const smsDay = d.holdout ? d.startedDayNumber + offset(d.level) : d.smsDayNumber;
    if (smsDay === null || smsDay + smsWindow > asOfDayNumber) continue;
    // A holdout user already back by then would never have been sent the SMS.
    if (d.holdout && d.returnDayNumber !== null && d.returnDayNumber < smsDay) continue;
    const arm = d.holdout ? arms.holdout : arms.recalled;
    arm.n++;
    if (d.returnDayNumber !== null && d.returnDayNumber >= smsDay && d.returnDayNumber - smsDay <= smsWindow)
      arm.returned++;
  }
  return upliftFromCounts(arms.recalled, arms.holdout, policy.uplift.minSamplePerArm);
}

const percent = (rate: number | null) => (rate === null ? '–' : `${(rate * 100).toFixed(1)}%`);
const signed = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : ''}${Math.abs(x).toFixed(1)}`;

/** The uplift as one line for the daily digest's headline. */
export function formatUplift(f: UpliftFigures, minSamplePerArm: number): string {
  const arms = `recalled ${percent(f.recalledReturnRate)} of ${f.recalledN}, holdout ${percent(f.holdoutReturnRate)} of ${f.holdoutN}`;
  if (f.upliftPoints === null || f.ci95 === null)
    return `uplift: ${NOT_ENOUGH_DATA} (${arms}; ${minSamplePerArm} matured per arm needed)`;
  return `uplift ${signed(f.upliftPoints)} points (95% CI ${signed(f.ci95.low)} to ${signed(f.ci95.high)}; ${arms})`;
}

// ---------------------------------------------------------------------------------------------
// The report's `recalls` section
// ---------------------------------------------------------------------------------------------

/**
 * One row of queries/recall-draws.sql: the outcome row's columns plus what the snapshots add (the
 * day the user came back, and the relapse the lake row cannot know when the recall closes).
 */
export type RecallDrawRow = Pick<
  RecallOutcomeRow,
  | 'recallId'
  | 'trigger'
  | 'holdout'
  | 'startedDayNumber'
  | 'closedDayNumber'
  | 'outcome'
  | 'winningStep'
  | 'strategy'
  | 'smsCount'
  | 'pushCount'
  | 'inAppCount'
  | 'smsDayNumber'
  | 'smsSkipped'
  | 'rewardFen'
  | 'rewardUnlocked'
  | 'reinvestedFen'
> & {
  /** Segment keys as the lake holds them: a row written by an older version may name others. */
  level: string;
  lifecycle: string;
  channel: string;
  returnDayNumber: number | null;
  /** From the snapshots: quiet again or churned within 30 days of coming back; null until the 30 days are over. */
  relapsedWithin30Days: boolean | null;
};

export interface RecallFunnel {
  /** Recalls and holdout draws started in the window (manual ones included). */
  started: number;
  /** Recalls that sent each step at least once. */
  sent: { inApp: number; push: number; sms: number };
  returned: { total: number; inApp: number; push: number; sms: number; withoutMessage: number };
  notReturned: number;
  /** Closed without a message (no channel, not at risk any more, user gone); holdout draws are counted apart. */
  skipped: number;
  failed: number;
  holdout: number;
  stillRunning: number;
  /** Recalls whose SMS step `recall.skipSmsWithoutUplift` skipped. */
  smsSkippedForNoUplift: number;
}

export type RecallUplift = UpliftFigures & {
  windowDays: number;
  minSamplePerArm: number;
  byStrategy: UpliftRow[];
  byLifecycle: UpliftRow[];
  byLevel: UpliftRow[];
  byChannel: UpliftRow[];
  byTrigger: UpliftRow[];
};

/** The SMS step's uplift in one (lifecycle, level) segment, and what `recall.skipSmsWithoutUplift` decides from it. */
export type SmsStepRow = {
  lifecycle: string;
  level: string;
  skipSms: boolean;
  reason: SmsSkipReason;
} & UpliftFigures;

export interface RecallsSection {
  funnel: RecallFunnel;
  uplift: RecallUplift;
  cost: RecallCost & {
    unitPricesFen: { sms: number; push: number; inApp: number; per1000Transitions: number };
    /** Cost of the matured recalled draws the uplift counts, over the returns they added. */
    maturedRecalledCostFen: number;
    costPerIncrementalReturnFen: number | null;
    rewardRoi: number | null;
  };
  costPerIncrementalReturnFen: number | null;
  rewardRoi: number | null;
  relapse: {
    returned: number;
    relapsed: number;
    relapseRate: number | null;
    byWinningStep: RelapseRow[];
    byStrategy: RelapseRow[];
  };
  smsStep: SmsStepRow[];
  /** The day before the report day: recalls that closed with the user back, for the digest. */
  yesterday: { dayNumber: number; returned: number };
}

const COMPARABLE = (t: OutcomeTrigger) => COMPARABLE_TRIGGERS.includes(t);

function drawOfRow(r: RecallDrawRow): SmsStepDraw {
  return {
    holdout: r.holdout,
    trigger: r.trigger,
    startedDayNumber: r.startedDayNumber,
    returnDayNumber: r.returnDayNumber,
    strategy: r.strategy,
    lifecycle: r.lifecycle,
    level: r.level,
    channel: r.channel,
    smsDayNumber: r.smsDayNumber,
  };
}

/**
 * Every figure of the report's `recalls` section from the draws started in the window, as of the
 * report day. Pure: the caller ran the query.
 */
export function recallsSection(
  rows: readonly RecallDrawRow[],
  policy: Policy,
  asOfDay: string,
): RecallsSection {
  const options = upliftOptions(policy, asOfDay);
  const funnel: RecallFunnel = {
    started: rows.length,
    sent: { inApp: 0, push: 0, sms: 0 },
    returned: { total: 0, inApp: 0, push: 0, sms: 0, withoutMessage: 0 },
    notReturned: 0,
    skipped: 0,
    failed: 0,
    holdout: 0,
    stillRunning: 0,
    smsSkippedForNoUplift: 0,
  };
  for (const r of rows) {
    if (r.inAppCount > 0) funnel.sent.inApp++;
    if (r.pushCount > 0) funnel.sent.push++;
    if (r.smsCount > 0) funnel.sent.sms++;
    if (r.smsSkipped) funnel.smsSkippedForNoUplift++;
    if (r.holdout) funnel.holdout++;
    else if (r.outcome === null) funnel.stillRunning++;
    else if (r.outcome === 'returned') {
      funnel.returned.total++;
      const step = r.winningStep;
      if (step === 'in_app') funnel.returned.inApp++;
      else if (step === 'push') funnel.returned.push++;
      else if (step === 'sms') funnel.returned.sms++;
      else funnel.returned.withoutMessage++;
    } else if (r.outcome === 'not_returned') funnel.notReturned++;
    else if (r.outcome === 'failed') funnel.failed++;
    else funnel.skipped++;
  }

  const draws = rows.map(drawOfRow);
  const overall = uplift(draws, options);
  const upliftSection: RecallUplift = {
    ...overall,
    windowDays: options.windowDays,
    minSamplePerArm: options.minSamplePerArm,
    byStrategy: upliftBy(draws, 'strategy', options),
    byLifecycle: upliftBy(draws, 'lifecycle', options),
    byLevel: upliftBy(draws, 'level', options),
    byChannel: upliftBy(draws, 'channel', options),
    byTrigger: upliftBy(draws, 'trigger', options),
  };

  const total = recallCost(rows, policy);
  const matured = rows.filter((r) => !r.holdout && COMPARABLE(r.trigger) && isMatured(r, options));
  const maturedCost = recallCost(matured, policy).totalFen;
  const perIncremental = costPerIncrementalReturnFen(maturedCost, overall);
  const roi = rewardRoi(rows);

  const watched = rows.filter((r) => r.outcome === 'returned' && r.relapsedWithin30Days !== null);
  const relapsed = watched.filter((r) => r.relapsedWithin30Days).length;

  const segments = new Map<string, { lifecycle: string; level: string }>();
  for (const r of rows)
    segments.set(`${r.lifecycle}\u0000${r.level}`, { lifecycle: r.lifecycle, level: r.level });
  const smsStep = [...segments.values()]
    .sort((a, b) => a.lifecycle.localeCompare(b.lifecycle) || a.level.localeCompare(b.level))
    .map((segment): SmsStepRow => {
      const figures = smsStepUplift(draws, segment, policy, options.asOfDayNumber);
      const decision = decideSmsStep(policy, segment, figures);
      return { ...segment, skipSms: decision.skipSms, reason: decision.reason, ...figures };
    });

  const yesterday = options.asOfDayNumber - 1;
  const c = policy.cost;
  return {
    funnel,
    uplift: upliftSection,
    cost: {
      ...total,
      unitPricesFen: {
        sms: c.smsFen,
        push: c.pushFen,
        inApp: c.inAppFen,
        per1000Transitions: c.per1000TransitionsFen,
      },
      maturedRecalledCostFen: maturedCost,
      costPerIncrementalReturnFen: perIncremental,
      rewardRoi: roi,
    },
    costPerIncrementalReturnFen: perIncremental,
    rewardRoi: roi,
    relapse: {
      returned: watched.length,
      relapsed,
      relapseRate: watched.length === 0 ? null : relapsed / watched.length,
      byWinningStep: relapseBy(rows, 'winningStep'),
      byStrategy: relapseBy(rows, 'strategy'),
    },
    smsStep,
    yesterday: {
      dayNumber: yesterday,
      returned: rows.filter((r) => r.outcome === 'returned' && r.closedDayNumber === yesterday).length,
    },
  };
}

/** The segment's row of the last report's SMS-step figures, as Prepare reads them. */
export function smsDecisionFor(
  policy: Policy,
  segment: { lifecycle: string; level: string },
  smsStep: readonly SmsStepRow[] | undefined,
): SmsSkipDecision {
  const row = smsStep?.find((r) => r.lifecycle === segment.lifecycle && r.level === segment.level);
  if (!row) return decideSmsStep(policy, segment, null);
  const { lifecycle: _l, level: _v, skipSms: _s, reason: _r, ...figures } = row;
  return decideSmsStep(policy, segment, figures);
}

const yuan = (fen: number | null) =>
  fen === null
    ? 'n/a'
    : `¥${(fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The recalls section as plain text: the funnel, then the uplift, cost and relapse under it. */
export function formatRecallsSection(s: RecallsSection): string {
  const f = s.funnel;
  const u = s.uplift;
  const relapse =
    s.relapse.relapseRate === null
      ? 'not known yet (30 days after a return)'
      : `${percent(s.relapse.relapseRate)} of ${s.relapse.returned}`;
  return [
    'recall funnel',
    `  started                 ${f.started}`,
    `  returned after in-app   ${f.returned.inApp}`,
    `  returned after push     ${f.returned.push}`,
    `  returned after SMS      ${f.returned.sms}`,
    `  returned, no message    ${f.returned.withoutMessage}`,
    `  not returned            ${f.notReturned}`,
    `  skipped                 ${f.skipped}`,
    `  failed                  ${f.failed}`,
    `  holdout                 ${f.holdout}`,
    `  still in progress       ${f.stillRunning}`,
    `  ${formatUplift(u, u.minSamplePerArm)}`,
    `  (recalls and holdout draws whose ${u.windowDays}-day window has ended; back = a login or an investment, for both)`,
    `  cost ${yuan(s.cost.totalFen)} (SMS ${s.cost.messages.sms}, push ${s.cost.messages.push}, rewards paid ${yuan(s.cost.rewardsPaidFen)}); per incremental return ${yuan(s.costPerIncrementalReturnFen)}; reward ROI ${s.rewardRoi ?? 'n/a'}`,
    `  30-day relapse of returned users: ${relapse}`,
  ].join('\n');
}

/**
 * The digest's recall lines from the last stored report (its JSON, parsed): the digest goes out before
 * today's report is written, so these are as of the previous report day and say so. Nothing when
 * there is no report yet or it has no recalls section.
 */
export function digestRecallLines(report: unknown): string[] {
  if (typeof report !== 'object' || report === null) return [];
  const r = report as { asOfDay?: unknown; recalls?: Partial<RecallsSection> };
  const s = r.recalls;
  if (!s?.uplift || !s.yesterday || !s.funnel || typeof r.asOfDay !== 'string') return [];
  return [
    `recalls (report of ${r.asOfDay}): ${s.yesterday.returned} users came back the day before; ${s.funnel.stillRunning} recalls running`,
    `recall ${formatUplift(s.uplift, s.uplift.minSamplePerArm)}`,
    `cost per incremental return: ${yuan(s.costPerIncrementalReturnFen ?? null)}`,
  ];
}
