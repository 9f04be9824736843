import { DeliveryFailedError, type PushSender, type SmsSender } from '../adapters/delivery.ts';
import { type Inbox, inboxMessageId } from '../adapters/inbox.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import type { MessageLedger, MessageRecord } from '../adapters/message-ledger.ts';
import type { RecallRepository } from '../adapters/recall-repository.ts';
import { type Rewards, rewardIdFor } from '../adapters/rewards.ts';
import type { UserRepository } from '../adapters/user-repository.ts';
import { assess, type RecallChannel, recallPlan } from '../domain/assessment.ts';
import type { Policy } from '../domain/policy.ts';
import {
  cameBackSince,
  frequencyCap,
  isHoldout,
  type RecallOutcome,
  type RecallRoutePlan,
  type RecallStart,
  routeRecall,
  waitHoursAfter,
} from '../domain/recall.ts';
import { renderMessage } from '../domain/templates.ts';
import { addDays, addHours, isQuietTime, localTime, nextSendableTime, toIso } from '../domain/time.ts';
import { maskPhone, parseUserRecord, redactNumbers, type UserRecord } from '../domain/user.ts';

export interface RecallStepDeps {
  users: UserRepository;
  recalls: RecallRepository;
  ledger: MessageLedger;
  inbox: Inbox;
  rewards: Rewards;
  /** Absent when no push application is configured: the push step then records `channel_unavailable`. */
  push?: PushSender;
  sms: SmsSender;
  policy: Policy;
  logger: WinbackLogger;
  now: () => Date;
}

export interface PreparedRecall extends RecallRoutePlan {
  holdout: boolean;
  /** The first send waits for this: now, or the end of the user's quiet hours. */
  sendAt: string;
  rewardId?: string;
}

async function loadUser(
  userId: string,
  deps: Pick<RecallStepDeps, 'users' | 'logger'>,
): Promise<UserRecord | undefined> {
  const item = await deps.users.get(userId);
  if (!item) return undefined;
  const parsed = parseUserRecord(item);
  if (!parsed.ok) {
    deps.logger.warn('invalid user record in a recall', { userId, issues: parsed.issues });
    throw new InvalidUserRecordError(
      `user ${userId} has an invalid record: ${parsed.issues.map((i) => i.field).join(', ')}`,
    );
  }
  return parsed.value;
}

export class InvalidUserRecordError extends Error {
  override readonly name = 'InvalidUserRecord';
}

/**
 * Prepare: load the user → re-assess now → draw the holdout → choose route, channels and content →
 * issue the conditional reward once → note the plan on the episode.
 */
export async function prepareRecall(start: RecallStart, deps: RecallStepDeps): Promise<PreparedRecall> {
  const now = deps.now();
  const nowIso = now.toISOString();
  const user = await loadUser(start.userId, deps);
  if (!user) {
    const plan: PreparedRecall = {
      route: 'skip',
      skipReason: 'user_not_found',
      channels: [],
      strategies: [],
      holdout: false,
      sendAt: nowIso,
    };
    await deps.recalls.setPlan(start.recallId, plan, false);
    return plan;
  }
  const assessment = assess(user, deps.policy, now);
  const level = assessment.status === 'active' ? start.level : assessment.level;
  // An operator may recall an active user on purpose; the scan's recalls stop if the user is back.
  const plan =
    assessment.status === 'active' && start.trigger !== 'scheduled'
      ? recallPlan(user, deps.policy, now, 'at_risk', level, assessment.reasons)
      : assessment.plan;
  const holdout =
    start.trigger !== 'manual' && isHoldout(user.userId, start.startedAt, deps.policy.recall.holdoutShare);
  const routed =
    assessment.status === 'active' && start.trigger === 'scheduled'
      ? { route: 'skip' as const, skipReason: 'not_at_risk' as const, channels: [], strategies: [] }
      : routeRecall(
          plan,
          level,
          { holdout, startAt: start.startAt, strategy: start.strategy },
          deps.policy,
          user,
        );

  const lead = routed.strategies[0];
  if (start.message && routed.route !== 'skip')
    routed.strategies = [
      { ...(lead ?? { kind: 'reminder' }), message: start.message },
      ...routed.strategies.slice(1),
    ];

  let rewardId: string | undefined;
  const reward = routed.strategies.find((s) => s.kind === 'conditional_reward');
  if (routed.route !== 'skip' && reward?.kind === 'conditional_reward') {
    const issued = await deps.rewards.issueOnce({
      rewardId: rewardIdFor(start.recallId),
      recallId: start.recallId,
      userId: user.userId,
      amountFen: reward.amountFen,
      unlockInvestFen: reward.unlockInvestFen,
      issuedAt: nowIso,
      expiresAt: addDays(now, deps.policy.reward.validDays),
      status: 'open',
    });
    rewardId = issued.rewardId;
  }
  const prepared: PreparedRecall = {
    ...routed,
    holdout,
    sendAt: nextSendableTime(now, user.timeZone, deps.policy.recall.quietHours),
    ...(rewardId ? { rewardId } : {}),
  };
  await deps.recalls.setPlan(start.recallId, routed, holdout, rewardId);
  return prepared;
}

