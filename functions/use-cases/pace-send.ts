import type { WinbackLogger } from '../adapters/logger.ts';
import type { SendSlotStore } from '../adapters/send-slots.ts';
import { ESCALATION, type RecallChannel } from '../domain/assessment.ts';
import { type AllowedHours, searchSendSecond } from '../domain/pacing.ts';
import type { Policy } from '../domain/policy.ts';
import type { RecallRoute } from '../domain/recall.ts';
import { toIso, toMillis } from '../domain/time.ts';
import type { PreparedRecall, SendStepInput, SendStepResult } from './recall-steps.ts';

/**
 * Pacing a recall's next send. The steps of the Recall workflow compute when its next send falls
 * due (Prepare: `sendAt`; a send step: `waitUntil`), and the Wait before that send ends at that
 * timestamp. Here the timestamp becomes a claimed slot instead:
 *   1. which channel sends next (none: nothing to pace)
 *   2. the user's allowed hours for it (quiet hours in their zone; in-app has none)
 *   3. claim the first second at or after the due time with room under the channel's rate
 *   4. that second is the new timestamp.
 * Pacing never costs a send: if the slot store fails, the due time stands as it was.
 */
export interface PacingDeps {
  slots: SendSlotStore;
  users: { get(userId: string): Promise<Record<string, unknown> | undefined> };
  policy: Policy;
  logger: WinbackLogger;
}

/** The channel of the first send a route makes, among the planned channels. */
export function firstPacedChannel(
  route: RecallRoute,
  channels: readonly RecallChannel[],
): RecallChannel | undefined {
  if (route === 'skip') return undefined;
  if (route === 'sms_first') return channels.includes('sms') ? 'sms' : undefined;
  return ESCALATION.find((c) => channels.includes(c));
}

/** The channel that sends after this step: the same one again when held for quiet hours, else the next planned one. */
export function nextPacedChannel(input: SendStepInput, result: SendStepResult): RecallChannel | undefined {
  if (result.result === 'deferred') return input.channel;
  // A step the plan left out passes straight on: Prepare already paced the send that follows.
  if (result.result === 'not_planned') return undefined;
  return ESCALATION.slice(ESCALATION.indexOf(input.channel) + 1).find((c) => input.plan.channels.includes(c));
}

/** Claims the send's second: the domain search, driven against the store. */
export async function claimSendSecond(
  channel: RecallChannel,
  dueMs: number,
  allowed: AllowedHours,
  deps: Pick<PacingDeps, 'slots' | 'policy'>,
): Promise<number> {
  const rate = deps.policy.recall.sendRatePerSecond[channel];
  const search = searchSendSecond(dueMs, allowed);
  let step = search.next();
  while (!step.done) step = search.next(await deps.slots.tryClaim(channel, step.value, rate));
  for (const skip of step.value.skips) await deps.slots.skip(channel, skip);
  return step.value.second;
}

async function pacedTime(
  userId: string,
  channel: RecallChannel,
  due: string,
  deps: PacingDeps,
): Promise<string> {
  try {
    const user = await deps.users.get(userId);
    if (!user) return due;
    const timeZone = typeof user.timeZone === 'string' ? user.timeZone : 'Asia/Shanghai';
    const allowed: AllowedHours =
      channel === 'in_app' ? { timeZone } : { timeZone, quiet: deps.policy.recall.quietHours };
    const second = await claimSendSecond(channel, toMillis(due), allowed, deps);
    // Never earlier than the due time the step computed (it may carry milliseconds).
    return toIso(Math.max(second * 1000, toMillis(due)));
  } catch (error) {
    deps.logger.warn('send not paced; it goes at its due time', {
      userId,
      channel,
      error: (error as Error).name,
    });
    return due;
  }
}

/** Prepare's result with `sendAt` moved to a claimed slot for the route's first send. */
export async function pacePrepared(
  userId: string,
  prepared: PreparedRecall,
  deps: PacingDeps,
): Promise<PreparedRecall> {
  const channel = firstPacedChannel(prepared.route, prepared.channels);
  if (!channel) return prepared;
  return { ...prepared, sendAt: await pacedTime(userId, channel, prepared.sendAt, deps) };
}

/** A send step's result with `waitUntil` moved to a claimed slot for the recall's next send. */
export async function paceAfterSend(
  input: SendStepInput,
  result: SendStepResult,
  deps: PacingDeps,
): Promise<SendStepResult> {
  const channel = nextPacedChannel(input, result);
  if (!channel) return result;
  return { ...result, waitUntil: await pacedTime(input.userId, channel, result.waitUntil, deps) };
}
