import {
  DeliveryFailedError,
  DeliveryInDoubtError,
  DeliveryRefusedError,
  type PushSender,
  type SmsSender,
} from '../adapters/delivery.ts';
import { type Inbox, inboxMessageId } from '../adapters/inbox.ts';
import type { LakeWriter } from '../adapters/lake.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import type { MessageLedger, MessageRecord } from '../adapters/message-ledger.ts';
import type {
  RecallRecord,
  RecallRepository,
  RecallSegment,
  RecallSmsDecision,
} from '../adapters/recall-repository.ts';
import { type Rewards, rewardIdFor } from '../adapters/rewards.ts';
import type { UserRepository } from '../adapters/user-repository.ts';
import { assess, type RecallChannel, recallPlan } from '../domain/assessment.ts';
import { CHANNEL_RULES, classifyProviderFailure } from '../domain/delivery.ts';
import { type MessageFacts, outcomeRow, type SmsStepRow, smsDecisionFor } from '../domain/effectiveness.ts';
import type { Policy } from '../domain/policy.ts';
import {
  cameBackSince,
  frequencyCap,
  isHoldout,
  type RecallOutcome,
  type RecallRoutePlan,
  type RecallStart,
  routeRecall,
} from '../domain/recall.ts';
import { type RenderedMessage, renderMessage } from '../domain/templates.ts';
import { addDays, addHours, isQuietTime, localTime, nextSendableTime, toIso } from '../domain/time.ts';
import { parseUserRecord, redactNumbers, type UserRecord } from '../domain/user.ts';

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
  /**
   * Where each recall's outcome row goes (table `recalls`, one object per recall, named by its id):
   * Prepare writes it as started, Close overwrites it as closed. Absent: no outcome history is kept.
   */
  lake?: LakeWriter;
  /** The last report's SMS-step figures per segment, for `recall.skipSmsWithoutUplift`; read only when it is on. */
  smsStepFigures?: () => Promise<readonly SmsStepRow[] | undefined>;
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
 * The plan's conditional reward, held as `pending` until its message is sent: one live reward per
 * user at a time, and never past the day's budget (a refusal is counted on the budget and logged).
 */
async function planReward(
  start: RecallStart,
  userId: string,
  routed: RecallRoutePlan,
  deps: RecallStepDeps,
  now: Date,
): Promise<string | undefined> {
  const offer = routed.strategies.find((x) => x.kind === 'conditional_reward');
  if (offer?.kind !== 'conditional_reward') return undefined;
  const nowIso = now.toISOString();
  const rewardId = rewardIdFor(start.recallId);
  const live = (await deps.rewards.liveFor(userId, nowIso)).filter((r) => r.rewardId !== rewardId);
  if (live.length > 0) return undefined;
  const reward = await deps.rewards.issueOnce({
    rewardId,
    recallId: start.recallId,
    userId,
    amountFen: offer.amountFen,
    unlockInvestFen: offer.unlockInvestFen,
    issuedAt: nowIso,
    expiresAt: addDays(now, deps.policy.reward.validDays),
    status: 'pending',
  });
  if (reward.status === 'refused' || reward.status === 'cancelled') return undefined;
  if (reward.status === 'pending' && !reward.budgetDay) {
    const day = nowIso.slice(0, 10);
    if (!(await deps.rewards.reserveBudget(reward, day, deps.policy.reward.dailyBudgetFen))) {
      deps.logger.warn('reward refused: daily budget spent', { recallId: start.recallId, userId, day });
      return undefined;
    }
  }
  return rewardId;
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

  const rewardId =
    routed.route === 'skip' ? undefined : await planReward(start, user.userId, routed, deps, now);
  if (!rewardId && routed.strategies.some((x) => x.kind === 'conditional_reward')) {
    // Not offered this time (another reward is live, or the day's budget is spent): no message may promise it.
    const rest = routed.strategies.filter((x) => x.kind !== 'conditional_reward');
    routed.strategies = rest.length > 0 ? rest : [{ kind: 'reminder' }];
  }
  // A segment recall's own text (validated like the content file) leads the plan.
  const lead = routed.strategies[0];
  if (start.message && routed.route !== 'skip') {
    routed.strategies = [
      { ...(lead ?? { kind: 'reminder' }), message: start.message },
      ...routed.strategies.slice(1),
    ];
  }
  const segment: RecallSegment = {
    lifecycle: assessment.lifecycle,
    channel: user.channel,
    totalInvestedFenAtStart: user.totalInvestedFen,
  };
  const smsDecision = await decideSms(start, routed, level, segment, deps);
  if (smsDecision?.skipSms) {
    routed.channels = routed.channels.filter((c) => c !== 'sms');
    if (routed.channels.length === 0) {
      routed.route = 'skip';
      routed.skipReason = 'no_channel';
    } else if (routed.route === 'sms_first') routed.route = 'escalate';
  }
  const prepared: PreparedRecall = {
    ...routed,
    holdout,
    sendAt: nextSendableTime(now, user.timeZone, deps.policy.recall.quietHours),
    ...(rewardId ? { rewardId } : {}),
  };
  await deps.recalls.setPlan(start.recallId, routed, holdout, rewardId, {
    segment,
    ...(smsDecision ? { smsDecision } : {}),
  });
  await writeOutcomeRow(
    {
      ...start,
      reasonCodes: [],
      steps: [],
      holdout,
      plan: routed,
      segment,
      ...(smsDecision ? { smsDecision } : {}),
    },
    [],
    deps,
  );
  return prepared;
}

