import { describe, expect, it } from 'vitest';
import type { RewardRecord } from '../../functions/adapters/rewards.ts';
import type { RecallStart } from '../../functions/domain/recall.ts';
import { addDays } from '../../functions/domain/time.ts';
import { closeRecall, prepareRecall, sendStep } from '../../functions/use-cases/recall-steps.ts';
import { recordActivity } from '../../functions/use-cases/record-activity.ts';
import type { Runtime } from '../../local/runtime.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import { loggedBy, putUsers, useTestRuntime } from '../support/runtime.ts';

// Case 9: one reward per qualifying investment, one open reward per user, issued only once announced,
// and never past the daily budget.

/** High value, lapsed: the plan offers a conditional reward of 1% of 20,000,000 fen = 200,000 fen. */
const lapsedHighValue = (userId: string) =>
  aUser({
    userId,
    totalInvestedFen: 20_000_000,
    balanceFen: 5_000,
    lastLoginAt: daysBefore(AS_OF, 10),
    lastInvestAt: daysBefore(AS_OF, 10),
  });

function start(userId: string, day = '20261124'): RecallStart {
  return {
    recallId: `r-${day}-${userId}`,
    userId,
    trigger: 'scheduled',
    level: 'medium',
    startedAt: AS_OF.toISOString(),
  };
}

async function open(rt: Runtime, s: RecallStart) {
  await rt.recalls.createOnce({ ...s, reasonCodes: [], holdout: false, steps: [] });
  return prepareRecall(s, rt.stepDeps);
}

const invest = (userId: string, eventId: string, amountFen: number, at: string) => ({
  eventId,
  userId,
  type: 'investment' as const,
  at,
  amountFen,
  productId: 'p',
  bonusRate: false,
});

function reward(userId: string, recallId: string, issuedAt: string): RewardRecord {
  return {
    rewardId: `rw-${recallId}`,
    recallId,
    userId,
    amountFen: 100_000,
    unlockInvestFen: 1_000_000,
    issuedAt,
    expiresAt: addDays(AS_OF, 30),
    status: 'open',
  };
}

describe('rewards', () => {
  const env = useTestRuntime({
    policy: { recall: { holdoutShare: 0 }, reward: { dailyBudgetFen: 300_000 } },
  });

  it('one qualifying investment unlocks one reward, the oldest first', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'w-two' }));
    await rt.rewards.issueOnce(reward('w-two', 'r-old', daysBefore(AS_OF, 5)));
    await rt.rewards.issueOnce(reward('w-two', 'r-new', daysBefore(AS_OF, 2)));

    const first = await recordActivity(
      invest('w-two', 'w-two-1', 1_000_000, AS_OF.toISOString()),
      rt.activityDeps,
    );
    expect(first).toMatchObject({ status: 'applied', unlockedRewards: ['rw-r-old'] });
    const second = await recordActivity(
      invest('w-two', 'w-two-2', 1_000_000, AS_OF.toISOString()),
      rt.activityDeps,
    );
    expect(second).toMatchObject({ status: 'applied', unlockedRewards: ['rw-r-new'] });
  });

  it('is issued only when the message announcing it is sent', async () => {
    const { rt } = env;
    await putUsers(rt, lapsedHighValue('w-announce'));
    const s = start('w-announce');
    const prepared = await open(rt, s);
    expect(prepared.rewardId).toBeDefined();
    expect((await rt.rewards.get(prepared.rewardId!))?.status).not.toBe('open');
    // An investment before the announcement unlocks nothing.
    const early = await recordActivity(
      invest('w-announce', 'w-a-1', 1_000_000, AS_OF.toISOString()),
      rt.activityDeps,
    );
    expect(early).toMatchObject({ unlockedRewards: [] });

    const sent = await sendStep(
      { recallId: s.recallId, userId: 'w-announce', channel: 'in_app', plan: prepared },
      rt.stepDeps,
    );
    expect(sent.result).toBe('sent');
    expect((await rt.rewards.get(prepared.rewardId!))?.status).toBe('open');
  });

  it('a user with an open reward gets no second one', async () => {
    const { rt } = env;
    await putUsers(rt, lapsedHighValue('w-one'));
    await rt.rewards.issueOnce(reward('w-one', 'r-earlier', daysBefore(AS_OF, 3)));
    const prepared = await open(rt, start('w-one'));
    expect(prepared.rewardId).toBeUndefined();
    expect(prepared.strategies.map((x) => x.kind)).not.toContain('conditional_reward');
  });
});

describe('the daily reward budget', () => {
  const env = useTestRuntime({
    policy: { recall: { holdoutShare: 0 }, reward: { dailyBudgetFen: 300_000 } },
  });

  it('refuses a reward past it, and the refusal is counted', async () => {
    const { rt } = env;
    // 200,000 fen each against a 300,000 fen budget: the first fits, the second does not.
    await putUsers(rt, lapsedHighValue('w-b1'), lapsedHighValue('w-b2'));
    const a = await open(rt, start('w-b1'));
    const b = await open(rt, start('w-b2'));
    expect(a.rewardId).toBeDefined();
    expect(b.rewardId).toBeUndefined();
    expect(b.strategies.map((x) => x.kind)).not.toContain('conditional_reward');
    expect(await rt.rewards.budgetOf(AS_OF.toISOString().slice(0, 10))).toMatchObject({
      spentFen: 200_000,
      refused: 1,
    });
    expect(loggedBy(rt).some((l) => l.message === 'reward refused: daily budget spent')).toBe(true);
  });
});

describe('rewards of an interrupted escalation', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('a reward never announced is cancelled by Close, from the plan the workflow passes (no rewardId)', async () => {
    const { rt } = env;
    await putUsers(rt, lapsedHighValue('w-cancel'));
    const s = start('w-cancel');
    const { rewardId, ...plan } = await open(rt, s);
    expect(rewardId).toBeDefined();
    await closeRecall(
      { recallId: s.recallId, userId: 'w-cancel', startedAt: s.startedAt, plan },
      rt.stepDeps,
    );
    expect((await rt.rewards.get(rewardId!))?.status).toBe('cancelled');
  });

  it('is announced by the retry when the attempt that sent its message died first', async () => {
    const { rt } = env;
    await putUsers(rt, lapsedHighValue('w-retry'));
    const s = start('w-retry');
    const prepared = await open(rt, s);
    const input = { recallId: s.recallId, userId: 'w-retry', channel: 'in_app' as const, plan: prepared };
    const deps = rt.stepDeps;
    const announce = deps.rewards.announce.bind(deps.rewards);
    deps.rewards.announce = async () => {
      throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
    };
    await expect(sendStep(input, deps)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    deps.rewards.announce = announce;
    expect((await sendStep(input, deps)).result).toBe('sent');
    expect((await rt.rewards.get(prepared.rewardId!))?.status).toBe('open');
  });
});
