import { describe, expect, it } from 'vitest';
import { addHours } from '../../functions/domain/time.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import {
  lakeOutcomeRows,
  outboxItems,
  putUsers,
  readRecall,
  readUser,
  useTestRuntime,
} from '../support/runtime.ts';

// The daily scan state machine, run locally, opening recalls through the real ScheduledRecalls trigger.

const asOf = AS_OF.toISOString(); // 09:00 Asia/Shanghai
const day = asOf.slice(0, 10).replaceAll('-', '');
const lapsed = (days: number): Partial<UserRecord> => ({
  lastLoginAt: daysBefore(AS_OF, days),
  lastInvestAt: daysBefore(AS_OF, days),
});

const users: UserRecord[] = [
  aUser({ userId: 's-active', phone: '+8613900000001' }),
  // inactive_login (over 14 days): at risk, low.
  aUser({ userId: 's-atrisk', phone: '+8613900000002', ...lapsed(20) }),
  // 40 days without login or investment: churned, medium.
  aUser({ userId: 's-churned', phone: '+8613900000003', ...lapsed(40) }),
  // > 15 days without login and a balance under ¥100: high risk.
  aUser({ userId: 's-high', phone: '+8613900000004', ...lapsed(20), balanceFen: 5_000 }),
  // ¥200,000 invested over time, balance under ¥100: lapsed high value, and inactive_login (over 14
  // days) but not high risk (that needs over 15 days).
  aUser({
    userId: 's-whale',
    phone: '+8613900000005',
    ...lapsed(15),
    totalInvestedFen: 20_000_000,
    balanceFen: 5_000,
  }),
  // At risk, but its last recall closed 5 days ago: inside the 30-day cool-down.
  aUser({
    userId: 's-cooling',
    phone: '+8613900000006',
    ...lapsed(20),
    lastRecallClosedAt: daysBefore(AS_OF, 5),
    lastRecallOutcome: 'not_returned',
  } as Partial<UserRecord>),
  // At risk, with a recall from earlier in the month still open.
  aUser({
    userId: 's-busy',
    phone: '+8613900000007',
    ...lapsed(20),
    activeRecallId: 'r-20261101-s-busy',
  } as Partial<UserRecord>),
];
const ELIGIBLE = ['s-atrisk', 's-churned', 's-high', 's-whale'];