/** The user's stage, channel and investment total now, for the outcome row; undefined without a readable user. */
async function userFactsAt(
  userId: string,
  at: string,
  deps: Pick<RecallStepDeps, 'users' | 'logger' | 'policy'>,
): Promise<{ totalInvestedFen: number; lifecycle: RecallSegment['lifecycle']; channel: string } | undefined> {
  const user = await loadUser(userId, deps).catch(() => undefined);
  if (!user) return undefined;
  return {
    totalInvestedFen: user.totalInvestedFen,
    lifecycle: assess(user, deps.policy, new Date(at)).lifecycle,
    channel: user.channel,
  };
}

/** What the paths that close a recall without its Close step need to leave its outcome row. */
export interface OutcomeRowDeps {
  lake?: LakeWriter;
  recalls: Pick<RecallRepository, 'get'>;
  users: UserRepository;
  /** Absent where the function may not read the ledger: the row then counts no message. */
  ledger?: Pick<MessageLedger, 'forRecall'>;
  rewards?: Pick<Rewards, 'get'>;
  policy: Policy;
  logger: WinbackLogger;
}

/**
 * The outcome row of a recall closed outside its workflow: a start refused for certain (nothing was
 * sent), or an execution that ended without reaching Close (the scan's reconciliation). Written after
 * the record is closed, from what the record and the ledger hold, like Close's.
 */
export async function writeOutcomeRowFor(recallId: string, deps: OutcomeRowDeps): Promise<void> {
  if (!deps.lake) return;
  const recall = await deps.recalls.get(recallId);
  if (!recall?.outcome) return;
  const messages = deps.ledger ? await deps.ledger.forRecall(recallId) : [];
  await writeOutcomeRow(
    recall,
    messages,
    deps,
    await userFactsAt(recall.userId, recall.closedAt ?? recall.startedAt, deps),
  );
}

/**
 * `recall.skipSmsWithoutUplift`: drop the SMS step for a segment whose matured SMS-step uplift lies
 * entirely below the minimum. Only the scan's and segment recalls, which draw a holdout and so are
 * what the figures measure; an operator's manual recall sends what the operator asked for.
 */
async function decideSms(
  start: RecallStart,
  routed: RecallRoutePlan,
  level: string,
  segment: RecallSegment,
  deps: RecallStepDeps,
): Promise<RecallSmsDecision | undefined> {
  if (!deps.policy.recall.skipSmsWithoutUplift || start.trigger === 'manual') return undefined;
  if (routed.route === 'skip' || !routed.channels.includes('sms')) return undefined;
  const figures = await deps.smsStepFigures?.();
  const d = smsDecisionFor(deps.policy, { lifecycle: segment.lifecycle, level }, figures);
  return {
    skipSms: d.skipSms,
    reason: d.reason,
    upliftPoints: d.smsUplift?.upliftPoints ?? null,
    ci95: d.smsUplift?.ci95 ?? null,
    recalledN: d.smsUplift?.recalledN ?? 0,
    holdoutN: d.smsUplift?.holdoutN ?? 0,
  };
}

