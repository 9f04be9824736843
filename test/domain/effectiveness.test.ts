import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../functions/adapters/message-ledger.ts';
import type { RecallRecord } from '../../functions/adapters/recall-repository.ts';
import type { RewardRecord } from '../../functions/adapters/rewards.ts';
import {
  costPerIncrementalReturnFen,
  dayNumberOf,
  decideSmsStep,
  drawOf,
  escalationWindowDays,
  formatRecallsSection,
  formatUplift,
  NOT_ENOUGH_DATA,
  newcombeInterval,
  outcomeRow,
  type RecallDrawRow,
  type RecallOutcomeRow,
  recallCost,
  recallsSection,
  relapseBy,
  relapsedWithin,
  rewardRoi,
  type SmsStepDraw,
  smsStepUplift,
  type UpliftDraw,
  type UpliftOptions,
  uplift,
  upliftBy,
  upliftFromCounts,
  upliftOptions,
  wilsonInterval,
} from '../../functions/domain/effectiveness.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../functions/domain/policy.ts';

const four = (i: { low: number; high: number }) => [Number(i.low.toFixed(4)), Number(i.high.toFixed(4))];

describe('intervals checked against published worked examples', () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat Med 17:857–872,
  // Table I, method 3 (Wilson score without continuity correction).
  it.each([
    [81, 263, [0.2553, 0.3662]],
    [15, 148, [0.0624, 0.1605]],
    [0, 20, [0, 0.1611]],
  ])('Wilson %i/%i', (x, n, expected) => {
    expect(four(wilsonInterval(x, n))).toEqual(expected);
  });

  // Newcombe (1998), "Interval estimation for the difference between independent proportions: comparison
  // of eleven methods", Stat Med 17:873–890, Table II, method 10 (hybrid score, no continuity correction).
  it.each([
    [56, 70, 48, 80, [0.0524, 0.3339]],
    [9, 10, 3, 10, [0.1705, 0.809]],
    [5, 56, 0, 29, [-0.0381, 0.1926]],
    [0, 10, 0, 20, [-0.1611, 0.2775]],
    [0, 10, 0, 10, [-0.2775, 0.2775]],
    [10, 10, 0, 20, [0.6791, 1]],
    [10, 10, 0, 10, [0.6075, 1]],
  ])('Newcombe hybrid score %i/%i − %i/%i', (x1, n1, x2, n2, expected) => {
    expect(four(newcombeInterval(x1, n1, x2, n2))).toEqual(expected);
  });
});

