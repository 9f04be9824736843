import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlParser from 'node-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindParams, DuckDbLakeRunner, loadQueries } from '../../functions/adapters/lake-query.ts';
import { parsePolicy } from '../../functions/domain/policy.ts';
import type { Report } from '../../functions/domain/report.ts';
import { REPORT_QUERIES, reportFromLake } from '../../functions/use-cases/report.ts';
import { feedbackRow, snapshot, writeLake } from './fixture-lake.ts';

const QUERY_DIR = join(import.meta.dirname, '..', '..', 'queries');
const queries = loadQueries(QUERY_DIR, REPORT_QUERIES);
const policy = parsePolicy({});

const tempRoots: string[] = [];
function lake(tables: Parameters<typeof writeLake>[1]): string {
  const root = mkdtempSync(join(tmpdir(), 'winback-lake-'));
  tempRoots.push(root);
  writeLake(root, tables);
  return root;
}
afterAll(() => {
  for (const root of tempRoots) rmSync(root, { recursive: true, force: true });
});

async function report(root: string, request: { from?: string; to?: string; horizonDays?: number } = {}) {
  const runner = new DuckDbLakeRunner(root);
  try {
    return await reportFromLake(runner, queries, { horizonDays: 30, policy, ...request });
  } finally {
    await runner.close();
  }
}

describe('every report query', () => {
  const files = readdirSync(QUERY_DIR).filter((f) => f.endsWith('.sql'));

  it('is a file the report runs, and every file is run', () => {
    expect(files.map((f) => f.replace(/\.sql$/, '')).sort()).toEqual([...REPORT_QUERIES].sort());
  });

  it.each(files)('%s parses as Trino SQL and reads only the lake tables', (file) => {
    const sql = readFileSync(join(QUERY_DIR, file), 'utf8');
    // Any whole number stands in for a parameter: parsing checks the shape, not the values.
    const bound = sql.replace(/(?<![:\w]):([a-z][a-z0-9_]*)/g, '1');
    const parser = new sqlParser.Parser();
    expect(() => parser.astify(bound, { database: 'trino' })).not.toThrow();
    const tables = parser
      .tableList(bound, { database: 'trino' })
      .map((t) => t.split('::').at(-1))
      .filter(
        (t) =>
          ![
            'history',
            'judged',
            'people',
            'null',
            'draws',
            'baseline',
            'later',
            'returns',
            'relapses',
          ].includes(String(t)),
      );
    expect(tables.length).toBeGreaterThan(0);
    for (const t of tables) expect(['snapshots', 'feedback', 'recalls']).toContain(t);
  });

  it('the parser check can fail: broken SQL is rejected', () => {
    expect(() => new sqlParser.Parser().astify('SELECT FROM WHERE', { database: 'trino' })).toThrow();
  });
});

describe('query parameters', () => {
  it('are written in as whole numbers, every occurrence', () => {
    expect(bindParams('SELECT :a + :a, :b_c', { a: 3, b_c: -2 })).toBe('SELECT 3 + 3, -2');
  });
  it('take a YYYY-MM-DD day as a quoted literal, and nothing else as text', () => {
    expect(bindParams('WHERE "day" = :d', { d: '2026-03-10' })).toBe(`WHERE "day" = '2026-03-10'`);
    expect(() => bindParams('SELECT :d', { d: "2026-03-10' OR 1=1 --" })).toThrow(
      ':d must be a YYYY-MM-DD day',
    );
  });
  it('refuse a missing or fractional value, by name', () => {
    expect(() => bindParams('SELECT :from_day', {})).toThrow(':from_day was not given');
    expect(() => bindParams('SELECT :x', { x: 1.5 })).toThrow(':x must be a whole number');
  });
});

/*
 * Structure fixture. Report day 2026-03-10 (6 users); 2026-03-09 only feeds the trend.
 *   user stage   channel      status   reg      investCount maxInvestFen bonus balanceFen
 *   u1   novice  distribution churned  2026-01  1           50,000       no    0
 *   u2   novice  distribution active   2026-01  3           2,000,000    no    500,000
 *   u3   novice  invite       churned  2026-02  0           0            no    5,000
 *   u4   growth  invite       at_risk  2025-12  4           500,000      yes   20,000
 *   u5   growth  organic      active   2025-12  5           1,200,000    no    300,000
 *   u6   mature  invite       churned  2025-06  10          3,000,000    yes   0
 */
