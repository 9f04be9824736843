import { describe, expect, it } from 'vitest';
import { LocalReportStore } from '../../functions/adapters/report-store.ts';
import { assess } from '../../functions/domain/assessment.ts';
import type { SmsStepRow } from '../../functions/domain/effectiveness.ts';
import { addHours } from '../../functions/domain/time.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { startRecall } from '../../functions/use-cases/start-recall.ts';
import type { Runtime } from '../../local/runtime.ts';
import { aUser, daysBefore } from '../support/fixtures.ts';
import {
  applyActivity,
  executionOf,
  nextShanghaiTime,
  putUsers,
  readRecall,
  lakeOutcomeRows as rowsOf,
  runRecallToEnd,
  sentMessages,
  startRecallLikeScan,
  useTestRuntime,
} from '../support/runtime.ts';

// Each recall leaves one row in the lake's `recalls` table: written as started by Prepare,
// replaced as closed by Close, in the partition of its start day, named by its id.

/** Lapsed 20 days (at risk under any threshold up to 19 days), every channel reachable. */
function lapsedUser(userId: string, at: string, overrides: Partial<UserRecord> = {}): UserRecord {
  return aUser({
    userId,
    channel: 'invite',
    lastLoginAt: daysBefore(new Date(at), 20),
    lastInvestAt: daysBefore(new Date(at), 20),
    phone: `+86139${String(Math.abs(hash(userId)) % 100_000_000).padStart(8, '0')}`,
    pushAddress: `token-${userId}-abcdef`,
    ...overrides,
  });
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

describe('recall outcome rows in the lake', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('are written as started by Prepare and replaced, not added to, by Close', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const user = lapsedUser('lake-returns', t0);
    await putUsers(rt, user);
    const lifecycle = assess(user, rt.policy, new Date(t0)).lifecycle;
    const started = await startRecallLikeScan(rt, user.userId, { at: t0 });
    if (started.status !== 'started') throw new Error(`not started: ${started.status}`);
    const { recallId } = started;
    const day = t0.slice(0, 10);

    const running = rowsOf(rt, recallId);
    expect(running).toHaveLength(1);
    expect(running[0]!.file).toBe(`day=${day}/${recallId}.jsonl.gz`);
    expect(running[0]!.row).toMatchObject({
      day,
      recallId,
      userId: user.userId,
      trigger: 'scan',
      startedDay: day,
      outcome: null,
      closedDay: null,
      holdout: false,
      lifecycle,
      channel: 'invite',
      smsSkipped: false,
      reinvestedFen: 0,
    });

    // Back with an investment of ¥2,500 during the in-app wait.
    const at = addHours(t0, 20);
    await applyActivity(rt, {
      userId: user.userId,
      type: 'investment',
      at,
      amountFen: 250_000,
      productId: 'fund-1',
      bonusRate: false,
    });
    await runRecallToEnd(rt, recallId);
    expect(executionOf(rt, recallId).status).toBe('SUCCEEDED');

    const closed = rowsOf(rt, recallId);
    expect(closed).toHaveLength(1);
    const recall = await readRecall(rt, recallId);
    expect(closed[0]!.row).toMatchObject({
      recallId,
      outcome: 'returned',
      winningStep: 'in_app',
      closedDay: recall.closedAt!.slice(0, 10),
      stepsSent: ['in_app'],
      inAppCount: 1,
      pushCount: 0,
      smsCount: 0,
      reinvestedFen: 250_000,
      relapsedWithin30Days: null,
      lifecycle,
      channel: 'invite',
    });
    // The recall record keeps who the user was at the start, for a Close on another day.
    expect(recall.segment).toEqual({
      lifecycle,
      channel: 'invite',
      totalInvestedFenAtStart: user.totalInvestedFen,
    });
  });
});

