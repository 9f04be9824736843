import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { MessageLedger } from '../../functions/adapters/message-ledger.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';

const dynamo = useLocalDynamo();
let ledger: MessageLedger;

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => d.name === 'Messages');
  expect(defs).toHaveLength(1);
  const [table] = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  ledger = new MessageLedger(dynamo.doc, table!.name);
});

const T0 = '2026-11-24T01:00:00.000Z';
const T1 = '2026-11-24T01:00:20.000Z';
const T2 = '2026-11-24T01:01:20.000Z';

function sent(at: string) {
  return {
    sentAt: at,
    localTime: '2026-11-24 09:00',
    title: '好久不见',
    text: '回来看看您的账户',
    address: '+86****8000',
    providerMessageId: 'pm-1',
  };
}

describe('MessageLedger', () => {
  it('claims a new step as attempt 1 and records who and what it is for', async () => {
    await expect(ledger.claim('rc-1', 'sms', 'u-1', T0)).resolves.toEqual({ kind: 'claimed', attempt: 1 });
    expect(await ledger.get('rc-1', 'sms')).toEqual({
      recallId: 'rc-1',
      step: 'sms',
      userId: 'u-1',
      channel: 'sms',
      status: 'sending',
      attempts: 1,
      claimedAt: T0,
    });
  });

  it('answers already_sent with what was sent once the step is marked sent', async () => {
    await ledger.claim('rc-2', 'push', 'u-2', T0);
    await ledger.markSent('rc-2', 'push', sent(T1));

    const again = await ledger.claim('rc-2', 'push', 'u-2', T2);

    expect(again).toEqual({
      kind: 'already_sent',
      record: {
        recallId: 'rc-2',
        step: 'push',
        userId: 'u-2',
        channel: 'push',
        status: 'sent',
        attempts: 1,
        claimedAt: T0,
        ...sent(T1),
      },
    });
    // The refused claim left the record as it was.
    expect((await ledger.get('rc-2', 'push'))?.attempts).toBe(1);
  });

  it('lets a failed step be claimed again, counting attempts and keeping the first claim time', async () => {
    await ledger.claim('rc-3', 'sms', 'u-3', T0);
    await ledger.markFailed('rc-3', 'sms', 'ThrottledException: Rate exceeded');
    expect(await ledger.get('rc-3', 'sms')).toMatchObject({
      status: 'failed',
      lastError: 'ThrottledException: Rate exceeded',
    });

    await expect(ledger.claim('rc-3', 'sms', 'u-3', T1)).resolves.toEqual({ kind: 'claimed', attempt: 2 });
    expect(await ledger.get('rc-3', 'sms')).toMatchObject({ status: 'sending', attempts: 2, claimedAt: T0 });

    await ledger.markSent('rc-3', 'sms', sent(T2));
    await expect(ledger.claim('rc-3', 'sms', 'u-3', T2)).resolves.toMatchObject({ kind: 'already_sent' });
  });

  it('re-claims a step whose earlier attempt crashed while sending', async () => {
    await ledger.claim('rc-4', 'in_app', 'u-4', T0);
    await expect(ledger.claim('rc-4', 'in_app', 'u-4', T1)).resolves.toEqual({ kind: 'claimed', attempt: 2 });
  });

  it('never marks a sent step failed, and keeps error text to 500 characters', async () => {
    await ledger.claim('rc-5', 'sms', 'u-5', T0);
    await ledger.markFailed('rc-5', 'sms', 'x'.repeat(2_000));
    expect((await ledger.get('rc-5', 'sms'))?.lastError).toHaveLength(500);

    await ledger.claim('rc-5', 'sms', 'u-5', T1);
    await ledger.markSent('rc-5', 'sms', sent(T1));
    await expect(ledger.markFailed('rc-5', 'sms', 'late failure')).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    expect((await ledger.get('rc-5', 'sms'))?.status).toBe('sent');
  });

  it('stores null for an absent address and provider id', async () => {
    await ledger.claim('rc-6', 'in_app', 'u-6', T0);
    await ledger.markSent('rc-6', 'in_app', { sentAt: T0, localTime: '09:00', title: 't', text: 'b' });
    expect(await ledger.get('rc-6', 'in_app')).toMatchObject({ address: null, providerMessageId: null });
  });

  it('lists the steps of a recall', async () => {
    await ledger.claim('rc-7', 'in_app', 'u-7', T0);
    await ledger.claim('rc-7', 'push', 'u-7', T1);
    await ledger.claim('rc-7', 'sms', 'u-7', T2);
    const steps = await ledger.forRecall('rc-7');
    expect(steps.map((s) => s.step).sort()).toEqual(['in_app', 'push', 'sms']);
  });

  it('sentToUserSince reads only the sent messages of that user from `from` on, through byUser', async () => {
    // u-cap: three sent across two recalls, one still sending, one failed.
    await ledger.claim('rc-a', 'in_app', 'u-cap', '2026-11-10T01:00:00.000Z');
    await ledger.markSent('rc-a', 'in_app', sent('2026-11-10T01:00:00.000Z'));
    await ledger.claim('rc-a', 'push', 'u-cap', '2026-11-12T01:00:00.000Z');
    await ledger.markSent('rc-a', 'push', sent('2026-11-12T01:00:00.000Z'));
    await ledger.claim('rc-b', 'sms', 'u-cap', '2026-11-20T01:00:00.000Z');
    await ledger.markSent('rc-b', 'sms', sent('2026-11-20T01:00:00.000Z'));
    await ledger.claim('rc-b', 'in_app', 'u-cap', '2026-11-21T01:00:00.000Z');
    await ledger.claim('rc-b', 'push', 'u-cap', '2026-11-21T02:00:00.000Z');
    await ledger.markFailed('rc-b', 'push', 'PERMANENT_FAILURE');
    // Another user's message in the same window.
    await ledger.claim('rc-c', 'sms', 'u-other', '2026-11-20T01:00:00.000Z');
    await ledger.markSent('rc-c', 'sms', sent('2026-11-20T01:00:00.000Z'));

    const since = await ledger.sentToUserSince('u-cap', '2026-11-12T01:00:00.000Z');

    expect(since).toEqual([
      { channel: 'push', sentAt: '2026-11-12T01:00:00.000Z' },
      { channel: 'sms', sentAt: '2026-11-20T01:00:00.000Z' },
    ]);
    expect(await ledger.sentToUserSince('u-cap', '2026-11-01T00:00:00.000Z')).toHaveLength(3);
    expect(await ledger.sentToUserSince('u-nobody', '2026-11-01T00:00:00.000Z')).toEqual([]);
  });
});
