import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../functions/adapters/activity-log.ts';
import { Inbox, type InboxMessage, inboxMessageId } from '../../functions/adapters/inbox.ts';
import { MessageLedger } from '../../functions/adapters/message-ledger.ts';
import { type RecallRecord, RecallRepository } from '../../functions/adapters/recall-repository.ts';
import { type RewardRecord, Rewards, rewardIdFor } from '../../functions/adapters/rewards.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';

// The recall's record adapters against dynalite, on tables made from the synthesized stack.
// One file, so the stack is synthesized once for all five (the User repository has its own file).
const dynamo = useLocalDynamo();
let ledger: MessageLedger;
let inbox: Inbox;
let rewards: Rewards;
let log: ActivityLog;
let recalls: RecallRepository;

beforeAll(async () => {
  const wanted = ['Events', 'Inbox', 'Messages', 'Recalls', 'Rewards'];
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => wanted.includes(d.name));
  expect(defs.map((d) => d.name).sort()).toEqual(wanted);
  const tables = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  const named = (name: string) => tables.find((t) => t.name === dynamo.tablePrefix + name)!.name;
  ledger = new MessageLedger(dynamo.doc, named('Messages'));
  inbox = new Inbox(dynamo.doc, named('Inbox'));
  rewards = new Rewards(dynamo.doc, named('Rewards'));
  log = new ActivityLog(dynamo.doc, named('Events'));
  recalls = new RecallRepository(dynamo.doc, named('Recalls'));
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
    await expect(ledger.claim('rc-1', 'sms', 'u-1', T0)).resolves.toEqual({
      kind: 'claimed',
      attempt: 1,
      claimedAt: T0,
    });
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

  it('answers taken with what was sent once the step is marked sent', async () => {
    await ledger.claim('rc-2', 'push', 'u-2', T0);
    await ledger.markSent('rc-2', 'push', sent(T1));

    const again = await ledger.claim('rc-2', 'push', 'u-2', T2);

    expect(again).toEqual({
      kind: 'taken',
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

    await expect(ledger.claim('rc-3', 'sms', 'u-3', T1)).resolves.toEqual({
      kind: 'claimed',
      attempt: 2,
      claimedAt: T0,
    });
    expect(await ledger.get('rc-3', 'sms')).toMatchObject({ status: 'sending', attempts: 2, claimedAt: T0 });

    await ledger.markSent('rc-3', 'sms', sent(T2));
    await expect(ledger.claim('rc-3', 'sms', 'u-3', T2)).resolves.toMatchObject({ kind: 'taken' });
  });

  it('does not hand out a step whose earlier attempt crashed while sending: it may have gone out', async () => {
    await ledger.claim('rc-4', 'in_app', 'u-4', T0);
    await expect(ledger.claim('rc-4', 'in_app', 'u-4', T1)).resolves.toMatchObject({
      kind: 'taken',
      record: { status: 'sending', attempts: 1, claimedAt: T0 },
    });
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

function message(userId: string, day: number, recallId = `rc-${day}`): InboxMessage {
  const createdAt = `2026-11-${String(day).padStart(2, '0')}T01:00:00.000Z`;
  return {
    userId,
    messageId: inboxMessageId(createdAt, recallId, 'in_app'),
    recallId,
    title: `title ${day}`,
    body: `body ${day}`,
    createdAt,
  };
}

describe('Inbox', () => {
  it('derives a sortable message id from creation time, recall and step', () => {
    expect(inboxMessageId('2026-11-24T01:00:00.000Z', 'rc-1', 'in_app')).toBe(
      '2026-11-24T01:00:00.000Z#rc-1#in_app',
    );
  });

  it('lists newest first, page by page, and only that user', async () => {
    for (const day of [10, 14, 11, 13, 12]) await inbox.deliver(message('u-list', day));
    await inbox.deliver(message('u-else', 15));

    const first = await inbox.list('u-list', 2);
    expect(first.messages.map((m) => m.title)).toEqual(['title 14', 'title 13']);
    expect(first.nextToken).toBeTypeOf('string');
    expect(first.nextToken).not.toContain('#');

    const second = await inbox.list('u-list', 2, first.nextToken);
    expect(second.messages.map((m) => m.title)).toEqual(['title 12', 'title 11']);

    const third = await inbox.list('u-list', 2, second.nextToken);
    expect(third.messages.map((m) => m.title)).toEqual(['title 10']);
    expect(third).not.toHaveProperty('nextToken');

    const all = await inbox.list('u-list');
    expect(all.messages).toHaveLength(5);
    expect(all.messages[0]).toEqual(message('u-list', 14));
  });

  it('answers an empty page for a user with no messages', async () => {
    await expect(inbox.list('u-none')).resolves.toEqual({ messages: [] });
  });

  it('delivers once: a retried send does not overwrite the message', async () => {
    const first = message('u-dup', 20);
    await inbox.deliver(first);
    await inbox.deliver({ ...first, title: 'changed on retry' });

    const page = await inbox.list('u-dup');
    expect(page.messages).toEqual([first]);
  });

  it('marks a message opened once and answers it with its recall', async () => {
    const m = message('u-open', 21, 'rc-open');
    await inbox.deliver(m);

    const opened = await inbox.markOpened('u-open', m.messageId, '2026-11-21T08:00:00.000Z');
    expect(opened).toEqual({ ...m, openedAt: '2026-11-21T08:00:00.000Z' });

    const again = await inbox.markOpened('u-open', m.messageId, '2026-11-22T08:00:00.000Z');
    expect(again?.openedAt).toBe('2026-11-21T08:00:00.000Z');
  });

  it('answers undefined for an unknown message and does not create one', async () => {
    expect(await inbox.markOpened('u-open', 'no-such-id', '2026-11-21T08:00:00.000Z')).toBeUndefined();
    expect(await inbox.markOpened('u-ghost', 'no-such-id', '2026-11-21T08:00:00.000Z')).toBeUndefined();
    expect((await inbox.list('u-ghost')).messages).toEqual([]);
  });

  it('finds the in-app message of a recall', async () => {
    await inbox.deliver(message('u-rc', 5, 'rc-a'));
    await inbox.deliver(message('u-rc', 6, 'rc-b'));
    expect((await inbox.forRecall('u-rc', 'rc-a'))?.title).toBe('title 5');
    expect(await inbox.forRecall('u-rc', 'rc-none')).toBeUndefined();
  });
});

const ISSUED = '2026-11-24T01:00:00.000Z';
const EXPIRES = '2026-12-08T01:00:00.000Z';

function reward(recallId: string, userId: string, overrides: Partial<RewardRecord> = {}): RewardRecord {
  return {
    rewardId: rewardIdFor(recallId),
    recallId,
    userId,
    amountFen: 5_000,
    unlockInvestFen: 100_000,
    issuedAt: ISSUED,
    expiresAt: EXPIRES,
    status: 'open',
    ...overrides,
  };
}

describe('Rewards', () => {
  it('issues one reward per recall: a retried Prepare gets the first one back', async () => {
    const first = reward('rc-once', 'u-once');
    expect(rewardIdFor('rc-once')).toBe('rw-rc-once');

    await expect(rewards.issueOnce(first)).resolves.toEqual(first);
    await expect(rewards.issueOnce({ ...first, amountFen: 99_999, issuedAt: EXPIRES })).resolves.toEqual(
      first,
    );

    const out = await dynamo.doc.send(
      new ScanCommand({
        TableName: rewards.tableName,
        FilterExpression: 'recallId = :r',
        ExpressionAttributeValues: { ':r': 'rc-once' },
      }),
    );
    expect(out.Items).toEqual([first]);
  });

  describe('unlockFor', () => {
    it('unlocks an open reward whose amount is met before it expires, once', async () => {
      await rewards.issueOnce(reward('rc-u1', 'u-unlock'));

      const unlocked = await rewards.unlockFor('u-unlock', 100_000, '2026-12-01T00:00:00.000Z', 'ev-1');

      const expected = {
        ...reward('rc-u1', 'u-unlock'),
        status: 'unlocked',
        unlockedAt: '2026-12-01T00:00:00.000Z',
        unlockedBy: 'ev-1',
      };
      expect(unlocked).toEqual([expected]);
      expect(await rewards.get('rw-rc-u1')).toEqual(expected);

      // Already unlocked: a second qualifying investment unlocks nothing and changes nothing.
      expect(await rewards.unlockFor('u-unlock', 500_000, '2026-12-02T00:00:00.000Z', 'ev-2')).toEqual([]);
      expect((await rewards.get('rw-rc-u1'))?.unlockedBy).toBe('ev-1');
    });

    it.each([
      ['the amount is below the condition', 99_999, '2026-12-01T00:00:00.000Z'],
      ['the reward has expired', 100_000, '2026-12-08T01:00:00.001Z'],
      ['the investment predates the reward', 100_000, '2026-11-24T00:59:59.999Z'],
    ])('leaves the reward open when %s', async (_label, investFen, at) => {
      const recallId = `rc-no-${investFen}-${at}`;
      const userId = `u-no-${at}`;
      await rewards.issueOnce(reward(recallId, userId));

      expect(await rewards.unlockFor(userId, investFen, at, 'ev-x')).toEqual([]);
      expect((await rewards.get(rewardIdFor(recallId)))?.status).toBe('open');
    });

    it('unlocks at the expiry instant itself', async () => {
      await rewards.issueOnce(reward('rc-edge', 'u-edge'));
      const unlocked = await rewards.unlockFor('u-edge', 100_000, EXPIRES, 'ev-edge');
      expect(unlocked.map((r) => r.rewardId)).toEqual(['rw-rc-edge']);
    });

    it('unlocks only the rewards of that user whose conditions this investment meets', async () => {
      await rewards.issueOnce(reward('rc-m1', 'u-multi', { unlockInvestFen: 50_000 }));
      await rewards.issueOnce(reward('rc-m2', 'u-multi', { unlockInvestFen: 1_000_000 }));
      await rewards.issueOnce(reward('rc-m3', 'u-other', { unlockInvestFen: 10 }));

      const unlocked = await rewards.unlockFor('u-multi', 200_000, '2026-11-30T00:00:00.000Z', 'ev-m');

      expect(unlocked.map((r) => r.rewardId)).toEqual(['rw-rc-m1']);
      expect((await rewards.get('rw-rc-m2'))?.status).toBe('open');
      expect((await rewards.get('rw-rc-m3'))?.status).toBe('open');
      expect((await rewards.forUser('u-multi')).map((r) => r.rewardId).sort()).toEqual([
        'rw-rc-m1',
        'rw-rc-m2',
      ]);
    });

    it('unlocks a reward once when two investments race for it', async () => {
      await rewards.issueOnce(reward('rc-race', 'u-race'));

      const [a, b] = await Promise.all([
        rewards.unlockFor('u-race', 200_000, '2026-11-30T00:00:00.000Z', 'ev-a'),
        rewards.unlockFor('u-race', 300_000, '2026-11-30T00:00:01.000Z', 'ev-b'),
      ]);

      expect(a.length + b.length).toBe(1);
      const stored = await rewards.get('rw-rc-race');
      expect(stored?.status).toBe('unlocked');
      expect(stored?.unlockedBy).toBe([...a, ...b][0]!.unlockedBy);
    });
  });
});

const event = { eventId: 'ev-1', userId: 'u-1', type: 'login', at: '2026-11-24T01:00:00.000Z' };
const RECEIVED = new Date('2026-11-24T02:00:00.000Z');

describe('ActivityLog', () => {
  it('remembers an applied event once and keeps it 90 days from its arrival through the TTL attribute', async () => {
    expect(await log.seen('ev-1')).toBe(false);
    // Back-dated by three days: the expiry still counts from when it arrived.
    expect(await log.remember(event, new Date('2026-11-27T01:00:00.000Z'))).toBe(true);
    expect(await log.remember({ ...event, at: '2026-11-25T01:00:00.000Z' }, RECEIVED)).toBe(false);
    expect(await log.seen('ev-1')).toBe(true);

    const out = await dynamo.doc.send(new GetCommand({ TableName: log.tableName, Key: { eventId: 'ev-1' } }));
    expect(out.Item).toEqual({
      ...event,
      // 2026-11-27T01:00:00Z is 1795741200 s; plus 90 days.
      expiresAt: 1_795_741_200 + 90 * 86_400,
    });
  });

  it('gives exactly one of many concurrent attempts the first note', async () => {
    const e = { ...event, eventId: 'ev-race' };
    const results = await Promise.all(Array.from({ length: 10 }, () => log.remember(e, RECEIVED)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

function episode(recallId: string, userId: string, startedAt: string): RecallRecord {
  return {
    recallId,
    userId,
    trigger: 'scheduled',
    level: 'high',
    startedAt,
    reasonCodes: ['inactive_login', 'low_balance'],
    holdout: false,
    steps: [],
  };
}

describe('RecallRepository', () => {
  it('creates an episode once; a second create leaves the first untouched', async () => {
    const first = episode('rc-create', 'u-rr', '2026-11-24T01:00:00.000Z');
    expect(await recalls.createOnce(first)).toBe(true);
    expect(await recalls.createOnce({ ...first, level: 'low', reasonCodes: [] })).toBe(false);
    expect(await recalls.get('rc-create')).toEqual(first);
  });

  it('records the execution, the plan and the reward', async () => {
    await recalls.createOnce(episode('rc-plan', 'u-rr', '2026-11-24T01:00:00.000Z'));
    const plan = {
      route: 'escalate' as const,
      channels: ['in_app' as const, 'sms' as const],
      strategies: [],
    };
    const arn = 'arn:aws:states:ap-east-1:123456789012:execution:Recall:rc-plan';

    await recalls.setExecution('rc-plan', arn);
    await recalls.setPlan('rc-plan', plan, false, 'rw-rc-plan');

    expect(await recalls.get('rc-plan')).toMatchObject({
      executionArn: arn,
      plan,
      holdout: false,
      rewardId: 'rw-rc-plan',
    });
  });

  it('sets a holdout plan without a reward', async () => {
    await recalls.createOnce(episode('rc-hold', 'u-rr2', '2026-11-24T01:00:00.000Z'));
    await recalls.setPlan(
      'rc-hold',
      { route: 'skip', skipReason: 'holdout', channels: [], strategies: [] },
      true,
    );
    const stored = await recalls.get('rc-hold');
    expect(stored).toMatchObject({ holdout: true, plan: { route: 'skip', skipReason: 'holdout' } });
    expect(stored).not.toHaveProperty('rewardId');
  });

  it('appends steps in order, and concurrent appends are all kept', async () => {
    await recalls.createOnce(episode('rc-steps', 'u-rr', '2026-11-24T01:00:00.000Z'));
    await recalls.appendStep('rc-steps', { step: 'in_app', result: 'sent', at: '2026-11-24T01:00:00.000Z' });
    await recalls.appendStep('rc-steps', {
      step: 'push',
      result: 'failed',
      at: '2026-11-26T01:00:00.000Z',
      detail: 'x',
    });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        recalls.appendStep('rc-steps', { step: 'sms', result: `try-${i}`, at: '2026-11-29T01:00:00.000Z' }),
      ),
    );

    const steps = (await recalls.get('rc-steps'))!.steps;
    expect(steps.slice(0, 2)).toEqual([
      { step: 'in_app', result: 'sent', at: '2026-11-24T01:00:00.000Z' },
      { step: 'push', result: 'failed', at: '2026-11-26T01:00:00.000Z', detail: 'x' },
    ]);
    expect(
      steps
        .slice(2)
        .map((s) => s.result)
        .sort(),
    ).toEqual(['try-0', 'try-1', 'try-2', 'try-3', 'try-4']);
  });

  it('closes once: a redriven Close does not overwrite the outcome, and a missing episode is not created', async () => {
    await recalls.createOnce(episode('rc-close', 'u-rr', '2026-11-24T01:00:00.000Z'));

    expect(
      await recalls.close('rc-close', {
        outcome: 'returned',
        closedAt: '2026-11-27T01:00:00.000Z',
        returnedAt: '2026-11-26T12:00:00.000Z',
        returnedBy: 'login',
        winningStep: 'push',
        error: undefined,
      }),
    ).toBe(true);
    expect(
      await recalls.close('rc-close', {
        outcome: 'failed',
        closedAt: '2026-11-28T01:00:00.000Z',
        error: 'late',
      }),
    ).toBe(false);

    const closed = await recalls.get('rc-close');
    expect(closed).toMatchObject({
      outcome: 'returned',
      closedAt: '2026-11-27T01:00:00.000Z',
      returnedAt: '2026-11-26T12:00:00.000Z',
      returnedBy: 'login',
      winningStep: 'push',
    });
    expect(closed).not.toHaveProperty('error');

    expect(
      await recalls.close('rc-nowhere', { outcome: 'failed', closedAt: '2026-11-28T01:00:00.000Z' }),
    ).toBe(false);
    expect(await recalls.get('rc-nowhere')).toBeUndefined();
  });

  it('lists the episodes of a user through byUser', async () => {
    await recalls.createOnce(episode('rc-l1', 'u-list-rc', '2026-10-01T01:00:00.000Z'));
    await recalls.createOnce(episode('rc-l2', 'u-list-rc', '2026-11-20T01:00:00.000Z'));
    await recalls.createOnce(episode('rc-l3', 'u-other-rc', '2026-11-20T01:00:00.000Z'));

    const listed = await recalls.listForUser('u-list-rc');
    expect(listed.map((r) => r.recallId)).toEqual(['rc-l1', 'rc-l2']);
  });
});