describe('a recall closed outside its workflow', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('leaves a failed row when Step Functions refuses a manual start for certain (nothing was sent)', async () => {
    const { rt } = env;
    const at = nextShanghaiTime(rt, '10:00');
    await rt.advanceTo(at);
    const user = lapsedUser('lake-refused', at);
    await putUsers(rt, user);
    const refusing = {
      ...rt.starter,
      start: async () => {
        throw Object.assign(new Error('too many executions'), { name: 'ExecutionLimitExceeded' });
      },
    };
    await expect(
      startRecall(
        {
          userId: user.userId,
          trigger: 'manual',
          level: 'medium',
          at,
          reasonCodes: [],
          respectCooldown: false,
          releaseIfRefused: true,
        },
        { ...rt.startDeps, workflow: refusing },
      ),
    ).rejects.toThrow('too many executions');
    const recalls = [];
    for await (const r of rt.recalls.scanAll()) if (r.userId === user.userId) recalls.push(r);
    expect(recalls).toHaveLength(1);
    const recall = recalls[0];
    expect(recall).toMatchObject({ outcome: 'failed', error: 'not started: ExecutionLimitExceeded' });
    const rows = rowsOf(rt, recall!.recallId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).toMatchObject({
      trigger: 'manual',
      outcome: 'failed',
      stepsSent: [],
      holdout: false,
      channel: 'invite',
    });
  });
});

describe('recall.skipSmsWithoutUplift', () => {
  const env = useTestRuntime({
    policy: { recall: { holdoutShare: 0, skipSmsWithoutUplift: true, minSmsUpliftPoints: 0 } },
  });

  /** The last report says SMS measurably lowers returns for this segment (interval entirely below 0). */
  async function reportSaysSmsFails(rt: Runtime, segment: { lifecycle: string; level: string }) {
    const smsStep: SmsStepRow[] = [
      {
        ...segment,
        skipSms: true,
        reason: 'uplift_interval_below_minimum',
        recalledN: 400,
        holdoutN: 400,
        recalledReturned: 40,
        holdoutReturned: 80,
        recalledReturnRate: 0.1,
        holdoutReturnRate: 0.2,
        upliftPoints: -10,
        ci95: { low: -14.9, high: -5.1 },
        note: null,
      },
    ];
    await new LocalReportStore(rt.lakeDir).put(
      '2026-01-01',
      '<html></html>',
      JSON.stringify({ recalls: { smsStep } }),
    );
  }

  it('takes the SMS step out for a segment whose SMS uplift lies below the minimum, and records why', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const user = lapsedUser('sms-skip', t0);
    await putUsers(rt, user);
    const a = assess(user, rt.policy, new Date(t0));
    expect(a.status).toBe('at_risk');
    await reportSaysSmsFails(rt, { lifecycle: a.lifecycle, level: a.level });

    const started = await startRecallLikeScan(rt, user.userId, { at: t0 });
    if (started.status !== 'started') throw new Error(`not started: ${started.status}`);
    await runRecallToEnd(rt, started.recallId);

    const recall = await readRecall(rt, started.recallId);
    expect(recall.plan?.channels).not.toContain('sms');
    expect(recall.smsDecision).toEqual({
      skipSms: true,
      reason: 'uplift_interval_below_minimum',
      upliftPoints: -10,
      ci95: { low: -14.9, high: -5.1 },
      recalledN: 400,
      holdoutN: 400,
    });
    expect((await sentMessages(rt, started.recallId)).map((m) => m.channel)).not.toContain('sms');
    expect(rowsOf(rt, started.recallId)[0]!.row).toMatchObject({ smsSkipped: true, outcome: 'not_returned' });
  });

  it('keeps the SMS for a segment the figures do not cover', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const user = lapsedUser('sms-kept', t0);
    await putUsers(rt, user);
    const a = assess(user, rt.policy, new Date(t0));
    await reportSaysSmsFails(rt, {
      lifecycle: a.lifecycle === 'mature' ? 'novice' : 'mature',
      level: a.level,
    });

    const started = await startRecallLikeScan(rt, user.userId, { at: t0 });
    if (started.status !== 'started') throw new Error(`not started: ${started.status}`);
    await runRecallToEnd(rt, started.recallId);

    const recall = await readRecall(rt, started.recallId);
    expect(recall.plan?.channels).toContain('sms');
    expect(recall.smsDecision).toMatchObject({ skipSms: false, reason: 'not_enough_data' });
    expect((await sentMessages(rt, started.recallId)).map((m) => m.channel)).toContain('sms');
  });
});
