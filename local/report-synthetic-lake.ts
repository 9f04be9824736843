import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LocalLakeWriter } from '../functions/adapters/lake.ts';
import type { RecallChannel, StrategyKind } from '../functions/domain/assessment.ts';
import type { OutcomeTrigger, RecallOutcomeRow } from '../functions/domain/effectiveness.ts';
import { DEFAULT_POLICY } from '../functions/domain/policy.ts';
import { isHoldout, type RecallOutcome, recallIdFor } from '../functions/domain/recall.ts';
import { dayNumberOf, dayOfNumber } from '../functions/domain/report.ts';
import type { LifecycleStage, RiskLevel } from '../functions/domain/user.ts';
import { mulberry32 } from './seed.ts';

/**
 * A synthetic lake written straight in the lake contract's format, for the report's browser test
 * and its benchmark: no store, no scan, no assess() (that is the simulator's and backfill's job).
 * Users log in every week or two while engaged, drift away with a hazard that depends on channel
 * and stage, and sometimes come back; statuses and scores follow the default policy's shape
 * closely enough that every chart and the backtest have something to show.
 *
 * Recalls follow the scan's rules: every user not active, with no recall open and out of the
 * cool-down, gets one (a few are segment or manual recalls); scan and segment draws go to the
 * holdout by user and month (`isHoldout`). A recalled user gets the escalation in-app → push → SMS
 * (SMS first at high risk) with the default waits, and each message pulls them back with a small
 * daily chance that depends on the strategy and the stage: a pulled user logs in (sometimes
 * invests), which the snapshots show, so the report's return rule finds it for both arms alike.
 * Each draw's outcome row is written to `recalls` as the workflow leaves it: Prepare's row (no
 * outcome, nothing sent) while the recall runs, Close's row once it closed.
 */
export interface SyntheticLakeOptions {
  root: string;
  users: number;
  days: number;
  /** First scan day, YYYY-MM-DD. */
  start: string;
  seed?: number;
  /** Users per part file (one object per writer unit, as the scan writes per page). */
  usersPerPart?: number;
  /** Also write this many feedback answers, spread over the days. */
  feedback?: number;
  /** Write recall and holdout draws to `recalls` (default true). */
  recalls?: boolean;
  /** Share of scan and segment draws held out (default 0.1). */
  holdoutShare?: number;
}

const CHANNELS = ['distribution', 'invite', 'finance_supermarket', 'organic', 'ads'] as const;
const CHANNEL_WEIGHT = [0.25, 0.2, 0.15, 0.25, 0.15];
const CHANNEL_HAZARD = [0.02, 0.014, 0.008, 0.006, 0.01];
const CHANNEL_RISK = [0.8, 0.6, 0.3, 0.2, 0.5];
const REASONS = ['economic', 'frustrated', 'policy', 'natural', 'other'] as const;
const ISSUES = ['app_lag', 'low_yield', 'slow_support'] as const;