/**
 * The recall's row in the lake's `recalls` table, one object named by the recall id in the
 * partition of its start day: Prepare's row (no outcome yet) and Close's replace each other, and a
 * retried step rewrites the same object, so the table never holds a recall twice.
 */
async function writeOutcomeRow(
  recall: RecallRecord,
  messages: readonly MessageFacts[],
  deps: Pick<RecallStepDeps, 'lake' | 'policy'> & { rewards?: Pick<Rewards, 'get'> },
  /** The user when the recall closed (absent for Prepare's row): for reinvestedFen, and the segment of an old record. */
  closing?: { totalInvestedFen: number; lifecycle: RecallSegment['lifecycle']; channel: string },
): Promise<void> {
  if (!deps.lake) return;
  const segment =
    recall.segment ??
    (closing ? { ...closing, totalInvestedFenAtStart: closing.totalInvestedFen } : undefined);
  const reward =
    recall.outcome && recall.rewardId && deps.rewards ? await deps.rewards.get(recall.rewardId) : undefined;
  const row = outcomeRow({
    recall,
    messages,
    ...(reward ? { reward } : {}),
    user: { lifecycle: segment?.lifecycle ?? 'novice', channel: segment?.channel ?? 'unknown' },
    reinvestedFen:
      closing && segment ? Math.max(0, closing.totalInvestedFen - segment.totalInvestedFenAtStart) : 0,
    timeZone: deps.policy.scan.timeZone,
  });
  await deps.lake.writePart('recalls', row.startedDay, row.recallId, [row]);
}

export interface SendStepInput {
  recallId: string;
  userId: string;
  channel: RecallChannel;
  plan: Pick<PreparedRecall, 'channels' | 'strategies'>;
}

export type SendOutcome =
  | 'sent'
  /** The provider may have taken it (timeout, reset, 5xx): treated as sent, never sent again. */
  | 'unknown'
  /** The provider definitely refused it for good (validation, opted out): the escalation moves on. */
  | 'refused'
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

/** What the guard hands to delivery: everything needed to send this step once. */
interface ClearedStep {
  input: SendStepInput;
  user: UserRecord;
  address: string;
  message: RenderedMessage;
  claim: { attempt: number; claimedAt: string };
  now: Date;
  at: string;
}

type Delivery =
  | { kind: 'sent'; providerMessageId?: string }
  | { kind: 'invalid_address'; detail: string }
  | { kind: 'refused'; retryable: boolean; reason: string }
  | { kind: 'in_doubt'; reason: string };

/**
 * Send one escalation step: guard (the hard rules, checked here at send time whatever the plan said:
 * consent, an address, quiet hours, the frequency cap, the provider's opt-out list; then the ledger
 * claim keyed by (recall, step)) → deliver (one provider call, its outcome classified) → record.
 */
export async function sendStep(input: SendStepInput, deps: RecallStepDeps): Promise<SendStepResult> {
  const guarded = await guardStep(input, deps);
  if ('result' in guarded) return guarded;
  return recordDelivery(guarded, await deliver(guarded, deps), deps);
}

function waitAfter(channel: RecallChannel, sentAt: string, tz: string, policy: Policy): string {
  return nextSendableTime(
    addHours(sentAt, CHANNEL_RULES[channel].waitHours(policy)),
    tz,
    policy.recall.quietHours,
  );
}

async function skipped(
  input: SendStepInput,
  at: string,
  result: SendOutcome,
  deps: Pick<RecallStepDeps, 'recalls'>,
  detail?: string,
): Promise<SendStepResult> {
  await deps.recalls.appendStep(input.recallId, {
    step: input.channel,
    result,
    at,
    ...(detail ? { detail } : {}),
  });
  return { channel: input.channel, result, at, waitUntil: at, ...(detail ? { detail } : {}) };
}