describe('outcome row', () => {
  // The shapes the adapters store today, so the builder is proven to take them as they are.
  const recall: RecallRecord = {
    recallId: 'r-20261124-u1',
    userId: 'u1',
    trigger: 'scheduled',
    level: 'medium',
    // 01:30 on 2026-11-24 in Shanghai, still the 23rd in UTC: the row's day is the scan zone's.
    startedAt: '2026-11-23T17:30:00.000Z',
    reasonCodes: ['inactive_login'],
    holdout: false,
    plan: {
      route: 'escalate',
      channels: ['in_app', 'push', 'sms'],
      strategies: [
        { kind: 'conditional_reward', amountFen: 5_000, unlockInvestFen: 1_000_000 },
        { kind: 'reminder' },
      ],
    },
    steps: [],
    closedAt: '2026-11-29T03:00:00.000Z',
    outcome: 'returned',
    winningStep: 'push',
    returnedAt: '2026-11-28T03:00:00.000Z',
    returnedBy: 'investment',
  };
  const message = (
    channel: MessageRecord['channel'],
    status: MessageRecord['status'],
    sentAt?: string,
  ): MessageRecord => ({
    recallId: recall.recallId,
    step: channel,
    userId: 'u1',
    channel,
    status,
    attempts: 1,
    claimedAt: sentAt ?? '2026-11-26T02:00:00.000Z',
    ...(sentAt ? { sentAt } : {}),
  });
  const reward: RewardRecord = {
    rewardId: 'rw-r-20261124-u1',
    recallId: recall.recallId,
    userId: 'u1',
    amountFen: 5_000,
    unlockInvestFen: 1_000_000,
    issuedAt: recall.startedAt,
    expiresAt: '2026-12-23T17:30:00.000Z',
    status: 'unlocked',
  };

  it('carries the issue’s fields from the recall, its ledger and its reward', () => {
    const row = outcomeRow({
      recall,
      // Out of order, one failed: the row lists what was sent, in the order sent.
      messages: [
        message('push', 'sent', '2026-11-26T02:00:00.000Z'),
        message('sms', 'failed'),
        message('in_app', 'sent', '2026-11-24T01:00:00.000Z'),
      ],
      reward,
      user: { lifecycle: 'growth', channel: 'invite' },
      reinvestedFen: 1_200_000,
      timeZone: 'Asia/Shanghai',
    });
    expect(row).toEqual({
      day: '2026-11-24',
      recallId: 'r-20261124-u1',
      userId: 'u1',
      trigger: 'scan',
      startedDay: '2026-11-24',
      startedDayNumber: 20_781,
      closedDay: '2026-11-29',
      closedDayNumber: 20_786,
      outcome: 'returned',
      winningStep: 'push',
      holdout: false,
      level: 'medium',
      lifecycle: 'growth',
      channel: 'invite',
      strategies: ['conditional_reward', 'reminder'],
      strategy: 'conditional_reward',
      stepsSent: ['in_app', 'push'],
      smsCount: 0,
      pushCount: 1,
      inAppCount: 1,
      smsDayNumber: null,
      smsSkipped: false,
      rewardFen: 5_000,
      rewardUnlocked: true,
      reinvestedFen: 1_200_000,
      relapsedWithin30Days: null,
    } satisfies RecallOutcomeRow);
  });

  it('notes the day the SMS went out, in the scan zone', () => {
    const row = outcomeRow({
      recall,
      // 00:30 on 1 December in Shanghai, still 30 November in UTC.
      messages: [message('sms', 'sent', '2026-11-30T16:30:00.000Z')],
      user: { lifecycle: 'growth', channel: 'invite' },
      timeZone: 'Asia/Shanghai',
    });
    expect([row.smsCount, row.smsDayNumber, row.stepsSent]).toEqual([1, dayNumberOf('2026-12-01'), ['sms']]);
  });

  it('a holdout draw: nothing sent, no reward, outcome skipped', () => {
    const row = outcomeRow({
      recall: { ...recall, trigger: 'segment', holdout: true, outcome: 'skipped', winningStep: undefined },
      messages: [],
      user: { lifecycle: 'novice', channel: 'ads' },
      timeZone: 'Asia/Shanghai',
    });
    expect(row).toMatchObject({
      trigger: 'segment',
      holdout: true,
      outcome: 'skipped',
      winningStep: null,
      stepsSent: [],
      smsCount: 0,
      smsDayNumber: null,
      rewardFen: 0,
      rewardUnlocked: false,
      reinvestedFen: 0,
    });
  });
});