describe('churn structure, cohorts, portrait, trend and feedback', () => {
  let r: Report;
  beforeAll(async () => {
    const d = '2026-03-10';
    const snapshots = [
      snapshot(d, 'u1', {
        lifecycle: 'novice',
        channel: 'distribution',
        status: 'churned',
        registeredMonth: '2026-01',
        investCount: 1,
        maxInvestFen: 50_000,
        balanceFen: 0,
      }),
      snapshot(d, 'u2', {
        lifecycle: 'novice',
        channel: 'distribution',
        status: 'active',
        registeredMonth: '2026-01',
        investCount: 3,
        maxInvestFen: 2_000_000,
        balanceFen: 500_000,
      }),
      snapshot(d, 'u3', {
        lifecycle: 'novice',
        channel: 'invite',
        status: 'churned',
        registeredMonth: '2026-02',
        investCount: 0,
        maxInvestFen: 0,
        balanceFen: 5_000,
        daysSinceInvest: null,
      }),
      snapshot(d, 'u4', {
        lifecycle: 'growth',
        channel: 'invite',
        status: 'at_risk',
        registeredMonth: '2025-12',
        investCount: 4,
        maxInvestFen: 500_000,
        heldBonusProduct: true,
        balanceFen: 20_000,
      }),
      snapshot(d, 'u5', {
        lifecycle: 'growth',
        channel: 'organic',
        status: 'active',
        registeredMonth: '2025-12',
        investCount: 5,
        maxInvestFen: 1_200_000,
        balanceFen: 300_000,
      }),
      snapshot(d, 'u6', {
        lifecycle: 'mature',
        channel: 'invite',
        status: 'churned',
        registeredMonth: '2025-06',
        investCount: 10,
        maxInvestFen: 3_000_000,
        heldBonusProduct: true,
        balanceFen: 0,
      }),
      // The day before: u1 at risk, u2 and u4 active, u3 already churned; u5 and u6 not yet in the lake.
      snapshot('2026-03-09', 'u1', { status: 'at_risk' }),
      snapshot('2026-03-09', 'u2'),
      snapshot('2026-03-09', 'u3', { status: 'churned' }),
      snapshot('2026-03-09', 'u4'),
    ];
    // Three answers, two from the same user: history is kept, every answer counts.
    const feedback = [
      feedbackRow('2026-02-01T08:00:00.000Z', 'u1', 'returns_too_low', ['app_slow', 'fees']),
      feedbackRow('2026-03-02T08:00:00.000Z', 'u1', 'returns_too_low', []),
      feedbackRow('2026-03-05T08:00:00.000Z', 'u3', 'found_other_platform', ['fees']),
    ];
    r = await report(lake({ snapshots, feedback }));
  });

  it('takes the whole lake as the window and its last day as the report day', () => {
    expect([r.from, r.to, r.asOfDay]).toEqual(['2026-03-09', '2026-03-10', '2026-03-10']);
  });

  it('counts users and churned users on the report day', () => {
    expect(r.churnStructure).toMatchObject({ users: 6, churned: 3, churnRate: 0.5 });
    expect(r.headline).toMatchObject({ users: 6, churned: 3, atRisk: 1 });
  });

  it('splits churn by lifecycle stage: novices are two thirds of the churned', () => {
    expect(r.churnStructure.byStage).toEqual(
      expect.arrayContaining([
        { stage: 'novice', users: 3, churned: 2, churnRate: 2 / 3, shareOfChurned: 2 / 3 },
        { stage: 'growth', users: 2, churned: 0, churnRate: 0, shareOfChurned: 0 },
        { stage: 'mature', users: 1, churned: 1, churnRate: 1, shareOfChurned: 1 / 3 },
      ]),
    );
    expect(r.churnStructure.byStage).toHaveLength(3);
  });

  it('splits churn by channel and by stage × channel', () => {
    expect(r.churnStructure.byChannel).toEqual(
      expect.arrayContaining([
        { channel: 'distribution', users: 2, churned: 1, churnRate: 0.5, shareOfChurned: 1 / 3 },
        { channel: 'invite', users: 3, churned: 2, churnRate: 2 / 3, shareOfChurned: 2 / 3 },
        { channel: 'organic', users: 1, churned: 0, churnRate: 0, shareOfChurned: 0 },
      ]),
    );
    const cells = r.churnStructure.byStageAndChannel.map((c) => [c.stage, c.channel, c.users, c.churned]);
    expect(cells).toEqual([
      ['growth', 'invite', 1, 0],
      ['growth', 'organic', 1, 0],
      ['mature', 'invite', 1, 1],
      ['novice', 'distribution', 2, 1],
      ['novice', 'invite', 1, 1],
    ]);
  });

  it('groups churn by registration month, oldest first', () => {
    expect(r.churnStructure.byCohortMonth.map((c) => [c.month, c.users, c.churned, c.churnRate])).toEqual([
      ['2025-06', 1, 1, 1],
      ['2025-12', 2, 0, 0],
      ['2026-01', 2, 1, 0.5],
      ['2026-02', 1, 1, 1],
    ]);
  });

  it('tracks users by status per day', () => {
    expect(r.churnStructure.trend).toEqual([
      { day: '2026-03-09', users: 4, active: 2, atRisk: 1, churned: 1 },
      { day: '2026-03-10', users: 6, active: 2, atRisk: 1, churned: 3 },
    ]);
  });

  it('portrays churned users against active ones (median of an odd and of an even group)', () => {
    expect(r.portrait.churned).toEqual({
      users: 3,
      atMostTwoInvestmentsShare: 2 / 3, // u1 (1), u3 (0)
      smallNoBonusShare: 2 / 3, // u1, u3 under ¥10,000 without a bonus product; u6 held one
      lowBalanceShare: 1, // all three under ¥100
      medianMaxInvestFen: 50_000, // of 0, 50,000, 3,000,000
      channelMix: [
        { channel: 'invite', users: 2, share: 2 / 3 },
        { channel: 'distribution', users: 1, share: 1 / 3 },
      ],
    });
    expect(r.portrait.active).toMatchObject({
      users: 2,
      atMostTwoInvestmentsShare: 0,
      smallNoBonusShare: 0,
      lowBalanceShare: 0,
      medianMaxInvestFen: 1_600_000, // mean of 1,200,000 and 2,000,000
    });
  });

  it('tallies every feedback answer ever recorded', () => {
    expect(r.feedback).toEqual({
      answers: 3,
      reasons: [
        { reason: 'returns_too_low', answers: 2 },
        { reason: 'found_other_platform', answers: 1 },
      ],
      issues: [
        { issue: 'fees', answers: 2 },
        { issue: 'app_slow', answers: 1 },
      ],
    });
  });

  it('reports too little history instead of failing (one day of lookahead, 30-day horizon)', () => {
    expect(r.backtest.daysEvaluated).toBe(0);
    expect(r.backtest.message).toMatch(/Too little history/);
    expect(r.backtest.overall.userDays).toBe(0);
    expect(r.headline.precision).toBeNull();
  });
});

