import { describe, expect, it } from 'vitest';
import { closeRecall, sendStep } from '../../functions/use-cases/recall-steps.ts';
import { AS_OF } from '../support/fixtures.ts';
import { loggedBy, openSendStep, outboxItems, readRecall, useTestRuntime } from '../support/runtime.ts';

// Case 1: a send whose outcome is in doubt is recorded `unknown`, counted, and never sent again;
// only a definite refusal may be retried or fall through.

const named = (name: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name, ...extra });

describe('a provider that accepted the SMS and then timed out', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('is recorded unknown, counted, moves on as if sent, and is never sent again', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'u-timeout', 'sms');
    const send = deps.sms.send.bind(deps.sms);
    deps.sms.send = async (phone, text, ref) => {
      await send(phone, text, ref);
      throw named('TimeoutError', 'Connection timed out after 3000 ms');
    };
    const first = await sendStep(input, deps);
    deps.sms.send = send;
    const retried = await sendStep(input, deps);

    expect(first.result).toBe('unknown');
    expect(first.waitUntil > first.at).toBe(true);
    expect(retried.result).toBe('unknown');
    expect(await outboxItems(rt, { recallId: input.recallId, channel: 'sms' })).toHaveLength(1);
    expect((await rt.ledger.get(input.recallId, 'sms'))?.status).toBe('unknown');
    expect((await readRecall(rt, input.recallId)).steps.map((s) => s.result)).toEqual(['unknown']);
    expect(loggedBy(rt).some((l) => l.message === 'send outcome unknown; not sent again')).toBe(true);
  });
});

describe('a definite refusal', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('that is worth retrying (throttled before acceptance) is sent by the retry', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'u-throttled', 'sms');
    const send = deps.sms.send.bind(deps.sms);
    deps.sms.send = async () => {
      throw named('ThrottledException', 'Rate exceeded', { $metadata: { httpStatusCode: 400, attempts: 1 } });
    };
    await expect(sendStep(input, deps)).rejects.toMatchObject({ name: 'DeliveryFailed' });
    deps.sms.send = send;
    await expect(sendStep(input, deps)).resolves.toMatchObject({ result: 'sent' });
    expect(await outboxItems(rt, { recallId: input.recallId, channel: 'sms' })).toHaveLength(1);
  });

  it('that is final (validation) falls through to the next step without a wait', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'u-invalid', 'sms');
    const send = deps.sms.send.bind(deps.sms);
    deps.sms.send = async () => {
      throw named('InvalidParameterException', 'Invalid parameter: PhoneNumber +8613800138000', {
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    };
    const result = await sendStep(input, deps);
    deps.sms.send = send;

    expect(result).toMatchObject({ result: 'refused', waitUntil: result.at });
    expect(result.detail).not.toContain('13800138000');
    expect((await rt.ledger.get(input.recallId, 'sms'))?.status).toBe('failed');
  });

  it('whose failure could not be recorded is not reported as sent by the retry', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'u-markfailed', 'sms');
    const send = deps.sms.send.bind(deps.sms);
    const markFailed = deps.ledger.markFailed.bind(deps.ledger);
    deps.sms.send = async () => {
      throw named('ThrottledException', 'Rate exceeded', { $metadata: { httpStatusCode: 400, attempts: 1 } });
    };
    deps.ledger.markFailed = async () => {
      throw named('ProvisionedThroughputExceededException', 'throttled');
    };
    await expect(sendStep(input, deps)).rejects.toBeDefined();
    deps.sms.send = send;
    deps.ledger.markFailed = markFailed;
    const retried = await sendStep(input, deps);

    expect(retried.result).not.toBe('sent');
    expect(await outboxItems(rt, { recallId: input.recallId, channel: 'sms' })).toHaveLength(0);
  });
});

describe('a send whose outcome could not be recorded', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('in doubt: the task fails, and its retry records it unknown without sending again', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'u-doubt-unrecorded', 'sms');
    const send = deps.sms.send.bind(deps.sms);
    const markUnknown = deps.ledger.markUnknown.bind(deps.ledger);
    deps.sms.send = async (phone, text, ref) => {
      await send(phone, text, ref);
      throw named('TimeoutError', 'Connection timed out after 3000 ms');
    };
    deps.ledger.markUnknown = async () => {
      throw named('ProvisionedThroughputExceededException', 'throttled');
    };
    // Failing is what lets the workflow retry it; answering `unknown` would leave the row `sending`.
    await expect(sendStep(input, deps)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect((await rt.ledger.get(input.recallId, 'sms'))?.status).toBe('sending');
    deps.sms.send = send;
    deps.ledger.markUnknown = markUnknown;
    const retried = await sendStep(input, deps);

    expect(retried.result).toBe('unknown');
    expect((await rt.ledger.get(input.recallId, 'sms'))?.status).toBe('unknown');
    expect(await outboxItems(rt, { recallId: input.recallId, channel: 'sms' })).toHaveLength(1);
  });

  it('sent: the retry records it unknown (counted by the frequency cap) and does not send again', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'u-sent-unrecorded', 'push');
    const markSent = deps.ledger.markSent.bind(deps.ledger);
    deps.ledger.markSent = async () => {
      throw named('TimeoutError', 'Connection timed out after 3000 ms');
    };
    await expect(sendStep(input, deps)).rejects.toMatchObject({ name: 'TimeoutError' });
    deps.ledger.markSent = markSent;
    const retried = await sendStep(input, deps);

    expect(retried.result).toBe('unknown');
    const row = await rt.ledger.get(input.recallId, 'push');
    expect(row).toMatchObject({ status: 'unknown', sentAt: row?.claimedAt });
    expect(await outboxItems(rt, { recallId: input.recallId, channel: 'push' })).toHaveLength(1);
  });

  it('left `sending` when the escalation ended: Close records it unknown and counts it', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'u-close-settles', 'sms');
    await deps.ledger.claim(input.recallId, 'sms', input.userId, AS_OF.toISOString());
    const closed = await closeRecall(
      { recallId: input.recallId, userId: input.userId, startedAt: AS_OF.toISOString() },
      deps,
    );

    expect(closed).toMatchObject({ outcome: 'not_returned', messagesSent: 1 });
    expect(await rt.ledger.get(input.recallId, 'sms')).toMatchObject({
      status: 'unknown',
      sentAt: AS_OF.toISOString(),
    });
  });
});
