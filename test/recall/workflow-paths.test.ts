import { describe, expect, it } from 'vitest';
import { addHours } from '../../functions/domain/time.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import type { Runtime } from '../../local/runtime.ts';
import { countTransitions, type LocalExecution } from '../../local/workflow-engine.ts';
import { aUser, daysBefore } from '../support/fixtures.ts';
import {
  applyActivity,
  enteredAt,
  eventsFor,
  executionOf,
  hoursBetween,
  ledgerOf,
  loggedBy,
  nextShanghaiTime,
  outboxItems,
  putUsers,
  readRecall,
  readUser,
  rewardsOf,
  runRecallToEnd,
  sentMessages,
  startRecallLikeScan,
  statePath,
  useTestRuntime,
} from '../support/runtime.ts';

// The synthesized Recall state machine, executed locally with the real handlers, path by path.

const HEAD = ['Prepare the recall', 'Wait for sending hours', 'Which way does the recall go?'];
const CLOSE = 'Close the recall';
const IN_APP = {
  send: 'Send in-app message',
  wait: 'Wait for a reply to the in-app message',
  check: 'Has the user come back after the in-app message?',
  decide: 'Did the in-app message bring the user back?',
};
const PUSH = {
  send: 'Send push notification',
  wait: 'Wait for a reply to the push notification',
  check: 'Has the user come back after the push notification?',
  decide: 'Did the push notification bring the user back?',
};
const SMS = {
  send: 'Send SMS',
  wait: 'Wait for a reply to the SMS',
  check: 'Has the user come back after the SMS?',
  decide: 'Did the SMS bring the user back?',
};
type StepStates = typeof IN_APP;
const step = (s: StepStates) => [s.send, s.wait, s.check, s.decide];
/** A step whose send sent nothing (skipped or caught): its wait ends at once (or is jumped over by a Catch). */
const FULL_ESCALATION = [...HEAD, ...step(IN_APP), ...step(PUSH), ...step(SMS), CLOSE];

const TZ = 'Asia/Shanghai';
/** `YYYY-MM-DDTHH:MM:SS Asia/Shanghai` for an instant (UTC+8, no daylight saving). */
function shanghai(at: string): string {
  return `${new Date(Date.parse(at) + 8 * 3_600_000).toISOString().slice(0, 19)} ${TZ}`;
}

let phoneSeq = 0;
/**
 * At risk (low) as of `at`: no login or investment for 20 days (`inactive_login` is over 14), a healthy
 * balance, every channel consented and addressable. Phone and push token are unique per user, as the
 * outbox lists are shared.
 */
function lapsedUser(userId: string, at: string, overrides: Partial<UserRecord> = {}): UserRecord {
  const asOf = new Date(at);
  return aUser({
    userId,
    lastLoginAt: daysBefore(asOf, 20),
    lastInvestAt: daysBefore(asOf, 20),
    phone: `+86139${String(10_000_000 + ++phoneSeq).slice(-8)}`,
    pushAddress: `token-${userId}-abcdef`,
    ...overrides,
  });
}

/** Puts the user and starts a scheduled recall for them at `at` (advancing the clock there). */
async function begin(rt: Runtime, user: UserRecord, at: string): Promise<string> {
  await putUsers(rt, user);
  const started = await startRecallLikeScan(rt, user.userId, { at });
  expect(started.status).toBe('started');
  if (started.status !== 'started') throw new Error('not started');
  expect(started.recallId).toBe(`r-${at.slice(0, 10).replaceAll('-', '')}-${user.userId}`);
  return started.recallId;
}

function closeOutput(execution: LocalExecution) {
  return (execution.output as { close: { outcome: Record<string, unknown> } }).close.outcome;
}