/*
 * Backtest fixture: five days d0..d4 = 2026-04-01..05, horizon 2, so the judged days are d0, d1, d2
 * (d2 + 2 = d4 is the last day in the lake).
 *   user  d0              d1              d2              d3       d4
 *   A     at_risk med 70  at_risk high 80 churned         churned  churned
 *   B     active 10       active 10       active 10       active   active
 *   C     at_risk low 60  active 20       at_risk low 60  active   active
 *   D     active 30       active 30       active 30       churned  churned
 *   E     -               -               active 40       at_risk  churned   (registers on d2)
 * Population (status not churned on D): d0 A B C D; d1 A B C D; d2 B C D E  -> 12 user-days.
 * Positive (churned on D+1..D+2): d0 A (d2); d1 A (d2), D (d3); d2 D (d3), E (d4)  -> 5.
 * Flagged (at_risk on D): d0 A, C; d1 A; d2 C  -> 4.
 *   TP = d0 A, d1 A = 2;  FP = d0 C, d2 C = 2;  FN = d1 D, d2 D, d2 E = 3;
 *   TN = d0 B, d0 D, d1 B, d1 C, d2 B = 5.
 *   precision 2/4, recall 2/5, lift 0.5 / (5/12) = 1.2, accuracy (2+5)/12.
 */