export async function writeSyntheticLake(
  options: SyntheticLakeOptions,
): Promise<{ rows: number; recalls: number }> {
  const n = options.users;
  const rand = mulberry32(options.seed ?? 7);
  const first = dayNumberOf(options.start);
  const perPart = options.usersPerPart ?? 25_000;

  const channel = new Uint8Array(n);
  const registered = new Int32Array(n);
  const lastLogin = new Int32Array(n);
  const lastInvest = new Int32Array(n).fill(-1);
  const investCount = new Int32Array(n);
  const maxInvest = new Float64Array(n);
  const total = new Float64Array(n);
  const balance = new Float64Array(n);
  const bonus = new Uint8Array(n);
  const engaged = new Uint8Array(n);
  const loginGap = new Uint8Array(n);
  /** Set when a recall won the user back for good: they drift away far less for a while. */
  const calm = new Uint8Array(n);

  const month: string[] = new Array(n);
  const userIds: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let r = rand();
    let c = 0;
    while (c < CHANNELS.length - 1 && r > CHANNEL_WEIGHT[c]!) r -= CHANNEL_WEIGHT[c++]!;
    channel[i] = c;
    // Most users predate the lake; a fifth register during it.
    registered[i] =
      rand() < 0.8 ? first - Math.floor(rand() * 365) : first + Math.floor(rand() * options.days);
    lastLogin[i] = registered[i]!;
    engaged[i] = rand() < 0.75 ? 1 : 0;
    loginGap[i] = 7 + Math.floor(rand() * 9);
    month[i] = dayOfNumber(registered[i]!).slice(0, 7);
    userIds[i] = `u${String(i).padStart(7, '0')}`;
  }

  const invest = (i: number, day: number, draw: () => number) => {
    const amount = Math.round(Math.exp(8 + draw() * 7)) * 100;
    investCount[i]! += 1;
    maxInvest[i] = Math.max(maxInvest[i]!, amount);
    total[i]! += amount;
    balance[i]! += amount;
    lastInvest[i] = day;
    if (amount >= 1_000_000 && draw() < 0.3) bonus[i] = 1;
  };
  const recalls =
    options.recalls === false
      ? undefined
      : new RecallSimulator(
          { userIds, channel, lastLogin, lastInvest, total, engaged, loginGap, calm, invest },
          mulberry32((options.seed ?? 7) ^ 0x5eca11),
          options.holdoutShare ?? 0.1,
        );

  let rows = 0;
  for (let d = 0; d < options.days; d++) {
    const day = first + d;
    const dayText = dayOfNumber(day);
    const dir = join(options.root, 'snapshots', `day=${dayText}`);
    mkdirSync(dir, { recursive: true });
    for (let from = 0; from < n; from += perPart) {
      const lines: string[] = [];
      for (let i = from; i < Math.min(n, from + perPart); i++) {
        if (registered[i]! > day) continue;
        const age = day - registered[i]!;
        const stageIndex = age >= 180 && investCount[i]! >= 5 ? 2 : age >= 30 && investCount[i]! >= 2 ? 1 : 0;
        recalls?.pull(i, day, stageIndex);
        // Behaviour of the day: drift away, come back, log in, invest, withdraw.
        const hazard =
          CHANNEL_HAZARD[channel[i]!]! *
          (stageIndex === 0 ? 2.2 : stageIndex === 1 ? 1 : 0.6) *
          (calm[i] ? 0.1 : 1);
        if (engaged[i] && rand() < hazard) engaged[i] = 0;
        else if (!engaged[i] && rand() < 0.004) engaged[i] = 1;
        if (engaged[i] && day - lastLogin[i]! >= loginGap[i]! && rand() < 0.6) {
          lastLogin[i] = day;
          if (rand() < 0.35) invest(i, day, rand);
        }
        if (!engaged[i] && balance[i]! > 0 && rand() < 0.05)
          balance[i] = Math.floor(balance[i]! * rand() * 0.2);

        const sinceLogin = day - lastLogin[i]!;
        const sinceInvest = lastInvest[i]! < 0 ? null : day - lastInvest[i]!;
        const investIdle = sinceInvest ?? age;
        const low = balance[i]! < 10_000;
        const few = investCount[i]! <= 2;
        const small = maxInvest[i]! < 1_000_000 && !bonus[i];
        const risk = CHANNEL_RISK[channel[i]!]!;
        const reasons: string[] = [];
        if (sinceLogin > 15) reasons.push('inactive_login');
        if (investIdle > 30) reasons.push('inactive_invest');
        if (low) reasons.push('low_balance');
        if (few) reasons.push('few_investments');
        if (small) reasons.push('small_investments');
        if (risk >= 0.6) reasons.push('high_churn_channel');
        const score = Math.round(
          Math.min(
            100,
            40 * Math.min(sinceLogin / 30, 1) +
              15 * Math.min(investIdle / 60, 1) +
              (low ? 15 : 0) +
              (few ? 10 : 0) +
              (small ? 10 : 0) +
              10 * risk,
          ),
        );
        const churned = sinceLogin >= 30 && investIdle >= 30;
        const high = sinceLogin > 15 && low;
        const warned = high || sinceLogin > 15 || investIdle > 45;
        const status = churned ? 'churned' : warned ? 'at_risk' : 'active';
        const level = status === 'active' ? 'none' : high ? 'high' : score >= 60 ? 'medium' : 'low';
        // A template, not JSON.stringify: the bench writes 18 million of these.
        const stage = stageIndex === 2 ? 'mature' : stageIndex === 1 ? 'growth' : 'novice';
        if (recalls && (status !== 'active' || recalls.isOpen(i)))
          recalls.afterDay(i, day, status === 'active' ? null : (level as RiskLevel), stageIndex, {
            churned,
            highValueLapsed: total[i]! >= 10_000_000 && sinceLogin > 15,
            small,
            few,
          });
        lines.push(
          `{"day":"${dayText}","dayNumber":${day},"userId":"${userIds[i]}","status":"${status}","level":"${level}","score":${score},"lifecycle":"${stage}","channel":"${CHANNELS[channel[i]!]}","reasonCodes":${reasons.length === 0 ? '[]' : `["${reasons.join('","')}"]`},"registeredMonth":"${month[i]}","investCount":${investCount[i]},"maxInvestFen":${maxInvest[i]},"totalInvestedFen":${total[i]},"balanceFen":${balance[i]},"heldBonusProduct":${bonus[i] === 1},"daysSinceLogin":${sinceLogin},"daysSinceInvest":${sinceInvest},"churnReason":null}`,
        );
      }
      if (lines.length === 0) continue;
      rows += lines.length;
      const part = `synthetic-${String(from / perPart).padStart(4, '0')}`;
      writeFileSync(join(dir, `${part}.jsonl.gz`), gzipSync(`${lines.join('\n')}\n`, { level: 1 }));
    }
  }

  const answers = options.feedback ?? 0;
  const byDay = new Map<string, string[]>();
  for (let k = 0; k < answers; k++) {
    const day = first + Math.floor(rand() * options.days);
    const dayText = dayOfNumber(day);
    const userId = `u${String(Math.floor(rand() * n)).padStart(7, '0')}`;
    const at = `${dayText}T0${Math.floor(rand() * 9)}:00:00.000Z`;
    const issues = ISSUES.filter(() => rand() < 0.35);
    const line = JSON.stringify({
      day: dayText,
      dayNumber: day,
      userId,
      feedbackId: `fb-${k}`,
      churnReason: REASONS[Math.floor(rand() * rand() * REASONS.length)],
      issues,
      at,
    });
    byDay.set(dayText, [...(byDay.get(dayText) ?? []), line]);
  }
  for (const [dayText, lines] of byDay) {
    const dir = join(options.root, 'feedback', `day=${dayText}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'synthetic.jsonl.gz'), gzipSync(`${lines.join('\n')}\n`));
  }

  const recallRows = recalls?.rows() ?? [];
  const lake = new LocalLakeWriter(options.root, { level: 1 });
  // One object per start day (the workflow writes one per recall; a part per day keeps this cheap).
  const recallsByDay = new Map<string, RecallOutcomeRow[]>();
  for (const r of recallRows) {
    const dayRows = recallsByDay.get(r.startedDay);
    if (dayRows) dayRows.push(r);
    else recallsByDay.set(r.startedDay, [r]);
  }
  for (const [day, dayRows] of recallsByDay) await lake.writePart('recalls', day, 'synthetic', dayRows);
  return { rows, recalls: recallRows.length };
}

// ---------------------------------------------------------------------------------------------
// Recalls
// ---------------------------------------------------------------------------------------------

/** The per-user state the recalls read and, when a message pulls a user back, change. */
interface UserState {
  userIds: string[];
  channel: Uint8Array;
  lastLogin: Int32Array;
  lastInvest: Int32Array;
  total: Float64Array;
  engaged: Uint8Array;
  loginGap: Uint8Array;
  calm: Uint8Array;
  invest: (i: number, day: number, draw: () => number) => void;
}

/** What the day's assessment said, for the plan's content. */
interface DayFacts {
  churned: boolean;
  highValueLapsed: boolean;
  small: boolean;
  few: boolean;
}

/** Days each step waits before the check (the default policy's waitHours, rounded up). */
const WAIT_DAYS: Record<RecallChannel, number> = {
  in_app: Math.ceil(DEFAULT_POLICY.recall.waitHours.afterInApp / 24),
  push: Math.ceil(DEFAULT_POLICY.recall.waitHours.afterPush / 24),
  sms: Math.ceil(DEFAULT_POLICY.recall.waitHours.afterSms / 24),
};
/** Daily chance that the latest message brings the user back, before the factors below. */
const STEP_PULL: Record<RecallChannel, number> = { in_app: 0.03, push: 0.035, sms: 0.04 };
const STRATEGY_PULL: Partial<Record<StrategyKind, number>> = {
  conditional_reward: 1.8,
  experience_coupon: 1.3,
  trust_building: 1,
  care: 0.6,
  reminder: 0.6,
};
const STAGE_PULL = [0.8, 1.1, 1.4];
const STAGES: LifecycleStage[] = ['novice', 'growth', 'mature'];
/** Contact (playbook mix in local/seed.ts): in-app consent, push consent with a token, SMS consent with a phone. */
const REACH: Record<RecallChannel, number> = { in_app: 0.97, push: 0.53, sms: 0.59 };

interface SyntheticRecall {
  user: number;
  recallId: string;
  trigger: OutcomeTrigger;
  startDay: number;
  holdout: boolean;
  level: RiskLevel;
  lifecycle: LifecycleStage;
  strategies: StrategyKind[];
  /** The plan's steps in order; `sent` are those that went out, with their day. */
  steps: RecallChannel[];
  sent: { channel: RecallChannel; day: number }[];
  checkDay: number;
  loginAtStart: number;
  investAtStart: number;
  totalAtStart: number;
  returnDay: number | null;
  closedDay: number | null;
  outcome: RecallOutcome | null;
  winningStep: RecallChannel | null;
  rewardFen: number;
  rewardUnlocked: boolean;
  reinvestedFen: number;
}

/**
 * The recall workflow in miniature, one scan day at a time: start (Prepare), send a step, check
 * after its wait, close. Its own random stream, so the snapshots' draws stay in their order.
 */
class RecallSimulator {
  private readonly open: Int32Array;
  private readonly eligibleFrom: Int32Array;
  private readonly reach: Uint8Array;
  private readonly all: SyntheticRecall[] = [];

  constructor(
    private readonly state: UserState,
    private readonly draw: () => number,
    private readonly holdoutShare: number,
  ) {
    const n = state.userIds.length;
    this.open = new Int32Array(n).fill(-1);
    this.eligibleFrom = new Int32Array(n).fill(-0x7fffffff);
    this.reach = new Uint8Array(n);
    for (let i = 0; i < n; i++)
      this.reach[i] =
        (draw() < REACH.in_app ? 1 : 0) | (draw() < REACH.push ? 2 : 0) | (draw() < REACH.sms ? 4 : 0);
  }

  isOpen(i: number): boolean {
    return this.open[i]! >= 0;
  }

  /** Before the day's own behaviour: the latest message may bring the user back today. */
  pull(i: number, day: number, stageIndex: number): void {
    const k = this.open[i]!;
    if (k < 0) return;
    const r = this.all[k]!;
    const last = r.sent.at(-1);
    if (!last || last.day >= day || r.returnDay !== null) return;
    const lead = r.strategies[0] ?? 'reminder';
    const p = STEP_PULL[last.channel] * (STRATEGY_PULL[lead] ?? 1) * STAGE_PULL[stageIndex]!;
    if (this.draw() >= p) return;
    this.state.lastLogin[i] = day;
    if (this.draw() < (lead === 'conditional_reward' ? 0.6 : 0.3)) this.state.invest(i, day, this.draw);
    this.returned(r, day);
  }

  /**
   * A recalled user is back (pulled by a message or on their own while the recall ran): some stay
   * (log in every few days and drift away far less), the others only looked once and relapse.
   */
  private returned(r: SyntheticRecall, day: number): void {
    r.returnDay = day;
    const last = r.sent.at(-1);
    if (r.holdout || !last) return;
    const s = this.state;
    const lead = r.strategies[0];
    const stays = 0.6 + (lead === 'conditional_reward' ? 0.15 : 0) - (last.channel === 'sms' ? 0.15 : 0);
    const forGood = this.draw() < stays;
    s.engaged[r.user] = forGood ? 1 : 0;
    s.calm[r.user] = forGood ? 1 : 0;
    if (forGood) s.loginGap[r.user] = 2 + Math.floor(this.draw() * 4);
  }

  /** After the day's snapshot: notice a return, run the check that is due, start a recall. */
  afterDay(i: number, day: number, level: RiskLevel | null, stageIndex: number, facts: DayFacts): void {
    const s = this.state;
    const k = this.open[i]!;
    if (k >= 0) {
      const r = this.all[k]!;
      if (
        r.returnDay === null &&
        day > r.startDay &&
        (s.lastLogin[i]! > r.loginAtStart || s.lastInvest[i]! > r.investAtStart)
      )
        this.returned(r, day);
      if (day === r.checkDay) this.check(r, day);
      return;
    }
    if (level === null || level === 'none' || day < this.eligibleFrom[i]!) return;
    this.start(i, day, level, stageIndex, facts);
  }

  private start(i: number, day: number, level: RiskLevel, stageIndex: number, facts: DayFacts): void {
    const s = this.state;
    const roll = this.draw();
    const trigger: OutcomeTrigger = roll < 0.02 ? 'manual' : roll < 0.1 ? 'segment' : 'scan';
    const startedAt = `${dayOfNumber(day)}T01:00:00.000Z`;
    const recallTrigger = trigger === 'scan' ? 'scheduled' : trigger;
    const holdout = trigger !== 'manual' && isHoldout(s.userIds[i]!, startedAt, this.holdoutShare);
    const strategies: StrategyKind[] = [];
    if (facts.churned && this.draw() < 0.15) strategies.push('care');
    else {
      if (facts.highValueLapsed) strategies.push('conditional_reward');
      if (facts.small) strategies.push('trust_building');
      if (facts.few) strategies.push('experience_coupon');
      if (strategies.length === 0) strategies.push('reminder');
    }
    const reach = this.reach[i]!;
    const reachable = (['in_app', 'push', 'sms'] as const).filter((_, b) => reach & (1 << b));
    // High risk goes by SMS alone when SMS can reach the user.
    const steps: RecallChannel[] = level === 'high' && reach & 4 ? ['sms'] : reachable;
    const r: SyntheticRecall = {
      user: i,
      recallId: recallIdFor(s.userIds[i]!, recallTrigger, startedAt),
      trigger,
      startDay: day,
      holdout,
      level,
      lifecycle: STAGES[stageIndex]!,
      strategies,
      steps,
      sent: [],
      checkDay: day,
      loginAtStart: s.lastLogin[i]!,
      investAtStart: s.lastInvest[i]!,
      totalAtStart: s.total[i]!,
      returnDay: null,
      closedDay: null,
      outcome: null,
      winningStep: null,
      rewardFen: 0,
      rewardUnlocked: false,
      reinvestedFen: 0,
    };
    this.open[i] = this.all.length;
    this.all.push(r);
    // Prepare routes a holdout draw (or a user no channel reaches) to skip, and Close follows at once.
    if (holdout || steps.length === 0) {
      this.close(r, day, 'skipped', null);
      return;
    }
    this.send(r, day);
    if (this.draw() < 0.004) this.close(r, day, 'failed', null);
  }

  private send(r: SyntheticRecall, day: number): void {
    const channel = r.steps[r.sent.length]!;
    r.sent.push({ channel, day });
    r.checkDay = day + WAIT_DAYS[channel];
  }

  /** The check after a step's wait: back → close as returned; else the next step, or close. */
  private check(r: SyntheticRecall, day: number): void {
    if (r.returnDay !== null) this.close(r, day, 'returned', r.sent.at(-1)?.channel ?? null);
    else if (r.sent.length < r.steps.length) this.send(r, day);
    else this.close(r, day, 'not_returned', null);
  }

  private close(
    r: SyntheticRecall,
    day: number,
    outcome: RecallOutcome,
    winningStep: RecallChannel | null,
  ): void {
    r.closedDay = day;
    r.outcome = outcome;
    r.winningStep = winningStep;
    r.reinvestedFen = Math.max(0, this.state.total[r.user]! - r.totalAtStart);
    if (r.strategies[0] === 'conditional_reward' && r.sent.length > 0) {
      const reward = DEFAULT_POLICY.reward;
      r.rewardFen = Math.min(Math.floor((r.totalAtStart * reward.rateBasisPoints) / 10_000), reward.capFen);
      r.rewardUnlocked = r.reinvestedFen >= reward.unlockInvestFen;
    }
    this.open[r.user] = -1;
    this.eligibleFrom[r.user] = day + DEFAULT_POLICY.recall.cooldownDays;
  }

  /** Each draw as the lake holds it: Close's row once closed, Prepare's (nothing sent yet) before. */
  rows(): RecallOutcomeRow[] {
    return this.all.map((r) => {
      const closed = r.closedDay !== null;
      const sent = closed ? r.sent : [];
      const sms = sent.find((m) => m.channel === 'sms');
      const count = (channel: RecallChannel) => sent.filter((m) => m.channel === channel).length;
      const startedDay = dayOfNumber(r.startDay);
      return {
        day: startedDay,
        recallId: r.recallId,
        userId: this.state.userIds[r.user]!,
        trigger: r.trigger,
        startedDay,
        startedDayNumber: r.startDay,
        closedDay: r.closedDay === null ? null : dayOfNumber(r.closedDay),
        closedDayNumber: r.closedDay,
        outcome: r.outcome,
        winningStep: r.winningStep,
        holdout: r.holdout,
        level: r.level,
        lifecycle: r.lifecycle,
        channel: CHANNELS[this.state.channel[r.user]!]!,
        strategies: r.strategies,
        strategy: r.strategies[0] ?? 'reminder',
        stepsSent: sent.map((m) => m.channel),
        smsCount: count('sms'),
        pushCount: count('push'),
        inAppCount: count('in_app'),
        smsDayNumber: sms?.day ?? null,
        smsSkipped: false,
        rewardFen: r.rewardFen,
        rewardUnlocked: r.rewardUnlocked,
        reinvestedFen: closed ? r.reinvestedFen : 0,
        relapsedWithin30Days: null,
      };
    });
  }
}