export interface SendStepInput {
  recallId: string;
  userId: string;
  channel: RecallChannel;
  plan: Pick<PreparedRecall, 'channels' | 'strategies'>;
}

export type SendOutcome =
  | 'sent'
  | 'not_planned'
  | 'no_consent'
  | 'no_address'
  | 'quiet_hours'
  | 'frequency_capped'
  | 'opted_out'
  | 'invalid_address'
  | 'user_not_found'
  | 'channel_unavailable'
  | 'deferred';

export interface SendStepResult {
  channel: RecallChannel;
  result: SendOutcome;
  at: string;
  /** When the wait after this step ends; `at` itself when nothing was sent, so the escalation moves on. */
  waitUntil: string;
  detail?: string;
}

/**
 * Send one escalation step. Hard rules are checked here, at send time, whatever the plan said:
 * consent, an address, quiet hours, the frequency cap, the provider's opt-out list. The ledger
 * keyed by (recall, step) makes a retried or redriven send answer with the first send.
 */
export async function sendStep(input: SendStepInput, deps: RecallStepDeps): Promise<SendStepResult> {
  const now = deps.now();
  const at = now.toISOString();
  const { recallId, userId, channel } = input;
  const waitAfter = (sentAt: string, tz: string) =>
    nextSendableTime(
      addHours(sentAt, waitHoursAfter(channel, deps.policy)),
      tz,
      deps.policy.recall.quietHours,
    );
  const skipped = async (result: SendOutcome, detail?: string): Promise<SendStepResult> => {
    await deps.recalls.appendStep(recallId, { step: channel, result, at, ...(detail ? { detail } : {}) });
    return { channel, result, at, waitUntil: at, ...(detail ? { detail } : {}) };
  };

  const alreadyTaken = (record: MessageRecord): SendStepResult => {
    const sentAt = record.sentAt ?? record.claimedAt;
    return {
      channel,
      result: 'sent',
      at: sentAt,
      waitUntil: waitAfter(sentAt, user?.timeZone ?? 'Asia/Shanghai'),
      ...(record.sentAt ? {} : { detail: 'an earlier attempt may have sent it; not sent again' }),
    };
  };

  if (!input.plan.channels.includes(channel)) return { channel, result: 'not_planned', at, waitUntil: at };
  const user = await loadUser(userId, deps);
  if (!user) return skipped('user_not_found');

  // Sent, or claimed by an attempt that may have sent it before failing: never sent again.
  const previous = await deps.ledger.get(recallId, channel);
  if (previous && previous.status !== 'failed') return alreadyTaken(previous);

  const consent =
    channel === 'in_app' ? user.consent.inApp : channel === 'push' ? user.consent.push : user.consent.sms;
  if (!consent) return skipped('no_consent');
  const address = channel === 'push' ? user.pushAddress : channel === 'sms' ? user.phone : user.userId;
  if (!address) return skipped('no_address');
  if (channel !== 'in_app' && isQuietTime(now, user.timeZone, deps.policy.recall.quietHours)) {
    // Held, not dropped: the workflow waits until sending hours and comes back to this step.
    const until = nextSendableTime(now, user.timeZone, deps.policy.recall.quietHours);
    await deps.recalls.appendStep(recallId, {
      step: channel,
      result: 'deferred',
      at,
      detail: `quiet hours until ${until}`,
    });
    return { channel, result: 'deferred', at, waitUntil: until, detail: localTime(now, user.timeZone) };
  }
  const cap = frequencyCap(
    await deps.ledger.sentToUserSince(userId, addDays(now, -deps.policy.recall.frequencyCap.windowDays)),
    channel,
    at,
    deps.policy,
  );
  if (!cap.allowed) return skipped('frequency_capped', cap.rule);
  if (channel === 'sms' && (await deps.sms.isOptedOut(address))) return skipped('opted_out');

  const strategy = input.plan.strategies[0] ?? { kind: 'reminder' as const };
  const message = renderMessage(strategy, channel, user.locale);
  const claim = await deps.ledger.claim(recallId, channel, userId, at);
  if (claim.kind === 'taken') return alreadyTaken(claim.record);

  let providerMessageId: string | undefined;
  try {
    if (channel === 'in_app') {
      await deps.inbox.deliver({
        userId,
        // The first claim's time, not this attempt's: a retried in-app send finds its message already there.
        messageId: inboxMessageId(claim.claimedAt, recallId, channel),
        recallId,
        title: message.title,
        body: message.body,
        createdAt: at,
      });
    } else if (channel === 'push') {
      if (!deps.push) {
        await deps.ledger.markFailed(recallId, channel, 'push is not configured');
        return skipped('channel_unavailable', 'no push application configured');
      }
      const pushed = await deps.push.send(address, message, { recallId, step: channel });
      if (pushed.kind === 'invalid_address') {
        await deps.users.clearPushAddress(userId, address);
        await deps.ledger.markFailed(recallId, channel, pushed.detail);
        return skipped('invalid_address', pushed.detail);
      }
      providerMessageId = pushed.providerMessageId;
    } else {
      providerMessageId = (await deps.sms.send(address, message.body, { recallId, step: channel }))
        .providerMessageId;
    }
  } catch (error) {
    // Providers quote the number they refused; nothing downstream (history, logs, API) may see it.
    const reason = redactNumbers(`${(error as Error).name}: ${(error as Error).message}`);
    await deps.ledger.markFailed(recallId, channel, reason);
    await deps.recalls.appendStep(recallId, {
      step: channel,
      result: 'failed',
      at,
      detail: `attempt ${claim.attempt}: ${reason}`,
    });
    throw new DeliveryFailedError(`${channel} delivery failed for ${recallId}: ${reason}`);
  }

  // The provider has taken the message. If recording that fails, the step stays claimed, so a retry
  // treats it as sent rather than sending again: the step's result is `sent` either way.
  try {
    await deps.ledger.markSent(recallId, channel, {
      sentAt: at,
      localTime: localTime(now, user.timeZone),
      title: message.title,
      text: message.body,
      address:
        channel === 'sms' ? maskPhone(address) : channel === 'push' ? `${address.slice(0, 6)}…` : 'inbox',
      providerMessageId,
    });
    await deps.recalls.appendStep(recallId, { step: channel, result: 'sent', at });
  } catch (error) {
    deps.logger.error('message sent but not recorded; it will not be sent again', {
      recallId,
      step: channel,
      error: (error as Error).name,
    });
  }
  return { channel, result: 'sent', at, waitUntil: waitAfter(at, user.timeZone) };
}

