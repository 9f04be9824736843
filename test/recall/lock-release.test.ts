import { describe, expect, it } from 'vitest';
import { startManualRecall } from '../../functions/use-cases/api-recalls.ts';
import { closeRecall } from '../../functions/use-cases/recall-steps.ts';
import type { Runtime } from '../../local/runtime.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import { putUsers, readRecall, readUser, useTestRuntime } from '../support/runtime.ts';

// Case 3: every lock has a way out — a retried Close releases the user, a failed manual start
// leaves the user startable.

const inactive = { lastLoginAt: daysBefore(AS_OF, 10), lastInvestAt: daysBefore(AS_OF, 10) };
const fault = (name: string) => Object.assign(new Error(`${name} happened`), { name });

function recallDeps(rt: Runtime) {
  let n = 0;
  return {
    start: rt.startDeps,
    recalls: rt.recalls,
    rewards: rt.rewards,
    now: () => rt.clock.now(),
    nonce: () => `n${++n}`,
  };
}

describe('a Close whose release failed', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('releases the user when Step Functions retries it, keeping the first close time', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'c-retry', ...inactive }));
    const recallId = 'r-20261124-c-retry';
    await rt.users.openRecall('c-retry', recallId);
    await rt.recalls.createOnce({
      recallId,
      userId: 'c-retry',
      trigger: 'scheduled',
      level: 'low',
      startedAt: AS_OF.toISOString(),
      reasonCodes: [],
      holdout: false,
      steps: [],
    });
    const deps = rt.stepDeps;
    const release = deps.users.closeRecall.bind(deps.users);
    deps.users.closeRecall = async () => {
      throw fault('ProvisionedThroughputExceededException');
    };
    const input = { recallId, userId: 'c-retry', startedAt: AS_OF.toISOString() };
    await expect(closeRecall(input, deps)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    deps.users.closeRecall = release;
    const firstClosedAt = (await readRecall(rt, recallId)).closedAt;
    await rt.advanceTo(new Date(AS_OF.getTime() + 60_000).toISOString());
    await closeRecall(input, deps);

    const user = await readUser(rt, 'c-retry');
    expect(user.activeRecallId).toBeUndefined();
    expect(user.lastRecallClosedAt).toBe(firstClosedAt);
  });
});

describe('a manual recall whose StartExecution failed', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it.each(['ExecutionLimitExceeded', 'TimeoutError'])('after %s can be retried and starts', async (name) => {
    const { rt } = env;
    const userId = `m-${name}`;
    await putUsers(rt, aUser({ userId, ...inactive }));
    const deps = recallDeps(rt);
    const start = rt.starter.start;
    rt.starter.start = async () => {
      throw fault(name);
    };
    try {
      await expect(startManualRecall({ userId }, deps)).rejects.toMatchObject({ name });
    } finally {
      rt.starter.start = start;
    }
    const retried = await startManualRecall({ userId }, deps);
    expect(['started', 'resumed']).toContain(retried.status);
    expect(rt.recallWorkflow.describe(retried.recallId)?.status).toBe('RUNNING');
    expect((await readUser(rt, userId)).activeRecallId).toBe(retried.recallId);
  });
});