describe('recall paths under the default escalation', () => {
  // Holdout off so that no user of this block is drawn into it by chance; everything else default.
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 0 } } });

  it('stops after the in-app message when the user logs in before the 48 h wait ends', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const recallId = await begin(rt, lapsedUser('p-inapp', t0), t0);
    const loginAt = addHours(t0, 30);
    expect(await applyActivity(rt, { userId: 'p-inapp', type: 'login', at: loginAt })).toMatchObject({
      status: 'applied',
    });

    const execution = await runRecallToEnd(rt, recallId);

    expect(execution.status).toBe('SUCCEEDED');
    expect(statePath(execution)).toEqual([...HEAD, ...step(IN_APP), CLOSE]);
    expect(enteredAt(execution, IN_APP.send)).toBe(t0);
    expect(enteredAt(execution, IN_APP.check)).toBe(addHours(t0, 48));
    const recall = await readRecall(rt, recallId);
    expect(recall).toMatchObject({
      outcome: 'returned',
      winningStep: 'in_app',
      returnedAt: loginAt,
      returnedBy: 'login',
      holdout: false,
      closedAt: addHours(t0, 48),
      steps: [{ step: 'in_app', result: 'sent', at: t0 }],
      plan: { route: 'escalate', channels: ['in_app', 'push', 'sms'] },
    });
    const sent = await sentMessages(rt, recallId);
    expect(sent.map((m) => [m.channel, m.sentAt, m.localTime])).toEqual([['in_app', t0, shanghai(t0)]]);
    expect(sent[0]!.text!.length).toBeGreaterThan(10);
    expect(sent[0]!.title!.length).toBeGreaterThan(2);
    const inbox = await rt.inbox.forRecall('p-inapp', recallId);
    expect(inbox).toMatchObject({ title: sent[0]!.title, body: sent[0]!.text, createdAt: t0 });
    expect(await outboxItems(rt, { recallId })).toEqual([]);
    expect(closeOutput(execution)).toEqual({
      recallId,
      userId: 'p-inapp',
      holdout: false,
      outcome: 'returned',
      closedAt: addHours(t0, 48),
      winningStep: 'in_app',
      returnedAt: loginAt,
      messagesSent: 1,
    });
    const user = await readUser(rt, 'p-inapp');
    expect(user.activeRecallId).toBeUndefined();
    expect(user.lastRecallOutcome).toBe('returned');
    expect(user.lastRecallClosedAt).toBe(addHours(t0, 48));
    expect(user.relapseWatchUntil).toBe(addHours(t0, 48 + 30 * 24));
  });

  it('counts opening the in-app message as a reply', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '11:15');
    const recallId = await begin(rt, lapsedUser('p-opened', t0), t0);
    const message = await rt.inbox.forRecall('p-opened', recallId);
    expect(message?.openedAt).toBeUndefined();
    const openedAt = addHours(t0, 5);
    expect(
      await applyActivity(rt, {
        userId: 'p-opened',
        type: 'message_opened',
        messageId: message!.messageId,
        at: openedAt,
      }),
    ).toMatchObject({ status: 'applied' });

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual([...HEAD, ...step(IN_APP), CLOSE]);
    const recall = await readRecall(rt, recallId);
    expect(recall).toMatchObject({
      outcome: 'returned',
      winningStep: 'in_app',
      returnedAt: openedAt,
      returnedBy: 'message_opened',
      closedAt: addHours(t0, 48),
    });
    expect((await sentMessages(rt, recallId)).map((m) => m.channel)).toEqual(['in_app']);
    expect(await outboxItems(rt, { recallId })).toEqual([]);
  });

  it('stops after the push notification when the user comes back during its 72 h wait', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '09:30');
    const recallId = await begin(rt, lapsedUser('p-push', t0), t0);
    const loginAt = addHours(t0, 48 + 50);
    await applyActivity(rt, { userId: 'p-push', type: 'login', at: loginAt });

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual([...HEAD, ...step(IN_APP), ...step(PUSH), CLOSE]);
    expect(enteredAt(execution, PUSH.send)).toBe(addHours(t0, 48));
    expect(enteredAt(execution, PUSH.check)).toBe(addHours(t0, 48 + 72));
    expect(await readRecall(rt, recallId)).toMatchObject({
      outcome: 'returned',
      winningStep: 'push',
      returnedAt: loginAt,
      returnedBy: 'login',
      closedAt: addHours(t0, 120),
      steps: [
        { step: 'in_app', result: 'sent', at: t0 },
        { step: 'push', result: 'sent', at: addHours(t0, 48) },
      ],
    });
    const sent = await sentMessages(rt, recallId);
    expect(sent.map((m) => [m.channel, m.sentAt, m.localTime])).toEqual([
      ['in_app', t0, shanghai(t0)],
      ['push', addHours(t0, 48), shanghai(addHours(t0, 48))],
    ]);
    const outbox = await outboxItems(rt, { recallId });
    expect(outbox.map((o) => [o.channel, o.step, o.at, o.address])).toEqual([
      ['push', 'push', addHours(t0, 48), 'token-…'],
    ]);
    expect(outbox[0]!.title).toBe(sent[1]!.title);
    expect(outbox[0]!.text).toBe(sent[1]!.text);
  });

  it('stops after the SMS when the user comes back during its 168 h wait', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '14:00');
    const user = lapsedUser('p-sms', t0);
    const recallId = await begin(rt, user, t0);
    const investAt = addHours(t0, 120 + 100);
    await applyActivity(rt, {
      userId: 'p-sms',
      type: 'investment',
      amountFen: 200_000,
      productId: 'fund-7',
      bonusRate: false,
      at: investAt,
    });

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    expect(await readRecall(rt, recallId)).toMatchObject({
      outcome: 'returned',
      winningStep: 'sms',
      returnedAt: investAt,
      returnedBy: 'investment',
      closedAt: addHours(t0, 120 + 168),
    });
    const sms = await outboxItems(rt, { recallId, channel: 'sms' });
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({
      step: 'sms',
      at: addHours(t0, 120),
      address: `+86****${user.phone!.slice(-4)}`,
    });
    expect(sms[0]!.text.length).toBeGreaterThan(10);
  });

  it('runs the whole escalation for a user who never comes back, in at most 16 transitions', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '20:30');
    const recallId = await begin(rt, lapsedUser('p-never', t0), t0);

    const execution = await runRecallToEnd(rt, recallId);

    expect(execution.status).toBe('SUCCEEDED');
    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    expect(countTransitions(execution.history)).toBe(16);
    expect(countTransitions(execution.history)).toBeLessThanOrEqual(16);
    const sent = await sentMessages(rt, recallId);
    expect(sent.map((m) => m.channel)).toEqual(['in_app', 'push', 'sms']);
    expect(hoursBetween(sent[0]!.sentAt!, sent[1]!.sentAt!)).toBe(48);
    expect(hoursBetween(sent[1]!.sentAt!, sent[2]!.sentAt!)).toBe(72);
    // 20:30 local is outside the quiet hours, and whole days later it still is.
    for (const m of sent) {
      expect(m.localTime).toBe(shanghai(m.sentAt!));
      expect(m.localTime!.slice(11, 16)).toBe('20:30');
      expect(m.text!.length).toBeGreaterThan(10);
    }
    const recall = await readRecall(rt, recallId);
    expect(recall).toMatchObject({
      outcome: 'not_returned',
      holdout: false,
      closedAt: addHours(t0, 48 + 72 + 168),
      steps: [
        { step: 'in_app', result: 'sent', at: t0 },
        { step: 'push', result: 'sent', at: addHours(t0, 48) },
        { step: 'sms', result: 'sent', at: addHours(t0, 120) },
      ],
    });
    expect(recall.winningStep).toBeUndefined();
    expect(recall.returnedAt).toBeUndefined();
    expect(closeOutput(execution)).toMatchObject({ outcome: 'not_returned', messagesSent: 3 });
    expect((await outboxItems(rt, { recallId })).map((o) => o.channel)).toEqual(['push', 'sms']);
    const user = await readUser(rt, 'p-never');
    expect(user.lastRecallOutcome).toBe('not_returned');
    expect(user.relapseWatchUntil).toBeUndefined();
  });

  it('goes SMS-first for a high-risk user and sends nothing else', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const asOf = new Date(t0);
    const user = lapsedUser('p-high', t0, {
      lastLoginAt: daysBefore(asOf, 16),
      lastInvestAt: daysBefore(asOf, 16),
      balanceFen: 9_999,
    });
    const recallId = await begin(rt, user, t0);
    expect(await readRecall(rt, recallId)).toMatchObject({ level: 'high' });

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual([...HEAD, ...step(SMS), CLOSE]);
    const recall = await readRecall(rt, recallId);
    expect(recall).toMatchObject({
      outcome: 'not_returned',
      plan: { route: 'sms_first', channels: ['sms'] },
      steps: [{ step: 'sms', result: 'sent', at: t0 }],
      closedAt: addHours(t0, 168),
    });
    const sent = await sentMessages(rt, recallId);
    expect(sent.map((m) => [m.channel, m.sentAt, m.localTime])).toEqual([['sms', t0, shanghai(t0)]]);
    expect((await outboxItems(rt, { recallId })).map((o) => o.channel)).toEqual(['sms']);
    expect(await rt.inbox.forRecall('p-high', recallId)).toBeUndefined();
  });

  it('leaves push out of the plan when the user never consented to it', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const recallId = await begin(
      rt,
      lapsedUser('p-nopush', t0, { consent: { inApp: true, push: false, sms: true } }),
      t0,
    );

    const execution = await runRecallToEnd(rt, recallId);

    // The push state still runs, answers not_planned at once, and the escalation moves on.
    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    expect(enteredAt(execution, PUSH.send)).toBe(addHours(t0, 48));
    expect(enteredAt(execution, SMS.send)).toBe(addHours(t0, 48));
    const recall = await readRecall(rt, recallId);
    expect(recall.plan).toMatchObject({ route: 'escalate', channels: ['in_app', 'sms'] });
    expect(recall.steps.map((s) => [s.step, s.result])).toEqual([
      ['in_app', 'sent'],
      ['sms', 'sent'],
    ]);
    expect((execution.output as { push: { result: string } }).push.result).toBe('not_planned');
    expect((await sentMessages(rt, recallId)).map((m) => m.channel)).toEqual(['in_app', 'sms']);
    expect(await outboxItems(rt, { recallId, channel: 'push' })).toEqual([]);
    expect(recall.outcome).toBe('not_returned');
  });

  it('records no_consent when push consent is withdrawn mid-recall, and moves on to SMS at once', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const user = lapsedUser('p-revoked', t0);
    const recallId = await begin(rt, user, t0);
    await rt.advanceTo(addHours(t0, 24));
    await rt.users.put({
      ...(await readUser(rt, user.userId)),
      consent: { inApp: true, push: false, sms: true },
    });

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    const pushAt = addHours(t0, 48);
    expect(enteredAt(execution, SMS.send)).toBe(pushAt);
    const recall = await readRecall(rt, recallId);
    expect(recall.steps).toEqual([
      { step: 'in_app', result: 'sent', at: t0 },
      { step: 'push', result: 'no_consent', at: pushAt },
      { step: 'sms', result: 'sent', at: pushAt },
    ]);
    expect(recall).toMatchObject({ outcome: 'not_returned', closedAt: addHours(pushAt, 168) });
    expect(await outboxItems(rt, { recallId, channel: 'push' })).toEqual([]);
    expect((await ledgerOf(rt, recallId)).map((m) => m.step)).toEqual(['in_app', 'sms']);
  });

  it('leaves push out when there is no push address, and records no_address when it disappears', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const { pushAddress: _none, ...noToken } = lapsedUser('p-noaddr', t0);
    const neverId = await begin(rt, noToken, t0);
    const lostId = await begin(rt, lapsedUser('p-lostaddr', t0), t0);
    await rt.advanceTo(addHours(t0, 24));
    // The app unregistered the device while the recall waited after the in-app message.
    const { pushAddress: _gone, ...withoutToken } = await readUser(rt, 'p-lostaddr');
    await rt.users.put(withoutToken);

    const never = await runRecallToEnd(rt, neverId);
    const lost = await runRecallToEnd(rt, lostId);

    expect(statePath(never)).toEqual(FULL_ESCALATION);
    expect(statePath(lost)).toEqual(FULL_ESCALATION);
    const neverRecall = await readRecall(rt, neverId);
    expect(neverRecall.plan?.channels).toEqual(['in_app', 'sms']);
    expect(neverRecall.steps.map((s) => [s.step, s.result])).toEqual([
      ['in_app', 'sent'],
      ['sms', 'sent'],
    ]);
    const lostRecall = await readRecall(rt, lostId);
    expect(lostRecall.plan?.channels).toEqual(['in_app', 'push', 'sms']);
    expect(lostRecall.steps).toEqual([
      { step: 'in_app', result: 'sent', at: t0 },
      { step: 'push', result: 'no_address', at: addHours(t0, 48) },
      { step: 'sms', result: 'sent', at: addHours(t0, 48) },
    ]);
    expect(await outboxItems(rt, { recallId: lostId, channel: 'push' })).toEqual([]);
    expect(await outboxItems(rt, { recallId: neverId, channel: 'push' })).toEqual([]);
  });

  it('holds a recall started at 23:00 Shanghai until 08:00 local before the first message', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '23:00');
    const eight = nextShanghaiTime(rt, '08:00', t0);
    expect(hoursBetween(t0, eight)).toBe(9);
    const recallId = await begin(rt, lapsedUser('p-night', t0), t0);
    // Parked in the first wait: nothing sent yet.
    expect(await ledgerOf(rt, recallId)).toEqual([]);
    await rt.advanceTo(addHours(eight, -0.01));
    expect(await ledgerOf(rt, recallId)).toEqual([]);

    const execution = await runRecallToEnd(rt, recallId);

    expect(enteredAt(execution, 'Wait for sending hours')).toBe(t0);
    expect(enteredAt(execution, 'Which way does the recall go?')).toBe(eight);
    expect(enteredAt(execution, IN_APP.send)).toBe(eight);
    const sent = await sentMessages(rt, recallId);
    expect(sent.map((m) => [m.channel, m.sentAt])).toEqual([
      ['in_app', eight],
      ['push', addHours(eight, 48)],
      ['sms', addHours(eight, 120)],
    ]);
    for (const m of sent) expect(m.localTime!.slice(11)).toBe(`08:00:00 ${TZ}`);
    expect((await readRecall(rt, recallId)).startedAt).toBe(t0);
  });

  it('opens one recall and one execution when the same day is started twice', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '09:00');
    const recallId = await begin(rt, lapsedUser('p-twice', t0), t0);
    const executionArn = executionOf(rt, recallId).arn;

    const again = await startRecallLikeScan(rt, 'p-twice', { at: t0 });
    expect(again).toMatchObject({ status: 'resumed', recallId, executionArn });
    // A later run of the same day's scan names the same recall and starts nothing new.
    const later = await startRecallLikeScan(rt, 'p-twice', { at: addHours(t0, 3) });
    expect(later).toMatchObject({ status: 'resumed', recallId, executionArn });

    const execution = await runRecallToEnd(rt, recallId);

    expect(rt.recallWorkflow.list().filter((e) => e.name.endsWith('-p-twice'))).toHaveLength(1);
    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    expect((await ledgerOf(rt, recallId)).map((m) => [m.step, m.status, m.attempts])).toEqual([
      ['in_app', 'sent', 1],
      ['push', 'sent', 1],
      ['sms', 'sent', 1],
    ]);
    expect((await outboxItems(rt, { recallId })).map((o) => o.channel)).toEqual(['push', 'sms']);
    expect((await readRecall(rt, recallId)).steps).toHaveLength(3);
    // Once closed, the same day's start meets the cool-down instead of a second recall.
    expect(await startRecallLikeScan(rt, 'p-twice', { at: t0 })).toEqual({ status: 'cooldown' });
  });

  it('retries a push that fails twice and sends it exactly once', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const recallId = await begin(rt, lapsedUser('p-flaky', t0), t0);
    let failures = 0;
    rt.outbox.fault = (channel, ref) => {
      if (channel !== 'push' || ref.recallId !== recallId || failures >= 2) return undefined;
      failures++;
      // Throttled before acceptance: a definite refusal, so the workflow may try again.
      return Object.assign(new Error(`rate exceeded ${failures}`), { name: 'ThrottlingException' });
    };
    let execution: LocalExecution;
    try {
      execution = await runRecallToEnd(rt, recallId);
    } finally {
      rt.outbox.fault = undefined;
    }

    expect(failures).toBe(2);
    expect(execution.status).toBe('SUCCEEDED');
    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    const retried = eventsFor(execution, PUSH.send, 'StateRetried');
    expect(retried.map((e) => [e.at, (e.data as { attempt: number }).attempt])).toEqual([
      [addHours(t0, 48), 1],
      [addHours(t0, 48), 2],
    ]);
    expect(countTransitions(execution.history)).toBe(18);
    const pushes = await outboxItems(rt, { recallId, channel: 'push' });
    expect(pushes).toHaveLength(1);
    const push = (await ledgerOf(rt, recallId)).find((m) => m.step === 'push');
    expect(push).toMatchObject({ status: 'sent', attempts: 3, sentAt: addHours(t0, 48) });
    const recall = await readRecall(rt, recallId);
    expect(recall.steps.filter((s) => s.step === 'push').map((s) => [s.result, s.detail])).toEqual([
      ['failed', 'attempt 1: ThrottlingException: rate exceeded 1'],
      ['failed', 'attempt 2: ThrottlingException: rate exceeded 2'],
      ['sent', undefined],
    ]);
    expect(recall.outcome).toBe('not_returned');
  });

  it('falls through to SMS when push delivery keeps failing, recording every failed attempt', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const recallId = await begin(rt, lapsedUser('p-down', t0), t0);
    let attempts = 0;
    rt.outbox.fault = (channel, ref) => {
      if (channel !== 'push' || ref.recallId !== recallId) return undefined;
      attempts++;
      return Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
    };
    let execution: LocalExecution;
    try {
      execution = await runRecallToEnd(rt, recallId);
    } finally {
      rt.outbox.fault = undefined;
    }

    // One attempt plus three retries, then the Catch goes straight to the check (no wait).
    expect(attempts).toBe(4);
    expect(statePath(execution)).toEqual([
      ...HEAD,
      ...step(IN_APP),
      PUSH.send,
      PUSH.check,
      PUSH.decide,
      ...step(SMS),
      CLOSE,
    ]);
    expect(eventsFor(execution, PUSH.send, 'StateRetried')).toHaveLength(3);
    expect(eventsFor(execution, PUSH.send, 'StateCaught')).toHaveLength(1);
    expect(enteredAt(execution, SMS.send)).toBe(addHours(t0, 48));
    const error = (execution.output as { push?: { Error: string } }).push;
    expect(error?.Error).toBe('DeliveryFailed');
    const recall = await readRecall(rt, recallId);
    expect(recall.steps.map((s) => [s.step, s.result])).toEqual([
      ['in_app', 'sent'],
      ['push', 'failed'],
      ['push', 'failed'],
      ['push', 'failed'],
      ['push', 'failed'],
      ['sms', 'sent'],
    ]);
    expect(recall.steps[4]!.detail).toBe('attempt 4: ThrottlingException: rate exceeded');
    expect((await ledgerOf(rt, recallId)).find((m) => m.step === 'push')).toMatchObject({
      status: 'failed',
      attempts: 4,
      lastError: 'ThrottlingException: rate exceeded',
    });
    expect(await outboxItems(rt, { recallId, channel: 'push' })).toEqual([]);
    expect(recall).toMatchObject({ outcome: 'not_returned' });
    expect(closeOutput(execution)).toMatchObject({ messagesSent: 2 });
  });

  it('closes the recall as failed when a step fails for a reason other than delivery', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const recallId = await begin(rt, lapsedUser('p-broken', t0), t0);
    await rt.advanceTo(addHours(t0, 24));
    // Someone writes an invalid record while the recall waits: the check cannot load the user.
    await rt.users.put({ ...(await readUser(rt, 'p-broken')), balanceFen: -1 });

    const execution = await runRecallToEnd(rt, recallId);

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.error).toBe('RecallFailed');
    expect(statePath(execution)).toEqual([
      ...HEAD,
      IN_APP.send,
      IN_APP.wait,
      IN_APP.check,
      'Close the recall as failed',
      'Recall failed',
    ]);
    // Not a transient error: no retry, straight to the failure closer.
    expect(eventsFor(execution, IN_APP.check, 'StateRetried')).toEqual([]);
    expect(enteredAt(execution, 'Close the recall as failed')).toBe(addHours(t0, 48));
    const recall = await readRecall(rt, recallId);
    expect(recall).toMatchObject({ outcome: 'failed', closedAt: addHours(t0, 48) });
    expect(recall.error).toMatch(/^InvalidUserRecord: .*balanceFen/);
    expect(recall.steps.map((s) => [s.step, s.result])).toEqual([['in_app', 'sent']]);
    expect(await outboxItems(rt, { recallId })).toEqual([]);
    const user = await rt.users.get('p-broken');
    expect(user?.activeRecallId).toBeUndefined();
    expect(user?.lastRecallOutcome).toBe('failed');
    expect(loggedBy(rt)).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'invalid user record in a recall',
        userId: 'p-broken',
      }),
    );
  });

  it('clears the stored push token the provider rejects as invalid', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const user = lapsedUser('p-badtoken', t0);
    rt.outbox.invalidTokens.add(user.pushAddress!);
    const recallId = await begin(rt, user, t0);

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    expect((await readUser(rt, 'p-badtoken')).pushAddress).toBeUndefined();
    const recall = await readRecall(rt, recallId);
    expect(recall.steps).toEqual([
      { step: 'in_app', result: 'sent', at: t0 },
      {
        step: 'push',
        result: 'invalid_address',
        at: addHours(t0, 48),
        detail: 'PERMANENT_FAILURE: token not registered',
      },
      { step: 'sms', result: 'sent', at: addHours(t0, 48) },
    ]);
    expect((await ledgerOf(rt, recallId)).find((m) => m.step === 'push')).toMatchObject({
      status: 'failed',
      lastError: 'PERMANENT_FAILURE: token not registered',
    });
    expect(await outboxItems(rt, { recallId, channel: 'push' })).toEqual([]);
  });

  it('skips SMS to a phone on the opt-out list', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const user = lapsedUser('p-optout', t0);
    rt.outbox.optedOut.add(user.phone!);
    const recallId = await begin(rt, user, t0);

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    const recall = await readRecall(rt, recallId);
    expect(recall.steps).toEqual([
      { step: 'in_app', result: 'sent', at: t0 },
      { step: 'push', result: 'sent', at: addHours(t0, 48) },
      { step: 'sms', result: 'opted_out', at: addHours(t0, 120) },
    ]);
    // Nothing was sent at the SMS step, so its wait ends at once and the recall closes.
    expect(recall).toMatchObject({ outcome: 'not_returned', closedAt: addHours(t0, 120) });
    expect(await outboxItems(rt, { recallId, channel: 'sms' })).toEqual([]);
    expect((await sentMessages(rt, recallId)).map((m) => m.channel)).toEqual(['in_app', 'push']);
  });

  it('issues one conditional reward to a lapsed high-value user and unlocks it on a ¥10,000 investment', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    // 15 days without login: inactive_login, yet not high risk (over 15 days with a low balance), so
    // the escalation starts in-app.
    const asOf = new Date(t0);
    const fifteenDays = { lastLoginAt: daysBefore(asOf, 15), lastInvestAt: daysBefore(asOf, 15) };
    const user = lapsedUser('p-whale', t0, {
      totalInvestedFen: 20_000_000,
      balanceFen: 9_000,
      ...fifteenDays,
    });
    const capped = lapsedUser('p-bigwhale', t0, {
      totalInvestedFen: 80_000_000,
      balanceFen: 0,
      ...fifteenDays,
    });
    const recallId = await begin(rt, user, t0);
    const cappedId = await begin(rt, capped, t0);

    const rewards = await rewardsOf(rt, 'p-whale');
    expect(rewards).toEqual([
      {
        rewardId: `rw-${recallId}`,
        recallId,
        userId: 'p-whale',
        amountFen: 200_000,
        unlockInvestFen: 1_000_000,
        issuedAt: t0,
        expiresAt: addHours(t0, 30 * 24),
        // Issued when the in-app message announcing it was sent, against that day's budget.
        status: 'open',
        budgetDay: t0.slice(0, 10),
      },
    ]);
    expect(await rewardsOf(rt, 'p-bigwhale')).toMatchObject([
      { amountFen: 500_000, unlockInvestFen: 1_000_000 },
    ]);
    expect(await readRecall(rt, recallId)).toMatchObject({
      rewardId: `rw-${recallId}`,
      plan: { strategies: [{ kind: 'conditional_reward', amountFen: 200_000, unlockInvestFen: 1_000_000 }] },
    });
    const [inApp] = await sentMessages(rt, recallId);
    expect(inApp!.title).toContain('¥2,000');
    expect(inApp!.text).toContain('¥10,000');

    // Too small an investment brings the user back but does not unlock the reward.
    const smallAt = addHours(t0, 60);
    expect(
      await applyActivity(rt, {
        userId: 'p-whale',
        type: 'investment',
        amountFen: 999_999,
        productId: 'fund-1',
        bonusRate: false,
        at: smallAt,
      }),
    ).toMatchObject({ status: 'applied', unlockedRewards: [] });
    const unlockAt = addHours(t0, 70);
    expect(
      await applyActivity(rt, {
        userId: 'p-whale',
        type: 'investment',
        eventId: 'inv-whale-10k',
        amountFen: 1_000_000,
        productId: 'fund-1',
        bonusRate: false,
        at: unlockAt,
      }),
    ).toEqual({ eventId: 'inv-whale-10k', status: 'applied', unlockedRewards: [`rw-${recallId}`] });

    const execution = await runRecallToEnd(rt, recallId);
    await runRecallToEnd(rt, cappedId);

    expect(statePath(execution)).toEqual([...HEAD, ...step(IN_APP), ...step(PUSH), CLOSE]);
    expect(await readRecall(rt, recallId)).toMatchObject({
      outcome: 'returned',
      winningStep: 'push',
      // The check reads lastInvestAt, so the latest investment before it, not the first, is recorded.
      returnedAt: unlockAt,
      returnedBy: 'investment',
    });
    expect(await rewardsOf(rt, 'p-whale')).toMatchObject([
      { rewardId: `rw-${recallId}`, status: 'unlocked', unlockedAt: unlockAt, unlockedBy: 'inv-whale-10k' },
    ]);
    expect(await rewardsOf(rt, 'p-bigwhale')).toMatchObject([{ status: 'open' }]);
    expect(await rewardsOf(rt, 'p-whale')).toHaveLength(1);
  });
});

