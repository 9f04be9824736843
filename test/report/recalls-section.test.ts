import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodeSqlParser from 'node-sql-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { bindParams, DuckDbLakeRunner, loadQueries } from '../../functions/adapters/lake-query.ts';
import type { RecallOutcomeRow } from '../../functions/domain/effectiveness.ts';
import { parsePolicy } from '../../functions/domain/policy.ts';
import { dayNumberOf, dayOfNumber, type Report } from '../../functions/domain/report.ts';
import { REPORT_QUERIES, reportFromLake } from '../../functions/use-cases/report.ts';
import { QUERY_DIR } from '../../local/commands/report.ts';
import { useTempDir } from '../support/temp-dir.ts';
import { type SnapshotRow, snapshot, writeLake } from './fixture-lake.ts';

// The report's `recalls` section over a hand-made lake, every figure counted by hand.
//
// Start day S = 2026-10-01; the lake's snapshots run from S-1 to S+40 (the report day). Everyone
// last logged in on S-20. With the default waits (48 h + 72 h + 168 h) a draw's window is
// ceil(288 / 24) + 1 = 13 days, so a draw started on S has matured by S+40, one started on S+30 not.
//
//   user  arm       trigger  logs in on            outcome (winning step)   messages          notes
//   u1    recalled  scan     S+2, then every 5 d   returned (in_app)        in-app            reward ¥1,000 unlocked, reinvested ¥3,000
//   u2    recalled  scan     S+3 only              returned (push)          in-app, push      quiet again from S+18: relapsed
//   u3    recalled  scan     never                 not_returned             in-app, push, SMS SMS on S+5
//   u8    recalled  scan     S+20 (past window)    skipped (no channel)     none              counts as not back (intention to treat)
//   u4    holdout   scan     S+4                   skipped                  none
//   u5    holdout   scan     never                 skipped                  none
//   u9    holdout   scan     never                 skipped                  none
//   u6    recalled  manual   S+1, then every 5 d   returned (sms)           SMS               manual: no holdout, out of the uplift
//   u7    recalled  scan     never                 still running            in-app            started S+35: not matured
//   u10   recalled  scan     S+38                  returned (in_app)        in-app            started S+30, closed S+39: yesterday's return
//
// Uplift (matured scan draws): recalled u1, u2 back of u1, u2, u3, u8 = 2/4 = 50%; holdout u4 back of
// u4, u5, u9 = 1/3 = 33.3%; uplift 16.7 points. Newcombe's interval (Wilson 2/4: 0.1500–0.8500,
// Wilson 1/3: 0.0615–0.7923): 0.1667 − √((0.5 − 0.1500)² + (0.7923 − 0.3333)²) = −0.4105 and
// 0.1667 + √((0.8500 − 0.5)² + (0.3333 − 0.0615)²) = 0.6098, i.e. −41.1 to +61.0 points.
//
// Cost at the default prices (SMS 5 fen, push and in-app 0, 18 fen per 1,000 transitions, estimated
// 4 + 4 per step sent): all ten draws: 2 SMS = 10 fen; 4+4·{1,2,3,0,0,0,0,1,1,1} = 8+12+16+4+4+4+4+8+8+8
// = 76 transitions = 1.368 → 1 fen; reward paid 100,000 fen; total 100,011 fen. The matured recalled
// draws (u1, u2, u3, u8): 1 SMS = 5 fen, 8+12+16+4 = 40 transitions = 0.72 → 1 fen, reward 100,000:
// 100,006 fen over (0.5 − 1/3) × 4 = 2/3 incremental returns = 150,009 fen per incremental return.
// Reward ROI: 300,000 reinvested ÷ 100,000 paid = 3.
// Relapse (returned, 30 days watched by S+40): u1 no, u2 yes, u6 no; u10 (back S+38) not yet known.

const S = '2026-10-01';
const S0 = dayNumberOf(S);
const LAST = 40;
const at = (offset: number) => dayOfNumber(S0 + offset);