describe('warning backtest', () => {
  const days = ['2026-04-01', '2026-04-02', '2026-04-03', '2026-04-04', '2026-04-05'];
  let root: string;
  beforeAll(() => {
    const [d0, d1, d2, d3, d4] = days as [string, string, string, string, string];
    const snapshots = [
      snapshot(d0, 'A', {
        status: 'at_risk',
        level: 'medium',
        score: 70,
        daysSinceLogin: 20,
        reasonCodes: ['inactive_login', 'few_investments'],
      }),
      snapshot(d1, 'A', {
        status: 'at_risk',
        level: 'high',
        score: 80,
        daysSinceLogin: 21,
        reasonCodes: ['inactive_login'],
      }),
      // Churned rows are out of the population, reasons and all.
      snapshot(d2, 'A', {
        status: 'churned',
        level: 'high',
        score: 90,
        daysSinceLogin: 30,
        reasonCodes: ['inactive_login'],
      }),
      snapshot(d3, 'A', { status: 'churned', score: 90, daysSinceLogin: 31 }),
      snapshot(d4, 'A', { status: 'churned', score: 90, daysSinceLogin: 32 }),
      ...days.map((d) => snapshot(d, 'B', { score: 10, daysSinceLogin: 3 })),
      snapshot(d0, 'C', {
        status: 'at_risk',
        level: 'low',
        score: 60,
        daysSinceLogin: 10,
        reasonCodes: ['inactive_login'],
      }),
      snapshot(d1, 'C', { score: 20, daysSinceLogin: 0 }),
      snapshot(d2, 'C', {
        status: 'at_risk',
        level: 'low',
        score: 60,
        daysSinceLogin: 8,
        reasonCodes: ['inactive_invest'],
      }),
      snapshot(d3, 'C', { score: 20, daysSinceLogin: 0 }),
      snapshot(d4, 'C', { score: 20, daysSinceLogin: 1 }),
      snapshot(d0, 'D', { score: 30, daysSinceLogin: 25, reasonCodes: ['few_investments'] }),
      snapshot(d1, 'D', { score: 30, daysSinceLogin: 26, reasonCodes: ['few_investments'] }),
      snapshot(d2, 'D', { score: 30, daysSinceLogin: 27, reasonCodes: ['few_investments'] }),
      snapshot(d3, 'D', { status: 'churned', score: 50, daysSinceLogin: 30 }),
      snapshot(d4, 'D', { status: 'churned', score: 50, daysSinceLogin: 31 }),
      snapshot(d2, 'E', { score: 40, daysSinceLogin: 2, reasonCodes: ['few_investments'] }),
      snapshot(d3, 'E', { status: 'at_risk', score: 60, daysSinceLogin: 16 }),
      snapshot(d4, 'E', { status: 'churned', score: 70, daysSinceLogin: 30 }),
    ];
    root = lake({ snapshots });
  });

  it('counts TP, FP, FN and TN over the judged days', async () => {
    const { backtest } = await report(root, { horizonDays: 2 });
    expect(backtest.horizonDays).toBe(2);
    expect(backtest.daysEvaluated).toBe(3);
    expect([backtest.firstJudgedDay, backtest.lastJudgedDay]).toEqual(['2026-04-01', '2026-04-03']);
    expect(backtest.message).toBeUndefined();
    expect(backtest.overall).toEqual({
      userDays: 12,
      positives: 5,
      flagged: 4,
      truePositives: 2,
      falsePositives: 2,
      falseNegatives: 3,
      trueNegatives: 5,
      precision: 0.5,
      recall: 0.4,
      lift: expect.closeTo(1.2, 12),
      accuracy: 7 / 12,
    });
  });

  it('splits the warning by level', async () => {
    const { backtest } = await report(root, { horizonDays: 2 });
    expect(backtest.byLevel).toEqual([
      { level: 'high', flagged: 1, truePositives: 1, precision: 1 }, // A d1
      { level: 'medium', flagged: 1, truePositives: 1, precision: 1 }, // A d0
      { level: 'low', flagged: 2, truePositives: 0, precision: 0 }, // C d0, C d2
    ]);
  });

  it('judges each reason as a rule on its own', async () => {
    const { backtest } = await report(root, { horizonDays: 2 });
    expect(backtest.byReason).toEqual([
      // D d0 (negative), A d0, D d1, D d2, E d2 (positive)
      { reason: 'few_investments', flagged: 5, truePositives: 4, precision: 0.8, recall: 0.8 },
      { reason: 'inactive_invest', flagged: 1, truePositives: 0, precision: 0, recall: 0 }, // C d2
      // A d0, A d1 (positive), C d0 (negative); A's churned d2 row does not count
      { reason: 'inactive_login', flagged: 3, truePositives: 2, precision: 2 / 3, recall: 0.4 },
    ]);
  });

  it('draws the score curve from 0 to 100 in steps of 5', async () => {
    const { backtest } = await report(root, { horizonDays: 2 });
    expect(backtest.curve.map((c) => c.scoreAtLeast)).toEqual(Array.from({ length: 21 }, (_, i) => i * 5));
    const at = (t: number) => backtest.curve.find((c) => c.scoreAtLeast === t);
    expect(at(0)).toEqual({ scoreAtLeast: 0, flaggedShare: 1, precision: 5 / 12, recall: 1 });
    // D's three days (score 30) join at 30: 8 flagged, all 5 positives among them.
    expect(at(30)).toEqual({ scoreAtLeast: 30, flaggedShare: 8 / 12, precision: 5 / 8, recall: 1 });
    // E d2 (40): 5 flagged, TP A d0, A d1, E d2.
    expect(at(35)).toEqual({ scoreAtLeast: 35, flaggedShare: 5 / 12, precision: 0.6, recall: 0.6 });
    expect(at(50)).toEqual({ scoreAtLeast: 50, flaggedShare: 4 / 12, precision: 0.5, recall: 0.4 });
    expect(at(75)).toEqual({ scoreAtLeast: 75, flaggedShare: 1 / 12, precision: 1, recall: 0.2 });
    expect(at(85)).toEqual({ scoreAtLeast: 85, flaggedShare: 0, precision: null, recall: 0 });
  });

  it('shows what each login-inactivity threshold (daysSinceLogin > T) would have done', async () => {
    const { backtest } = await report(root, { horizonDays: 2 });
    expect(backtest.loginThresholds.map((t) => t.days)).toEqual(Array.from({ length: 24 }, (_, i) => i + 7));
    const at = (t: number) => backtest.loginThresholds.find((x) => x.days === t);
    // > 7: A20, A21, C10, C8, D25, D26, D27 -> 7 flagged, positives A20, A21, D26, D27.
    expect(at(7)).toEqual({ days: 7, precision: 4 / 7, recall: 0.8, flaggedShare: 7 / 12 });
    // > 9: C8 drops out.
    expect(at(9)).toEqual({ days: 9, precision: 4 / 6, recall: 0.8, flaggedShare: 6 / 12 });
    // > 20: A21, D25 (negative), D26, D27.
    expect(at(20)).toEqual({ days: 20, precision: 0.75, recall: 0.6, flaggedShare: 4 / 12 });
    expect(at(26)).toEqual({ days: 26, precision: 1, recall: 0.2, flaggedShare: 1 / 12 });
    expect(at(30)).toEqual({ days: 30, precision: null, recall: 0, flaggedShare: 0 });
  });

  it('judges only days inside the window, looking past its end for the outcome', async () => {
    // --to d1: judged d0, d1. Population 8; positives d0 A, d1 A, d1 D (D churns on d3, after --to).
    const { backtest } = await report(root, { horizonDays: 2, to: '2026-04-02' });
    expect(backtest.daysEvaluated).toBe(2);
    expect(backtest.overall).toMatchObject({ userDays: 8, positives: 3, flagged: 3, truePositives: 2 });
    expect(backtest.overall.recall).toBe(2 / 3);
  });

  it('says so, without failing, when no day has its horizon in the history', async () => {
    const { backtest, notes } = await report(root, { horizonDays: 5 });
    expect(backtest.daysEvaluated).toBe(0);
    expect(backtest.overall.flagged).toBe(0);
    expect(notes.join(' ')).toMatch(/Too little history.*5 days/);
  });
});