describe('uplift over the same matured window', () => {
  const DAY = 20_000;
  const options: UpliftOptions = { asOfDayNumber: DAY + 20, windowDays: 13, minSamplePerArm: 4 };
  const draw = (holdout: boolean, started: number, returned: number | null, more: Partial<UpliftDraw> = {}) =>
    ({
      holdout,
      trigger: 'scan',
      startedDayNumber: DAY + started,
      returnDayNumber: returned === null ? null : DAY + returned,
      strategy: 'care',
      lifecycle: 'novice',
      level: 'medium',
      channel: 'ads',
      ...more,
    }) satisfies UpliftDraw;
  const draws: UpliftDraw[] = [
    // Recalled, matured (started day 0, window to day 13, as of day 20): back on days 3 and 13; day 14 is late.
    draw(false, 0, 3),
    draw(false, 0, 13),
    draw(false, 0, 14),
    draw(false, 0, null),
    draw(false, 0, null),
    // Recalled, window not over (day 10 + 13 > 20): left out though the user is already back.
    draw(false, 10, 11),
    // Holdout, matured: back on the day of the draw, never, never, after the window.
    draw(true, 0, 0),
    draw(true, 0, null),
    draw(true, 0, null),
    draw(true, 0, 30),
    // Holdout, window not over: left out too, so an unfinished window cannot lower the holdout rate.
    draw(true, 15, null),
    // A manual recall has no holdout to compare with: not in the total.
    draw(false, 0, 2, { trigger: 'manual' }),
  ];

  it('counts only matured draws of comparable triggers, with the same return rule for both arms', () => {
    const figures = uplift(draws, options);
    // By hand: recalled 2 of 5 = 40%, holdout 1 of 4 = 25%, uplift 15.0 points.
    expect(figures).toMatchObject({
      recalledN: 5,
      holdoutN: 4,
      recalledReturned: 2,
      holdoutReturned: 1,
      recalledReturnRate: 0.4,
      holdoutReturnRate: 0.25,
      upliftPoints: 15,
      note: null,
    });
    const ci = newcombeInterval(2, 5, 1, 4);
    expect(figures.ci95).toEqual({
      low: Math.round(ci.low * 1000) / 10,
      high: Math.round(ci.high * 1000) / 10,
    });
    expect(figures.ci95!.low).toBeLessThan(0);
    expect(figures.ci95!.high).toBeGreaterThan(15);
  });

  it('says "not enough data yet" instead of a number under the minimum sample per arm', () => {
    const figures = uplift(draws, { ...options, minSamplePerArm: 5 });
    expect(figures).toMatchObject({
      recalledN: 5,
      holdoutN: 4,
      upliftPoints: null,
      ci95: null,
      note: NOT_ENOUGH_DATA,
    });
    expect(NOT_ENOUGH_DATA).toBe('not enough data yet');
  });

  it('breaks down by a dimension, and lists manual recalls without a comparison', () => {
    const mixed = [
      ...draws,
      draw(false, 0, 1, { strategy: 'reminder' }),
      draw(true, 0, null, { strategy: 'reminder' }),
    ];
    const byStrategy = upliftBy(mixed, 'strategy', { ...options, minSamplePerArm: 1 });
    expect(
      byStrategy.map((r) => [r.key, r.recalledN, r.recalledReturned, r.holdoutN, r.holdoutReturned]),
    ).toEqual([
      ['care', 5, 2, 4, 1],
      ['reminder', 1, 1, 1, 0],
    ]);
    const byTrigger = upliftBy(draws, 'trigger', options);
    expect(byTrigger.map((r) => [r.key, r.recalledN, r.holdoutN, r.note])).toEqual([
      ['manual', 1, 0, NOT_ENOUGH_DATA],
      ['scan', 5, 4, null],
    ]);
  });

  it('takes its window and minimum from the policy: a full escalation plus a day, 100 per arm', () => {
    expect(escalationWindowDays(DEFAULT_POLICY)).toBe(13);
    expect(upliftOptions(DEFAULT_POLICY, '2026-11-24')).toEqual({
      asOfDayNumber: dayNumberOf('2026-11-24'),
      windowDays: 13,
      minSamplePerArm: 100,
    });
    expect(dayNumberOf('1970-01-02')).toBe(1);
  });

  it('builds a draw from an outcome row and the return day the snapshots show', () => {
    const row = {
      holdout: true,
      trigger: 'scan',
      startedDay: '2026-11-24',
      startedDayNumber: dayNumberOf('2026-11-24'),
      strategies: [],
      lifecycle: 'mature',
      level: 'high',
      channel: 'organic',
    } as unknown as RecallOutcomeRow;
    expect(drawOf(row, null)).toEqual({
      holdout: true,
      trigger: 'scan',
      startedDayNumber: dayNumberOf('2026-11-24'),
      returnDayNumber: null,
      strategy: 'reminder',
      lifecycle: 'mature',
      level: 'high',
      channel: 'organic',
    });
  });
});