const LOGINS: Record<string, number[]> = {
  u1: [2, 7, 12, 17, 22, 27, 32, 37],
  u2: [3],
  u3: [],
  u4: [4],
  u5: [],
  u6: [1, 6, 11, 16, 21, 26, 31, 36],
  u7: [],
  u8: [20],
  u9: [],
  u10: [38],
};

function snapshots(): SnapshotRow[] {
  const rows: SnapshotRow[] = [];
  for (const [userId, logins] of Object.entries(LOGINS)) {
    for (let d = -1; d <= LAST; d++) {
      const last = Math.max(-20, ...logins.filter((l) => l <= d));
      const daysSinceLogin = d - last;
      const status = daysSinceLogin >= 30 ? 'churned' : daysSinceLogin > 14 ? 'at_risk' : 'active';
      rows.push(snapshot(at(d), userId, { status, daysSinceLogin, daysSinceInvest: d + 20 }));
    }
  }
  return rows;
}

function draw(
  userId: string,
  startOffset: number,
  fields: Partial<RecallOutcomeRow> & { closeOffset?: number | null },
): RecallOutcomeRow {
  const { closeOffset = startOffset + 13, ...rest } = fields;
  const startedDay = at(startOffset);
  const closedDay = closeOffset === null ? null : at(closeOffset);
  return {
    day: startedDay,
    recallId: `r-${userId}`,
    userId,
    trigger: 'scan',
    startedDay,
    startedDayNumber: S0 + startOffset,
    closedDay,
    closedDayNumber: closedDay === null ? null : S0 + closeOffset!,
    outcome: 'skipped',
    winningStep: null,
    holdout: false,
    level: 'medium',
    lifecycle: 'growth',
    channel: 'organic',
    strategies: ['reminder'],
    strategy: 'reminder',
    stepsSent: [],
    smsCount: 0,
    pushCount: 0,
    inAppCount: 0,
    smsDayNumber: null,
    smsSkipped: false,
    rewardFen: 0,
    rewardUnlocked: false,
    reinvestedFen: 0,
    relapsedWithin30Days: null,
    ...rest,
  };
}

const DRAWS: RecallOutcomeRow[] = [
  draw('u1', 0, {
    outcome: 'returned',
    winningStep: 'in_app',
    closeOffset: 2,
    stepsSent: ['in_app'],
    inAppCount: 1,
    strategies: ['conditional_reward'],
    strategy: 'conditional_reward',
    lifecycle: 'mature',
    rewardFen: 100_000,
    rewardUnlocked: true,
    reinvestedFen: 300_000,
  }),
  draw('u2', 0, {
    outcome: 'returned',
    winningStep: 'push',
    closeOffset: 3,
    stepsSent: ['in_app', 'push'],
    inAppCount: 1,
    pushCount: 1,
  }),
  draw('u3', 0, {
    outcome: 'not_returned',
    stepsSent: ['in_app', 'push', 'sms'],
    inAppCount: 1,
    pushCount: 1,
    smsCount: 1,
    smsDayNumber: S0 + 5,
  }),
  draw('u8', 0, { outcome: 'skipped', closeOffset: 0 }),
  draw('u4', 0, { holdout: true, closeOffset: 0 }),
  draw('u5', 0, { holdout: true, closeOffset: 0 }),
  draw('u9', 0, { holdout: true, closeOffset: 0 }),
  draw('u6', 0, {
    trigger: 'manual',
    outcome: 'returned',
    winningStep: 'sms',
    closeOffset: 1,
    stepsSent: ['sms'],
    smsCount: 1,
    smsDayNumber: S0,
    level: 'high',
  }),
  draw('u7', 35, { outcome: null, closeOffset: null, stepsSent: ['in_app'], inAppCount: 1 }),
  draw('u10', 30, {
    outcome: 'returned',
    winningStep: 'in_app',
    closeOffset: LAST - 1,
    stepsSent: ['in_app'],
    inAppCount: 1,
  }),
];