describe('recall paths under a holdout of everyone', () => {
  const env = useTestRuntime({ policy: { recall: { holdoutShare: 1 } } });

  it('closes as skipped, marks the holdout and sends nothing', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const recallId = await begin(rt, lapsedUser('h-1', t0), t0);

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual([...HEAD, CLOSE]);
    expect(enteredAt(execution, CLOSE)).toBe(t0);
    expect(await readRecall(rt, recallId)).toMatchObject({
      outcome: 'skipped',
      holdout: true,
      steps: [],
      closedAt: t0,
      plan: { route: 'skip', skipReason: 'holdout' },
    });
    expect(await ledgerOf(rt, recallId)).toEqual([]);
    expect(await rt.inbox.forRecall('h-1', recallId)).toBeUndefined();
    expect(await outboxItems(rt, { recallId })).toEqual([]);
    expect(closeOutput(execution)).toMatchObject({ outcome: 'skipped', messagesSent: 0 });
  });
});

describe('recall paths under a frequency cap of one message a week', () => {
  const env = useTestRuntime({
    policy: { recall: { holdoutShare: 0, frequencyCap: { messagesPerWindow: 1 } } },
  });

  it('caps every step after the first', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const recallId = await begin(rt, lapsedUser('c-1', t0), t0);

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    const recall = await readRecall(rt, recallId);
    expect(recall.steps).toEqual([
      { step: 'in_app', result: 'sent', at: t0 },
      { step: 'push', result: 'frequency_capped', at: addHours(t0, 48), detail: 'messages_per_window' },
      { step: 'sms', result: 'frequency_capped', at: addHours(t0, 48), detail: 'messages_per_window' },
    ]);
    expect(recall).toMatchObject({ outcome: 'not_returned', closedAt: addHours(t0, 48) });
    expect((await sentMessages(rt, recallId)).map((m) => m.channel)).toEqual(['in_app']);
    expect(await outboxItems(rt, { recallId })).toEqual([]);
  });
});