/** A step an earlier attempt took: sent, or in doubt. Either way it is not sent again. */
async function alreadyTaken(
  input: SendStepInput,
  record: MessageRecord,
  user: UserRecord,
  deps: RecallStepDeps,
  at: string,
): Promise<SendStepResult> {
  const { recallId, channel } = input;
  if (record.status === 'sent') {
    const sentAt = record.sentAt ?? record.claimedAt;
    // The attempt that sent it may have died before announcing the reward it led with.
    if (leadsWithReward(input.plan)) await announceReward(input, sentAt, deps);
    return {
      channel,
      result: 'sent',
      at: sentAt,
      waitUntil: waitAfter(channel, sentAt, user.timeZone, deps.policy),
    };
  }
  // Left `sending` (a crash, or a result that could not be recorded): whether it went out is unknown.
  const detail = 'an earlier attempt may have sent it; not sent again';
  // It may have been read: a reward it led with is honoured, as the first attempt would have. An
  // in-app message is in our own inbox, so there it is looked up rather than presumed.
  if (
    leadsWithReward(input.plan) &&
    (CHANNEL_RULES[channel].canBeInDoubt || (await deps.inbox.forRecall(input.userId, recallId)))
  )
    await announceReward(input, record.sentAt ?? record.claimedAt, deps);
  if (record.status === 'sending') {
    await deps.ledger.markUnknown(recallId, channel, record.claimedAt, detail);
    await deps.recalls.appendStep(recallId, { step: channel, result: 'unknown', at, detail });
    countUnknown(deps, input, detail);
  }
  const since = record.sentAt ?? record.claimedAt;
  return {
    channel,
    result: 'unknown',
    at: since,
    waitUntil: waitAfter(channel, since, user.timeZone, deps.policy),
    detail,
  };
}

function countUnknown(deps: Pick<RecallStepDeps, 'logger'>, input: SendStepInput, reason: string): void {
  // The log line is the count: a metric filter on it tells operators how many sends are in doubt.
  deps.logger.warn('send outcome unknown; not sent again', {
    recallId: input.recallId,
    step: input.channel,
    reason,
  });
}

