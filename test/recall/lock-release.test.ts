import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../functions/use-cases/api-errors.ts';
import { MANUAL_RETRY_WINDOW_MS, startManualRecall } from '../../functions/use-cases/api-recalls.ts';
import { closeRecall } from '../../functions/use-cases/recall-steps.ts';
import type { Runtime } from '../../local/runtime.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import { putUsers, readRecall, readUser, useTestRuntime } from '../support/runtime.ts';

// Case 3: every lock has a way out — a retried Close releases the user, a failed manual start
// leaves the user startable.

/** At risk (low): `inactive_login` fires after 14 days without login. */
const inactive = { lastLoginAt: daysBefore(AS_OF, 20), lastInvestAt: daysBefore(AS_OF, 20) };
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

describe('a manual recall whose attempt died after starting it', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('answers the same request again with the running recall, and any other with 409', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'm-after-start', ...inactive }));
    const deps = recallDeps(rt);
    const setExecution = rt.recalls.setExecution.bind(rt.recalls);
    // Applied, then the answer is lost: the API call fails after the recall is running.
    rt.recalls.setExecution = async (recallId, arn) => {
      await setExecution(recallId, arn);
      throw fault('TimeoutError');
    };
    const request = { userId: 'm-after-start', strategy: 'conditional_reward' as const };
    try {
      await expect(startManualRecall(request, deps)).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      rt.recalls.setExecution = setExecution;
    }
    const recallId = (await readUser(rt, 'm-after-start')).activeRecallId as string;
    expect(rt.recallWorkflow.describe(recallId)?.status).toBe('RUNNING');

    const retried = await startManualRecall(request, deps);
    expect(retried).toMatchObject({ status: 'resumed', recallId });
    expect(retried.executionArn).toContain(recallId);

    const other = await startManualRecall({ userId: 'm-after-start', note: 'another ask' }, deps).catch(
      (e: unknown) => e,
    );
    expect(other).toBeInstanceOf(ConflictError);
    expect(other).toMatchObject({ code: 'recall_already_active', details: { recallId } });

    await rt.advanceTo(new Date(rt.clock.now().getTime() + MANUAL_RETRY_WINDOW_MS + 60_000).toISOString());
    const later = await startManualRecall(request, deps).catch((e: unknown) => e);
    expect(later).toMatchObject({ code: 'recall_already_active', details: { recallId } });
  });

  it('continues the recall an attempt locked the user to before dying, under its id', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'm-before-create', ...inactive }));
    const deps = recallDeps(rt);
    const createOnce = rt.recalls.createOnce.bind(rt.recalls);
    rt.recalls.createOnce = async () => {
      throw fault('ProvisionedThroughputExceededException');
    };
    try {
      await expect(startManualRecall({ userId: 'm-before-create' }, deps)).rejects.toMatchObject({
        name: 'ProvisionedThroughputExceededException',
      });
    } finally {
      rt.recalls.createOnce = createOnce;
    }
    const locked = (await readUser(rt, 'm-before-create')).activeRecallId as string;
    expect(locked).toMatch(/^m-/);

    const retried = await startManualRecall({ userId: 'm-before-create' }, deps);
    expect(retried).toMatchObject({ status: 'started', recallId: locked });
    expect(rt.recallWorkflow.describe(locked)?.status).toBe('RUNNING');
    expect((await readRecall(rt, locked)).trigger).toBe('manual');
  });
});