const policy = parsePolicy({ warnings: { loginDaysOver: 14 }, uplift: { minSamplePerArm: 3 } });
const temp = useTempDir('winback-recalls-section-');
let lakeDir: string;
let report: Report;

beforeAll(async () => {
  lakeDir = join(temp.path(), 'lake');
  writeLake(lakeDir, { snapshots: snapshots() });
  for (const row of DRAWS) writeLake(lakeDir, { recalls: [row] }, row.recallId);
  const runner = new DuckDbLakeRunner(lakeDir);
  try {
    report = await reportFromLake(runner, loadQueries(QUERY_DIR, REPORT_QUERIES), {
      horizonDays: 30,
      policy,
    });
  } finally {
    await runner.close();
  }
});

describe('report.recalls over a hand-counted lake', () => {
  it('reports as of the last scan day', () => {
    expect(report.asOfDay).toBe(at(LAST));
  });

  it('counts the funnel', () => {
    expect(report.recalls.funnel).toEqual({
      started: 10,
      sent: { inApp: 5, push: 2, sms: 2 },
      returned: { total: 4, inApp: 2, push: 1, sms: 1, withoutMessage: 0 },
      notReturned: 1,
      skipped: 1,
      failed: 0,
      holdout: 3,
      stillRunning: 1,
      smsSkippedForNoUplift: 0,
    });
  });

  it('compares recalled and holdout over the same matured window, with Newcombe’s interval', () => {
    expect(report.recalls.uplift).toMatchObject({
      windowDays: 13,
      recalledN: 4,
      recalledReturned: 2,
      holdoutN: 3,
      holdoutReturned: 1,
      recalledReturnRate: 0.5,
      upliftPoints: 16.7,
      ci95: { low: -41.1, high: 61 },
      note: null,
    });
    expect(report.recalls.uplift.holdoutReturnRate).toBeCloseTo(1 / 3, 10);
  });

  it('splits the uplift by trigger, the manual recall listed without a holdout', () => {
    const byTrigger = report.recalls.uplift.byTrigger.map((r) => [r.key, r.recalledN, r.holdoutN, r.note]);
    expect(byTrigger).toEqual([
      ['manual', 1, 0, 'not enough data yet'],
      ['scan', 4, 3, null],
    ]);
    expect(report.recalls.uplift.byLifecycle.map((r) => [r.key, r.recalledN, r.holdoutN])).toEqual([
      ['growth', 3, 3],
      ['mature', 1, 0],
    ]);
  });

  it('prices the recalls and divides by the returns they added', () => {
    expect(report.recalls.cost).toMatchObject({
      recalls: 10,
      messages: { sms: 2, push: 1 + 1, inApp: 5 },
      messagesFen: 10,
      transitions: 76,
      transitionsFen: 1,
      rewardsPaidFen: 100_000,
      totalFen: 100_011,
      maturedRecalledCostFen: 100_006,
      costPerIncrementalReturnFen: 150_009,
      rewardRoi: 3,
    });
    expect(report.recalls.costPerIncrementalReturnFen).toBe(150_009);
    expect(report.recalls.rewardRoi).toBe(3);
  });

  it('finds the relapse in the snapshots once 30 days have been watched', () => {
    expect(report.recalls.relapse).toMatchObject({ returned: 3, relapsed: 1 });
    expect(report.recalls.relapse.relapseRate).toBeCloseTo(1 / 3, 10);
    expect(report.recalls.relapse.byWinningStep).toEqual([
      { key: 'in_app', returned: 1, relapsed: 0, relapseRate: 0 },
      { key: 'push', returned: 1, relapsed: 1, relapseRate: 1 },
      { key: 'sms', returned: 1, relapsed: 0, relapseRate: 0 },
    ]);
  });

  it('measures the SMS step per segment for recall.skipSmsWithoutUplift', () => {
    // growth/medium: the SMS would reach a medium-risk user 5 days in (48 h + 72 h) and a return
    // counts within 8 days (168 h / 24 + 1). Recalled: only u3 was sent an SMS (S+5), not back.
    // Holdout: u4 was back on S+4, before the SMS day, so is left out; u5 and u9 were not back.
    const row = report.recalls.smsStep.find((r) => r.lifecycle === 'growth' && r.level === 'medium');
    expect(row).toMatchObject({
      recalledN: 1,
      recalledReturned: 0,
      holdoutN: 2,
      holdoutReturned: 0,
      upliftPoints: null,
      note: 'not enough data yet',
      skipSms: false,
      reason: 'switch_off',
    });
  });

  it('counts yesterday’s returns for the digest', () => {
    expect(report.recalls.yesterday).toEqual({ dayNumber: S0 + LAST - 1, returned: 1 });
  });

  it('says "not enough data yet" instead of a number under the minimum sample', async () => {
    const runner = new DuckDbLakeRunner(lakeDir);
    try {
      const strict = await reportFromLake(runner, loadQueries(QUERY_DIR, REPORT_QUERIES), {
        horizonDays: 30,
        policy: parsePolicy({ warnings: { loginDaysOver: 14 }, uplift: { minSamplePerArm: 4 } }),
      });
      expect(strict.recalls.uplift).toMatchObject({
        recalledN: 4,
        holdoutN: 3,
        upliftPoints: null,
        ci95: null,
        note: 'not enough data yet',
      });
      expect(strict.recalls.costPerIncrementalReturnFen).toBeNull();
    } finally {
      await runner.close();
    }
  });
});