describe('the daily scan starting recalls', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('starts recalls only for eligible users, alerts operators, and starts nothing new on a re-run', async () => {
    const { rt } = env;
    // s-busy's open recall: started five days ago, still inside the longest escalation.
    await rt.recalls.createOnce({
      recallId: 'r-20261101-s-busy',
      userId: 's-busy',
      trigger: 'scheduled',
      level: 'low',
      startedAt: '2026-11-19T01:00:00.000Z',
      reasonCodes: ['inactive_login'],
      holdout: false,
      steps: [],
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Recall:r-20261101-s-busy',
    });
    await putUsers(rt, ...users);

    const first = await rt.runDailyScan(asOf);
    await rt.idle();

    expect(first.execution.status).toBe('SUCCEEDED');
    expect(first.summary.totals).toMatchObject({
      scanned: 7,
      assessed: 7,
      invalid: 0,
      byStatus: { active: 1, at_risk: 5, churned: 1 },
      recalls: { started: 4, cooldown: 1, already_active: 1 },
    });
    const executions = rt.recallWorkflow.list();
    expect(executions.map((e) => e.name).sort()).toEqual(ELIGIBLE.map((id) => `r-${day}-${id}`).sort());
    for (const id of ELIGIBLE) {
      const recall = await readRecall(rt, `r-${day}-${id}`);
      expect(recall).toMatchObject({ userId: id, trigger: 'scheduled', startedAt: asOf, holdout: false });
      expect(recall.executionArn).toBe(rt.recallWorkflow.describe(`r-${day}-${id}`)!.arn);
      expect((await readUser(rt, id)).activeRecallId).toBe(`r-${day}-${id}`);
    }
    expect(await readRecall(rt, `r-${day}-s-high`)).toMatchObject({
      level: 'high',
      plan: { route: 'sms_first' },
    });
    expect(await readRecall(rt, `r-${day}-s-churned`)).toMatchObject({ level: 'medium' });
    expect(await readRecall(rt, `r-${day}-s-whale`)).toMatchObject({
      reasonCodes: expect.arrayContaining(['high_value_lapsed', 'low_balance', 'inactive_login']),
      rewardId: `rw-r-${day}-s-whale`,
    });
    expect(await rt.recalls.get(`r-${day}-s-active`)).toBeUndefined();
    expect(await rt.recalls.get(`r-${day}-s-cooling`)).toBeUndefined();
    expect(await rt.recalls.get(`r-${day}-s-busy`)).toBeUndefined();
    expect((await readUser(rt, 's-busy')).activeRecallId).toBe('r-20261101-s-busy');
    expect((await readUser(rt, 's-cooling')).activeRecallId).toBeUndefined();
    // The first step already went out: in-app for the escalations, SMS for the high-risk user.
    expect((await rt.ledger.forRecall(`r-${day}-s-atrisk`)).map((m) => [m.step, m.status])).toEqual([
      ['in_app', 'sent'],
    ]);
    expect((await outboxItems(rt, { channel: 'sms' })).map((o) => o.recallId)).toEqual([`r-${day}-s-high`]);

    const alerts = await outboxItems(rt, { channel: 'operator' });
    expect(alerts.map((a) => [a.kind, a.title]).sort()).toEqual([
      ['daily_digest', `daily digest ${asOf.slice(0, 10)}`],
      ['high_risk', 'high-risk user: s-high'],
      ['high_value_lapsed', 'lapsed high-value user: s-whale'],
    ]);
    const highAlert = alerts.find((a) => a.kind === 'high_risk')!;
    expect(highAlert.text).toContain(`Recall r-${day}-s-high started`);
    const digest = alerts.find((a) => a.kind === 'daily_digest')!;
    expect(digest.text).toBe(first.summary.digest);
    expect(digest.text).toContain('recalls: already_active 1, cooldown 1, started 4');

    // The same day again: another run of the same asOf, then a later run of the same day.
    const again = rt.scanWorkflow.start('scan-rerun-same-asof', { asOf });
    await again.done;
    await rt.idle();
    expect(again.status).toBe('SUCCEEDED');
    const rerun = again.output as typeof first.summary;
    expect(rerun.totals.recalls).toEqual({ resumed: 4, cooldown: 1, already_active: 1 });

    const later = await rt.runDailyScan(addHours(asOf, 2));
    await rt.idle();
    expect(later.summary.totals.recalls).toEqual({ resumed: 4, cooldown: 1, already_active: 1 });

    expect(rt.recallWorkflow.list()).toHaveLength(4);
    for (const id of ELIGIBLE) {
      const ledger = await rt.ledger.forRecall(`r-${day}-${id}`);
      expect(ledger.map((m) => m.attempts)).toEqual([1]);
    }
    expect(await outboxItems(rt, { channel: 'sms' })).toHaveLength(1);
    const after = await outboxItems(rt, { channel: 'operator' });
    // No second alert for the same recalls; one digest per run.
    expect(after.filter((a) => a.kind !== 'daily_digest')).toHaveLength(2);
    expect(after.filter((a) => a.kind === 'daily_digest')).toHaveLength(3);
    expect(after.filter((a) => a.kind === 'daily_digest').map((a) => a.text.includes('resumed 4'))).toEqual([
      false,
      true,
      true,
    ]);
  });
});

describe('the relapse watch', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('alerts operators once when a returned user is at risk again inside the watch window', async () => {
    const { rt } = env;
    await putUsers(
      rt,
      // Came back from a recall 20 days ago (watch runs 10 more days), now 16 days inactive again.
      aUser({
        userId: 'w-relapsed',
        ...lapsed(16),
        lastRecallClosedAt: daysBefore(AS_OF, 20),
        lastRecallOutcome: 'returned',
        relapseWatchUntil: addHours(asOf, 240),
      } as Partial<UserRecord>),
      // At risk too, but the watch expired yesterday: no alert.
      aUser({
        userId: 'w-expired',
        ...lapsed(16),
        lastRecallClosedAt: daysBefore(AS_OF, 31),
        lastRecallOutcome: 'returned',
        relapseWatchUntil: addHours(asOf, -24),
      } as Partial<UserRecord>),
      // Inside the window but active: no alert.
      aUser({ userId: 'w-fine', relapseWatchUntil: addHours(asOf, 240) } as Partial<UserRecord>),
    );
    await rt.runDailyScan(asOf);
    await rt.idle();
    const relapses = (await outboxItems(rt)).filter((o) => o.kind === 'relapse');
    expect(relapses.map((o) => o.title)).toEqual(['relapse: w-relapsed is at_risk again']);
    expect((await readUser(rt, 'w-relapsed')).relapseWatchUntil).toBeUndefined();
    expect((await readUser(rt, 'w-fine')).relapseWatchUntil).toBe(addHours(asOf, 240));

    await rt.runDailyScan(addHours(asOf, 24));
    await rt.idle();
    expect((await outboxItems(rt)).filter((o) => o.kind === 'relapse')).toHaveLength(1);
  });
});

