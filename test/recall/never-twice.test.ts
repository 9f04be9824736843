import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { addHours } from '../../functions/domain/time.ts';
import { sendStep } from '../../functions/use-cases/recall-steps.ts';
import { AS_OF, aUser } from '../support/fixtures.ts';
import {
  INACTIVE_20_DAYS,
  openSendStep,
  outboxItems,
  putUsers,
  readRecall,
  runRecallToEnd,
  sentMessages,
  startRecallLikeScan,
  statePath,
  useTestRuntime,
} from '../support/runtime.ts';

// Retries and held messages: whatever happens between the provider and the ledger, a step goes out once.

describe('a send whose result could not be recorded', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('is not sent again when the step is retried', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'n-sms', 'sms');
    // The provider takes the SMS, then the ledger write is throttled.
    const markSent = deps.ledger.markSent.bind(deps.ledger);
    deps.ledger.markSent = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    // The task fails, so the workflow retries it: answering `sent` would leave the step `sending`.
    const first = await sendStep(input, deps).catch((e: unknown) => e);
    deps.ledger.markSent = markSent;
    const retried = await sendStep(input, deps);

    expect(first).toMatchObject({ name: 'ThrottlingException' });
    // The retry cannot tell this from a refusal whose record failed: in doubt, never sent again.
    expect(retried).toMatchObject({
      result: 'unknown',
      detail: 'an earlier attempt may have sent it; not sent again',
    });
    expect(await outboxItems(rt, { recallId: input.recallId, channel: 'sms' })).toHaveLength(1);
    expect((await rt.ledger.get(input.recallId, 'sms'))?.status).toBe('unknown');
  });

  it('keeps one in-app message when the in-app step is retried after a failure', async () => {
    const { rt } = env;
    const { deps, input } = await openSendStep(rt, 'n-inapp', 'in_app');
    const deliver = deps.inbox.deliver.bind(deps.inbox);
    deps.inbox.deliver = async (message) => {
      await deliver(message);
      throw Object.assign(new Error('connection reset'), { name: 'TimeoutError' });
    };
    await expect(sendStep(input, deps)).rejects.toMatchObject({ name: 'DeliveryFailed' });
    deps.inbox.deliver = deliver;
    await rt.advanceTo(addHours(AS_OF.toISOString(), 1));
    await expect(sendStep(input, deps)).resolves.toMatchObject({ result: 'sent' });
    expect((await rt.inbox.list('n-inapp')).messages).toHaveLength(1);
  });
});

describe('a message due in quiet hours', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('is held until sending hours and then sent on the same channel', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'q-moved', ...INACTIVE_20_DAYS }));
    const started = await startRecallLikeScan(rt, 'q-moved', { at: AS_OF.toISOString() });
    expect(started.status).toBe('started');
    const recallId = (started as { recallId: string }).recallId;
    // The user moves to London during the in-app wait: the push falls due at 01:00 London time.
    await rt.clients.doc.send(
      new UpdateCommand({
        TableName: rt.tables.Users,
        Key: { userId: 'q-moved' },
        UpdateExpression: 'SET #tz = :tz',
        ExpressionAttributeNames: { '#tz': 'timeZone' },
        ExpressionAttributeValues: { ':tz': 'Europe/London' },
      }),
    );
    const execution = await runRecallToEnd(rt, recallId);

    const pushSends = statePath(execution).filter((s) => s === 'Send push notification');
    expect(pushSends).toHaveLength(2);
    const push = (await sentMessages(rt, recallId)).filter((m) => m.channel === 'push');
    expect(push).toHaveLength(1);
    // 48 h after the 01:00Z in-app message is 01:00 in London: held to 08:00 London (08:00Z in November).
    expect(push[0]!.sentAt).toBe('2026-11-26T08:00:00.000Z');
    const recall = await readRecall(rt, recallId);
    expect(recall.steps.map((s) => [s.step, s.result])).toEqual([
      ['in_app', 'sent'],
      ['push', 'deferred'],
      ['push', 'sent'],
      ['sms', 'sent'],
    ]);
    expect(recall.outcome).toBe('not_returned');
  });
});