/** Guard: every hard rule, then the claim. Answers the step's result when it must not send. */
async function guardStep(input: SendStepInput, deps: RecallStepDeps): Promise<ClearedStep | SendStepResult> {
  const now = deps.now();
  const at = now.toISOString();
  const { recallId, userId, channel } = input;
  const rule = CHANNEL_RULES[channel];
  if (!input.plan.channels.includes(channel)) return { channel, result: 'not_planned', at, waitUntil: at };
  const user = await loadUser(userId, deps);
  if (!user) return skipped(input, at, 'user_not_found', deps);

  const previous = await deps.ledger.get(recallId, channel);
  if (previous && previous.status !== 'failed') return alreadyTaken(input, previous, user, deps, at);

  if (!rule.consented(user)) return skipped(input, at, 'no_consent', deps);
  const address = rule.address(user);
  if (!address) return skipped(input, at, 'no_address', deps);
  if (channel === 'push' && !deps.push)
    return skipped(input, at, 'channel_unavailable', deps, 'no push application configured');
  if (rule.quietHours && isQuietTime(now, user.timeZone, deps.policy.recall.quietHours)) {
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
  if (!cap.allowed) return skipped(input, at, 'frequency_capped', deps, cap.rule);
  if (channel === 'sms' && (await optedOut(address, input, deps)))
    return skipped(input, at, 'opted_out', deps);

  const strategy = input.plan.strategies[0] ?? { kind: 'reminder' as const };
  const message = renderMessage(strategy, channel, user.locale);
  const claim = await deps.ledger.claim(recallId, channel, userId, at);
  if (claim.kind === 'taken') return alreadyTaken(input, claim.record, user, deps, at);
  return { input, user, address, message, claim, now, at };
}

/**
 * The provider's opt-out list. A lookup that fails is retried like a delivery (DeliveryFailed, which
 * the workflow retries and, when it keeps failing, moves past); its error is redacted first, since
 * the provider may quote the number and the workflow keeps errors in its history.
 */
async function optedOut(phone: string, input: SendStepInput, deps: RecallStepDeps): Promise<boolean> {
  try {
    return await deps.sms.isOptedOut(phone);
  } catch (error) {
    const reason = redactNumbers(`${(error as Error).name}: ${(error as Error).message}`).slice(0, 300);
    deps.logger.warn('opt-out lookup failed', { recallId: input.recallId, step: input.channel, reason });
    throw new DeliveryFailedError(`sms opt-out lookup failed for ${input.recallId}: ${reason}`);
  }
}

/** Deliver: one call to the channel, its outcome classified. Nothing is recorded here. */
async function deliver(step: ClearedStep, deps: RecallStepDeps): Promise<Delivery> {
  const { input, address, message, claim, at } = step;
  const { recallId, userId, channel } = input;
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
      return { kind: 'sent' };
    }
    if (channel === 'push') {
      const pushed = await deps.push!.send(address, message, { recallId, step: channel });
      return pushed.kind === 'invalid_address'
        ? pushed
        : { kind: 'sent', providerMessageId: pushed.providerMessageId };
    }
    const out = await deps.sms.send(address, message.body, { recallId, step: channel });
    return { kind: 'sent', providerMessageId: out.providerMessageId };
  } catch (error) {
    // Providers quote the number they refused; nothing downstream (history, logs, API) may see it.
    const reason = redactNumbers(`${(error as Error).name}: ${(error as Error).message}`).slice(0, 300);
    // The inbox is our own table and its write is idempotent: a failed in-app delivery is simply retried.
    if (!CHANNEL_RULES[channel].canBeInDoubt) return { kind: 'refused', retryable: true, reason };
    if (error instanceof DeliveryRefusedError) return { kind: 'refused', retryable: error.retryable, reason };
    if (error instanceof DeliveryInDoubtError) return { kind: 'in_doubt', reason };
    // A sender that did not classify its error (a local or injected one) is read by the same rules.
    const meta = (error as { $metadata?: { httpStatusCode?: number; attempts?: number } }).$metadata;
    const verdict = classifyProviderFailure({
      name: (error as Error).name,
      httpStatus: meta?.httpStatusCode,
      attempts: meta?.attempts,
    });
    return verdict.kind === 'refused'
      ? { kind: 'refused', retryable: verdict.retryable, reason }
      : { kind: 'in_doubt', reason };
  }
}

function leadsWithReward(plan: Pick<PreparedRecall, 'strategies'>): boolean {
  return plan.strategies[0]?.kind === 'conditional_reward';
}

/** A message that leads with the conditional reward issues it: from now on an investment may unlock it. */
async function announceReward(input: SendStepInput, at: string, deps: RecallStepDeps): Promise<void> {
  if (!leadsWithReward(input.plan)) return;
  await deps.rewards.announce(rewardIdFor(input.recallId), at);
}