describe('locks that no running recall stands behind', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('starts an episode that never got its execution, and frees users whose lock outlived their recall', async () => {
    const { rt } = env;
    const episode = (recallId: string, userId: string, extra: Record<string, unknown> = {}) =>
      rt.recalls.createOnce({
        recallId,
        userId,
        trigger: 'scheduled',
        level: 'low',
        startedAt: daysBefore(AS_OF, 3),
        reasonCodes: ['inactive_login'],
        holdout: false,
        steps: [],
        ...extra,
      });
    await episode('r-20261121-l-unstarted', 'l-unstarted');
    await episode('r-20261121-l-closed', 'l-closed', {
      outcome: 'not_returned',
      closedAt: daysBefore(AS_OF, 40),
    });
    // Started 20 days ago with an execution that is no longer running (stopped by hand, say).
    await episode('r-20261104-l-stalled', 'l-stalled', {
      startedAt: daysBefore(AS_OF, 20),
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Recall:r-20261104-l-stalled',
    });
    await putUsers(
      rt,
      aUser({
        userId: 'l-unstarted',
        ...lapsed(20),
        activeRecallId: 'r-20261121-l-unstarted',
      } as Partial<UserRecord>),
      aUser({
        userId: 'l-closed',
        ...lapsed(20),
        activeRecallId: 'r-20261121-l-closed',
      } as Partial<UserRecord>),
      aUser({
        userId: 'l-orphan',
        ...lapsed(20),
        activeRecallId: 'r-20261101-l-orphan',
      } as Partial<UserRecord>),
      aUser({
        userId: 'l-stalled',
        ...lapsed(20),
        activeRecallId: 'r-20261104-l-stalled',
      } as Partial<UserRecord>),
    );

    const { summary } = await rt.runDailyScan(asOf);
    await rt.idle();

    expect(summary.totals.recalls).toEqual({ resumed: 1, started: 2, cooldown: 1 });
    // The stalled episode is closed as failed; its close starts the cool-down, so no new recall today.
    expect(await readRecall(rt, 'r-20261104-l-stalled')).toMatchObject({
      outcome: 'failed',
      error: 'execution ended without closing the recall',
    });
    // ...and leaves its outcome row in the lake, as Close would have.
    expect(lakeOutcomeRows(rt, 'r-20261104-l-stalled').map((r) => r.row)).toEqual([
      expect.objectContaining({
        recallId: 'r-20261104-l-stalled',
        outcome: 'failed',
        closedDay: asOf.slice(0, 10),
      }),
    ]);
    expect(await readUser(rt, 'l-stalled')).toMatchObject({
      lastRecallOutcome: 'failed',
      lastRecallClosedAt: asOf,
    });
    expect(await readUser(rt, 'l-stalled')).not.toHaveProperty('activeRecallId');
    expect(rt.recallWorkflow.describe('r-20261121-l-unstarted')?.input).toMatchObject({
      recallId: 'r-20261121-l-unstarted',
      startedAt: daysBefore(AS_OF, 3),
    });
    expect((await readRecall(rt, 'r-20261121-l-unstarted')).executionArn).toBe(
      rt.recallWorkflow.describe('r-20261121-l-unstarted')!.arn,
    );
    expect((await readUser(rt, 'l-closed')).activeRecallId).toBe(`r-${day}-l-closed`);
    expect((await readUser(rt, 'l-orphan')).activeRecallId).toBe(`r-${day}-l-orphan`);
  });
});