describe('cost, cost per incremental return and reward ROI', () => {
  const policy = parsePolicy({ cost: { smsFen: 4, pushFen: 1, inAppFen: 1, per1000TransitionsFen: 1_000 } });
  const rows = [
    {
      smsCount: 1,
      pushCount: 1,
      inAppCount: 1,
      rewardFen: 5_000,
      rewardUnlocked: true,
      reinvestedFen: 1_000_000,
    },
    {
      smsCount: 0,
      pushCount: 0,
      inAppCount: 1,
      rewardFen: 3_000,
      rewardUnlocked: false,
      reinvestedFen: 0,
    },
    {
      smsCount: 0,
      pushCount: 0,
      inAppCount: 0,
      rewardFen: 0,
      rewardUnlocked: false,
      reinvestedFen: 50_000,
      transitions: 9,
    },
  ] satisfies Parameters<typeof recallCost>[0] extends Iterable<infer R>
    ? (R & { reinvestedFen: number })[]
    : never;

  it('prices messages, transitions and paid rewards', () => {
    // Messages: 1 SMS × 4 + 1 push × 1 + 2 in-app × 1 = 7 fen. Transitions: (4 + 4·3) + (4 + 4·1) + 9 counted = 33,
    // at 1,000 fen per 1,000 = 33 fen. Rewards paid: only the unlocked 5,000. Total 5,040.
    expect(recallCost(rows, policy)).toEqual({
      recalls: 3,
      messages: { sms: 1, push: 1, inApp: 2 },
      messagesFen: 7,
      transitions: 33,
      transitionsFen: 33,
      rewardsPaidFen: 5_000,
      totalFen: 5_040,
    });
  });

  it('divides the cost by the returns the recall added over the holdout', () => {
    const figures = upliftFromCounts({ n: 100, returned: 40 }, { n: 100, returned: 25 }, 100);
    // 0.15 × 100 = 15 incremental returns; 5,040 / 15 = 336 fen each.
    expect(costPerIncrementalReturnFen(5_040, figures)).toBe(336);
    expect(
      costPerIncrementalReturnFen(
        5_040,
        upliftFromCounts({ n: 100, returned: 20 }, { n: 100, returned: 25 }, 100),
      ),
    ).toBeNull();
    expect(
      costPerIncrementalReturnFen(
        5_040,
        upliftFromCounts({ n: 50, returned: 40 }, { n: 50, returned: 5 }, 100),
      ),
    ).toBeNull();
  });

  it('reward ROI: investment by users offered a reward per fen paid', () => {
    // 1,000,000 + 0 reinvested by the two offered a reward; 5,000 paid → 200.
    expect(rewardRoi(rows)).toBe(200);
    expect(rewardRoi([{ rewardFen: 3_000, rewardUnlocked: false, reinvestedFen: 10 }])).toBeNull();
  });
});

describe('relapse', () => {
  const row = (winningStep: RecallOutcomeRow['winningStep'], strategy: string, relapsed: boolean | null) =>
    ({ outcome: 'returned', winningStep, strategy, relapsedWithin30Days: relapsed }) as Pick<
      RecallOutcomeRow,
      'outcome' | 'winningStep' | 'strategy' | 'relapsedWithin30Days'
    >;
  const rows = [
    row('in_app', 'care', true),
    row('in_app', 'care', false),
    row('in_app', 'reminder', false),
    row('sms', 'reminder', true),
    row('sms', 'reminder', null),
    { ...row('push', 'care', true), outcome: 'not_returned' as const },
  ];

  it('rates returned users whose watch has ended, by winning step and by strategy', () => {
    expect(relapseBy(rows, 'winningStep')).toEqual([
      { key: 'in_app', returned: 3, relapsed: 1, relapseRate: 1 / 3 },
      { key: 'sms', returned: 1, relapsed: 1, relapseRate: 1 },
    ]);
    expect(relapseBy(rows, 'strategy')).toEqual([
      { key: 'care', returned: 2, relapsed: 1, relapseRate: 0.5 },
      { key: 'reminder', returned: 2, relapsed: 1, relapseRate: 0.5 },
    ]);
  });

  it('knows a relapse once it happens, and its absence only once 30 days have passed', () => {
    const back = '2026-11-01T00:00:00.000Z';
    expect(relapsedWithin(back, '2026-11-20T01:00:00.000Z', '2026-11-21T00:00:00.000Z')).toBe(true);
    expect(relapsedWithin(back, null, '2026-11-21T00:00:00.000Z')).toBeNull();
    expect(relapsedWithin(back, null, '2026-12-01T00:00:00.000Z')).toBe(false);
    expect(relapsedWithin(back, '2026-12-05T00:00:00.000Z', '2026-12-06T00:00:00.000Z')).toBe(false);
  });
});