export interface CheckInput {
  recallId: string;
  userId: string;
  startedAt: string;
  after: RecallChannel;
}

/** Every field is always present (null when unknown): the workflow selects them by path. */
export interface CheckResult {
  returned: boolean;
  after: RecallChannel;
  how: 'login' | 'investment' | 'message_opened' | null;
  at: string | null;
}

/** Has the user come back? A login or investment since the recall began, or the in-app message opened. */
export async function checkReturn(input: CheckInput, deps: RecallStepDeps): Promise<CheckResult> {
  const user = await loadUser(input.userId, deps);
  const notYet: CheckResult = { returned: false, after: input.after, how: null, at: null };
  if (!user) return notYet;
  const back = cameBackSince(user, input.startedAt);
  if (back) return { returned: true, after: input.after, how: back.how, at: back.at };
  const inApp = await deps.inbox.forRecall(input.userId, input.recallId);
  if (inApp?.openedAt)
    return { returned: true, after: input.after, how: 'message_opened', at: inApp.openedAt };
  return notYet;
}

export interface CloseInput {
  recallId: string;
  userId: string;
  startedAt: string;
  plan?: PreparedRecall;
  check?: CheckResult;
  /** Set by the workflow's Catch: the recall ends as failed. */
  error?: { Error?: string; Cause?: string };
}

export interface CloseResult {
  recallId: string;
  userId: string;
  holdout: boolean;
  outcome: RecallOutcome;
  closedAt: string;
  winningStep?: RecallChannel;
  returnedAt?: string;
  messagesSent: number;
}

/** Close: decide the outcome from what happened, record it once, and free the user for later recalls. */
export async function closeRecall(input: CloseInput, deps: RecallStepDeps): Promise<CloseResult> {
  const now = deps.now();
  const closedAt = now.toISOString();
  const sent = (await deps.ledger.forRecall(input.recallId))
    .filter((m) => m.status === 'sent' && m.sentAt)
    .sort((a, b) => a.sentAt!.localeCompare(b.sentAt!));
  let outcome: RecallOutcome;
  let winningStep: RecallChannel | undefined;
  let returnedAt: string | undefined;
  let returnedBy: string | undefined;
  if (input.error) outcome = 'failed';
  else if (input.plan?.route === 'skip') outcome = 'skipped';
  else if (input.check?.returned) {
    outcome = 'returned';
    returnedAt = input.check.at ? toIso(input.check.at) : closedAt;
    returnedBy = input.check.how ?? undefined;
    winningStep = sent.filter((m) => m.sentAt! <= returnedAt!).at(-1)?.channel;
  } else outcome = sent.length === 0 ? 'skipped' : 'not_returned';

  const firstClose = await deps.recalls.close(input.recallId, {
    outcome,
    closedAt,
    returnedAt,
    returnedBy,
    winningStep,
    ...(input.error
      ? {
          error: redactNumbers(`${input.error.Error ?? 'Error'}: ${(input.error.Cause ?? '').slice(0, 500)}`),
        }
      : {}),
  });
  const watchUntil = outcome === 'returned' ? addDays(now, deps.policy.recall.relapseWatchDays) : undefined;
  // A redriven Close must not move the user's close time; a lock it failed to release the first time
  // is released by the daily scan, which sees the episode closed.
  if (firstClose) await deps.users.closeRecall(input.userId, input.recallId, closedAt, outcome, watchUntil);
  return {
    recallId: input.recallId,
    userId: input.userId,
    holdout: input.plan?.holdout ?? false,
    outcome,
    closedAt,
    ...(winningStep ? { winningStep } : {}),
    ...(returnedAt ? { returnedAt } : {}),
    messagesSent: sent.length,
  };
}
