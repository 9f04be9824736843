import { describe, expect, it } from 'vitest';
import { sendStep } from '../../functions/use-cases/recall-steps.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import {
  nextShanghaiTime,
  outboxItems,
  putUsers,
  readRecall,
  runRecallToEnd,
  startRecallLikeScan,
  useTestRuntime,
} from '../support/runtime.ts';

// Case 6: a failed opt-out lookup is retried like a delivery, redacted, and falls through.

const throttled = () =>
  Object.assign(new Error('Rate exceeded for +8613800138000'), {
    name: 'ThrottledException',
    $metadata: { httpStatusCode: 400, attempts: 1 },
  });

describe('an opt-out lookup that fails', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('is retried like a delivery, with the number redacted from the error', async () => {
    const { rt } = env;
    await putUsers(
      rt,
      aUser({ userId: 'o-step', lastLoginAt: daysBefore(AS_OF, 20), lastInvestAt: daysBefore(AS_OF, 20) }),
    );
    const deps = rt.stepDeps;
    const lookup = deps.sms.isOptedOut.bind(deps.sms);
    deps.sms.isOptedOut = async () => {
      throw throttled();
    };
    const failure = (await sendStep(
      {
        recallId: 'r-test-o-step',
        userId: 'o-step',
        channel: 'sms',
        plan: { channels: ['sms'], strategies: [{ kind: 'reminder' }] },
      },
      deps,
    ).then(
      () => new Error('resolved'),
      (e: unknown) => e,
    )) as Error;
    deps.sms.isOptedOut = lookup;

    expect(failure.name).toBe('DeliveryFailed');
    expect(failure.message).toContain('ThrottledException');
    expect(failure.message).not.toContain('13800138000');
  });

  it('that keeps failing lets the recall go past the SMS step instead of failing it', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    await putUsers(
      rt,
      aUser({
        userId: 'o-flow',
        lastLoginAt: daysBefore(new Date(t0), 20),
        lastInvestAt: daysBefore(new Date(t0), 20),
        phone: '+8613900000001',
      }),
    );
    const started = await startRecallLikeScan(rt, 'o-flow', { at: t0 });
    if (started.status !== 'started') throw new Error(`not started: ${started.status}`);
    const lookup = rt.outbox.isOptedOut.bind(rt.outbox);
    rt.outbox.isOptedOut = async () => {
      throw throttled();
    };
    try {
      const execution = await runRecallToEnd(rt, started.recallId);
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.stringify(execution.history)).not.toContain('13800138000');
    } finally {
      rt.outbox.isOptedOut = lookup;
    }
    const recall = await readRecall(rt, started.recallId);
    expect(recall.outcome).toBe('not_returned');
    expect(await outboxItems(rt, { recallId: started.recallId, channel: 'sms' })).toHaveLength(0);
  });
});