describe('skipping SMS where it measurably does not work', () => {
  const segment = { lifecycle: 'novice', level: 'medium' };
  const on = (min = 0) => parsePolicy({ recall: { skipSmsWithoutUplift: true, minSmsUpliftPoints: min } });
  // 10 of 200 back after the SMS against 40 of 200 in the holdout: −15 points, interval −21.5 to −8.7 points.
  const worse = upliftFromCounts({ n: 200, returned: 10 }, { n: 200, returned: 40 }, 100);
  const unclear = upliftFromCounts({ n: 200, returned: 36 }, { n: 200, returned: 40 }, 100);

  it('is off by default: the SMS is kept whatever the figures', () => {
    expect(DEFAULT_POLICY.recall.skipSmsWithoutUplift).toBe(false);
    expect(decideSmsStep(DEFAULT_POLICY, segment, worse)).toMatchObject({
      skipSms: false,
      reason: 'switch_off',
    });
  });

  it('skips only when the whole interval lies below the minimum, and records the figures', () => {
    expect(worse.ci95).toEqual({ low: -21.5, high: -8.7 });
    const decision = decideSmsStep(on(), segment, worse);
    expect(decision).toEqual({
      skipSms: true,
      reason: 'uplift_interval_below_minimum',
      segment,
      minSmsUpliftPoints: 0,
      smsUplift: worse,
    });
    expect(unclear.ci95!.low).toBeLessThan(0);
    expect(unclear.ci95!.high).toBeGreaterThan(0);
    expect(decideSmsStep(on(), segment, unclear)).toMatchObject({
      skipSms: false,
      reason: 'uplift_not_shown_below_minimum',
    });
    // A minimum below the interval's top keeps the SMS even for a negative uplift.
    expect(decideSmsStep(on(-30), segment, worse)).toMatchObject({ skipSms: false });
  });

  it('keeps the SMS without enough sample', () => {
    const small = upliftFromCounts({ n: 50, returned: 0 }, { n: 50, returned: 40 }, 100);
    expect(decideSmsStep(on(), segment, small)).toMatchObject({ skipSms: false, reason: 'not_enough_data' });
    expect(decideSmsStep(on(), segment, null)).toMatchObject({ skipSms: false, reason: 'not_enough_data' });
  });

  it('measures the SMS step against holdout users still away on the day the SMS would have gone out', () => {
    const policy = parsePolicy({ uplift: { minSamplePerArm: 1 } });
    // Defaults: in-app 48 h + push 72 h → the SMS goes out on day 5 (day 0 for high risk); its window is 8 days.
    const D = 30_000;
    const d = (holdout: boolean, sms: number | null, back: number | null, level = 'medium'): SmsStepDraw => ({
      holdout,
      trigger: 'scan',
      startedDayNumber: D,
      returnDayNumber: back === null ? null : D + back,
      smsDayNumber: sms === null ? null : D + sms,
      strategy: 'care',
      lifecycle: 'novice',
      level,
      channel: 'ads',
    });
    const draws = [
      d(false, 5, 7), // SMS on day 5, back on day 7: counts as returned
      d(false, 5, null),
      d(false, null, 2), // back after the in-app message: never reached the SMS step
      d(true, null, 3), // holdout back before day 5: would not have got the SMS
      d(true, null, 9), // holdout still away on day 5, back on day 9 (within 5 + 8)
      d(true, null, 14), // back after the SMS window (day 13)
      d(true, null, null),
      d(false, 0, 1, 'high'), // another segment
    ];
    const figures = smsStepUplift(draws, segment, policy, D + 20);
    expect([figures.recalledN, figures.recalledReturned, figures.holdoutN, figures.holdoutReturned]).toEqual([
      2, 1, 3, 1,
    ]);
    // Not yet matured: day 5 + 8 = 13 > 12.
    expect(smsStepUplift(draws, segment, policy, D + 12).recalledN).toBe(0);
  });
});