describe('queries/recall-draws.sql', () => {
  const sql = readFileSync(join(QUERY_DIR, 'recall-draws.sql'), 'utf8');
  let rows: Record<string, unknown>[];
  beforeAll(async () => {
    const runner = new DuckDbLakeRunner(lakeDir);
    try {
      rows = await runner.run(sql, {
        from_date: at(-1),
        to_date: at(LAST),
        login_days_over: 14,
        last_day_number: S0 + LAST,
      });
    } finally {
      await runner.close();
    }
  });

  it('finds each draw’s first login after its start, the same rule for both arms', () => {
    const back = Object.fromEntries(rows.map((r) => [r.recall_id, r.return_day_number]));
    expect(back).toEqual({
      'r-u1': S0 + 2,
      'r-u2': S0 + 3,
      'r-u3': null,
      'r-u4': S0 + 4,
      'r-u5': null,
      'r-u6': S0 + 1,
      'r-u7': null,
      'r-u8': S0 + 20,
      'r-u9': null,
      'r-u10': S0 + 38,
    });
  });

  it('knows a relapse only for returned draws, and only after 30 watched days', () => {
    const relapsed = Object.fromEntries(rows.map((r) => [r.recall_id, r.relapsed_within_30_days]));
    expect(relapsed).toMatchObject({
      'r-u1': false,
      'r-u2': true,
      'r-u6': false,
      'r-u10': null,
      'r-u4': null,
    });
  });

  it('leaves out draws started outside the window (the start-day partition)', async () => {
    const runner = new DuckDbLakeRunner(lakeDir);
    try {
      const late = await runner.run(sql, {
        from_date: at(30),
        to_date: at(LAST),
        login_days_over: 14,
        last_day_number: S0 + LAST,
      });
      expect(late.map((r) => r.recall_id).sort()).toEqual(['r-u10', 'r-u7']);
    } finally {
      await runner.close();
    }
  });

  it('parses as Trino SQL with its parameters bound, the dialect Athena runs', () => {
    const bound = bindParams(sql, {
      from_date: at(0),
      to_date: at(LAST),
      login_days_over: 14,
      last_day_number: S0 + LAST,
    });
    const parser = new nodeSqlParser.Parser();
    expect(() => parser.astify(bound, { database: 'trino' })).not.toThrow();
  });
});