/** Record: the ledger and the episode learn the outcome; a refusal worth retrying goes back to the workflow. */
async function recordDelivery(
  step: ClearedStep,
  delivery: Delivery,
  deps: RecallStepDeps,
): Promise<SendStepResult> {
  const { input, user, address, message, claim, now, at } = step;
  const { recallId, userId, channel } = input;
  switch (delivery.kind) {
    case 'invalid_address':
      await deps.users.clearPushAddress(userId, address);
      await deps.ledger.markFailed(recallId, channel, delivery.detail);
      return skipped(input, at, 'invalid_address', deps, delivery.detail);
    case 'refused': {
      // If this write fails the step stays `sending`, and a retry reports it in doubt, never sent.
      await deps.ledger.markFailed(recallId, channel, delivery.reason);
      if (!delivery.retryable) return skipped(input, at, 'refused', deps, delivery.reason);
      await deps.recalls.appendStep(recallId, {
        step: channel,
        result: 'failed',
        at,
        detail: `attempt ${claim.attempt}: ${delivery.reason}`,
      });
      throw new DeliveryFailedError(`${channel} delivery failed for ${recallId}: ${delivery.reason}`);
    }
    case 'in_doubt': {
      countUnknown(deps, input, delivery.reason);
      // It may have been read: a reward it may have announced is honoured.
      await announceReward(input, at, deps);
      try {
        await deps.ledger.markUnknown(recallId, channel, at, delivery.reason);
        await deps.recalls.appendStep(recallId, {
          step: channel,
          result: 'unknown',
          at,
          detail: delivery.reason,
        });
      } catch (error) {
        // Left `sending`: the task fails so the workflow retries it, and the retry finds the claim,
        // records the step unknown and sends nothing (Close records any it never reached).
        deps.logger.error('send in doubt but not recorded', {
          recallId,
          step: channel,
          error: (error as Error).name,
        });
        throw error;
      }
      return {
        channel,
        result: 'unknown',
        at,
        waitUntil: waitAfter(channel, at, user.timeZone, deps.policy),
        detail: delivery.reason,
      };
    }
    case 'sent':
      break;
  }
  // The provider has taken the message. If recording that fails, the step stays claimed and the task
  // fails: the workflow's retry reads it as in doubt and records it so, never sending it again (a
  // `sending` row has no sentAt, so the frequency cap would not count it).
  try {
    await deps.ledger.markSent(recallId, channel, {
      sentAt: at,
      localTime: localTime(now, user.timeZone),
      title: message.title,
      text: message.body,
      address: CHANNEL_RULES[channel].masked(address),
      providerMessageId: delivery.providerMessageId,
    });
    await deps.recalls.appendStep(recallId, { step: channel, result: 'sent', at });
    await announceReward(input, at, deps);
  } catch (error) {
    deps.logger.error('message sent but not recorded; it will not be sent again', {
      recallId,
      step: channel,
      error: (error as Error).name,
    });
    throw error;
  }
  return { channel, result: 'sent', at, waitUntil: waitAfter(channel, at, user.timeZone, deps.policy) };
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
  // A send in doubt counts as sent: the escalation moved on as if it were, and it may have been read.
  // A step still `sending` is one whose attempt died (or whose retries ran out) before recording
  // what the provider answered: it is recorded in doubt now, so the ledger never keeps it open.
  const ledger: MessageRecord[] = [];
  for (const m of await deps.ledger.forRecall(input.recallId)) {
    if (m.status !== 'sending') {
      ledger.push(m);
      continue;
    }
    const detail = 'its outcome was never recorded; not sent again';
    await deps.ledger.markUnknown(input.recallId, m.step, m.claimedAt, detail);
    ledger.push({ ...m, status: 'unknown', sentAt: m.sentAt ?? m.claimedAt });
  }
  const sent = ledger
    .filter((m) => (m.status === 'sent' || m.status === 'unknown') && m.sentAt)
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

  // A message that led with the reward went out (its attempt may have died before announcing it):
  // the reward is issued as of that message. One whose message never went out is not issued, and
  // its amount returns to the day's budget. The id derives from the recall: the workflow's plan
  // does not carry it, and a Prepare that died after issuing left no plan at all.
  // (Close does not read the inbox: an in-app step counts only once recorded sent.)
  const rewardId = rewardIdFor(input.recallId);
  const announcing = sent.find((m) => m.status === 'sent' || CHANNEL_RULES[m.channel].canBeInDoubt);
  if (announcing && input.plan && leadsWithReward(input.plan))
    await deps.rewards.announce(rewardId, announcing.sentAt!);
  await deps.rewards.cancelPending(rewardId);
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
  // A retried Close finishes the release the first one may not have reached, with what the first
  // one recorded: the user's close time and relapse watch do not move on a retry.
  const recorded = firstClose && !deps.lake ? { outcome, closedAt } : await deps.recalls.get(input.recallId);
  // The outcome row goes to the lake before the user is released: a Close that fails here is
  // retried, so a closed recall never misses its row.
  if (deps.lake && recorded && 'recallId' in recorded)
    await writeOutcomeRow(recorded, ledger, deps, await userFactsAt(input.userId, closedAt, deps));
  const releaseOutcome = recorded?.outcome ?? outcome;
  const releaseAt = recorded?.closedAt ?? closedAt;
  const watchUntil =
    releaseOutcome === 'returned' ? addDays(releaseAt, deps.policy.recall.relapseWatchDays) : undefined;
  await deps.users.closeRecall(input.userId, input.recallId, releaseAt, releaseOutcome, watchUntil);
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