describe('the digest headline', () => {
  it('gives the uplift with its interval, or says there is not enough data yet', () => {
    const figures = upliftFromCounts({ n: 200, returned: 10 }, { n: 200, returned: 40 }, 100);
    expect(formatUplift(figures, 100)).toBe(
      'uplift −15.0 points (95% CI −21.5 to −8.7; recalled 5.0% of 200, holdout 20.0% of 200)',
    );
    expect(formatUplift(upliftFromCounts({ n: 5, returned: 2 }, { n: 0, returned: 0 }, 100), 100)).toBe(
      'uplift: not enough data yet (recalled 40.0% of 5, holdout – of 0; 100 matured per arm needed)',
    );
  });
});

describe('formatRecallsSection', () => {
  const row = (holdout: boolean, back: boolean, i: number): RecallDrawRow => ({
    recallId: `r-${holdout}-${i}`,
    trigger: 'scan',
    holdout,
    startedDayNumber: 20_000,
    closedDayNumber: 20_005,
    outcome: holdout ? 'skipped' : back ? 'returned' : 'not_returned',
    winningStep: !holdout && back ? 'push' : null,
    level: 'low',
    lifecycle: 'growth',
    channel: 'organic',
    strategy: 'reminder',
    smsCount: holdout ? 0 : 1,
    pushCount: holdout ? 0 : 1,
    inAppCount: holdout ? 0 : 1,
    smsDayNumber: null,
    smsSkipped: false,
    rewardFen: 0,
    rewardUnlocked: false,
    reinvestedFen: 0,
    returnDayNumber: back ? 20_002 : null,
    relapsedWithin30Days: null,
  });
  // 6 of 10 recalled back against 2 of 10 in the holdout, all matured by day 20,030.
  const rows = [
    ...Array.from({ length: 10 }, (_, i) => row(false, i < 6, i)),
    ...Array.from({ length: 10 }, (_, i) => row(true, i < 2, i)),
  ];

  it('prints the funnel, then the uplift with its interval and the cost per incremental return', () => {
    const policy = parsePolicy({ uplift: { minSamplePerArm: 10 } });
    const text = formatRecallsSection(recallsSection(rows, policy, '2024-11-03'));
    const lines = text.split('\n');
    expect(lines[0]).toBe('recall funnel');
    expect(lines).toContain('  returned after push     6');
    expect(lines).toContain('  holdout                 10');
    expect(text).toMatch(
      / {2}uplift \+40\.0 points \(95% CI −2\.3 to \+67\.3; recalled 60\.0% of 10, holdout 20\.0% of 10\)/,
    );
    // Newcombe: Wilson 6/10 is 0.3127–0.8318, 2/10 is 0.0567–0.5098; 0.4 ∓ √(0.2873² + 0.3098²) and
    // 0.4 + √(0.2318² + 0.1433²) give −0.0225 and 0.6725: an interval across zero at this n.
    // 10 SMS at 5 fen, 4 + 4·3 = 16 transitions each (160 × 18 / 1000 = 2.88 → 3 fen): 53 fen over
    // (0.6 − 0.2) × 10 = 4 incremental returns = 13.25 → 13 fen.
    expect(text).toContain('per incremental return ¥0.13');
    expect(text).toContain('30-day relapse of returned users: not known yet');
  });

  it('says "not enough data yet" under the minimum sample', () => {
    const text = formatRecallsSection(recallsSection(rows, DEFAULT_POLICY, '2024-11-03'));
    expect(text).toContain(
      'uplift: not enough data yet (recalled 60.0% of 10, holdout 20.0% of 10; 100 matured per arm needed)',
    );
    expect(text).toContain('per incremental return n/a');
  });
});