describe('recall waits that end in quiet hours', () => {
  const env = useTestRuntime({
    policy: { recall: { holdoutShare: 0, waitHours: { afterInApp: 12, afterPush: 14 } } },
  });

  it('moves the next send to 08:00 local', async () => {
    const { rt } = env;
    const t0 = nextShanghaiTime(rt, '10:00');
    const recallId = await begin(rt, lapsedUser('q-1', t0), t0);

    const execution = await runRecallToEnd(rt, recallId);

    expect(statePath(execution)).toEqual(FULL_ESCALATION);
    const sent = await sentMessages(rt, recallId);
    // 10:00 + 12 h = 22:00, quiet: push at 08:00 (22 h later); 08:00 + 14 h = 22:00, quiet: SMS at 08:00.
    expect(sent.map((m) => [m.channel, m.localTime!.slice(11, 16)])).toEqual([
      ['in_app', '10:00'],
      ['push', '08:00'],
      ['sms', '08:00'],
    ]);
    expect(hoursBetween(sent[0]!.sentAt!, sent[1]!.sentAt!)).toBe(22);
    expect(hoursBetween(sent[1]!.sentAt!, sent[2]!.sentAt!)).toBe(24);
    expect(enteredAt(execution, IN_APP.check)).toBe(sent[1]!.sentAt);
    expect((await readRecall(rt, recallId)).closedAt).toBe(addHours(sent[2]!.sentAt!, 168));
  });
});