describe('an empty lake', () => {
  it('gives empty tables and a report of zeros, not an error', async () => {
    const root = mkdtempSync(join(tmpdir(), 'winback-empty-lake-'));
    tempRoots.push(root);
    const r = await report(root, { from: '2026-01-01', to: '2026-01-31' });
    expect(r.asOfDay).toBeNull();
    expect(r.churnStructure.users).toBe(0);
    expect(r.backtest.daysEvaluated).toBe(0);
    expect(r.feedback.answers).toBe(0);
  });
});

describe('the materialized lake (what winback report uses)', () => {
  it('gives the same report as the views over the files', async () => {
    const root = lake({
      snapshots: ['2026-06-01', '2026-06-02', '2026-06-03'].flatMap((d, i) => [
        snapshot(d, 'x', { status: i < 2 ? 'at_risk' : 'churned', score: 55, daysSinceLogin: 10 + i }),
        snapshot(d, 'y', { channel: 'invite', reasonCodes: ['few_investments'] }),
      ]),
      feedback: [feedbackRow('2026-06-02T03:00:00.000Z', 'x', 'economic', ['low_yield'])],
    });
    const views = await report(root, { horizonDays: 1 });
    const runner = new DuckDbLakeRunner(root, { materialize: true });
    try {
      const tables = await reportFromLake(runner, queries, { horizonDays: 1, policy });
      expect(tables).toEqual(views);
      expect(tables.backtest.overall).toMatchObject({ userDays: 4, truePositives: 1, flagged: 2 });
    } finally {
      await runner.close();
    }
  });
});
