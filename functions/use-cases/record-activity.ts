import { type ActivityLog, EVENT_DEDUP_DAYS } from '../adapters/activity-log.ts';
import type { Inbox } from '../adapters/inbox.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import type { RewardRecord, Rewards } from '../adapters/rewards.ts';
import { SumOverflowError, type UserRepository } from '../adapters/user-repository.ts';
import type { Policy } from '../domain/policy.ts';

/** What the app's backend reports about a user; each updates exactly the fields the policy reads. */
export type ActivityEvent =
  | { eventId: string; userId: string; type: 'login'; at: string }
  | {
      eventId: string;
      userId: string;
      type: 'investment';
      at: string;
      amountFen: number;
      productId: string;
      bonusRate: boolean;
    }
  | { eventId: string; userId: string; type: 'balance'; at: string; balanceFen: number }
  | { eventId: string; userId: string; type: 'message_opened'; at: string; messageId: string };

export interface ActivityDeps {
  users: UserRepository;
  policy: Policy;
  events: ActivityLog;
  inbox: Inbox;
  rewards: Rewards;
  logger: WinbackLogger;
  now: () => Date;
}

export type ActivityResult =
  | { eventId: string; status: 'applied'; unlockedRewards: string[] }
  | { eventId: string; status: 'duplicate' }
  | { eventId: string; status: 'unknown_user' }
  | { eventId: string; status: 'unknown_message' }
  /** The investment would carry the user's running sum past the safe integer range: not counted. */
  | { eventId: string; status: 'over_limit' };

/**
 * Steps: a repeat of an event already applied is acknowledged and ignored → apply the update, each
 * write idempotent by itself (timestamps and the balance only move forward, the investment carries
 * its event id in its own condition, a reward remembers the event that unlocked it) → remember the
 * event id. Nothing is claimed before applying, so an attempt that fails anywhere leaves the event
 * for the sender's retry to apply, and two attempts at once apply it once.
 */
export async function recordActivity(event: ActivityEvent, deps: ActivityDeps): Promise<ActivityResult> {
  const { eventId, userId } = event;
  if (!(await deps.users.get(userId))) return { eventId, status: 'unknown_user' };
  if (await deps.events.seen(eventId)) return { eventId, status: 'duplicate' };
  let unlocked: RewardRecord[] = [];
  switch (event.type) {
    case 'login':
      await deps.users.advanceTime(userId, 'lastLoginAt', event.at);
      break;
    case 'investment':
      try {
        await deps.users.addInvestment(
          userId,
          event.amountFen,
          event.bonusRate,
          eventId,
          deps.now().toISOString(),
          EVENT_DEDUP_DAYS,
        );
      } catch (error) {
        if (!(error instanceof SumOverflowError)) throw error;
        deps.logger.warn('investment refused: running sum would overflow', { eventId, userId });
        return { eventId, status: 'over_limit' };
      }
      await deps.users.advanceTime(userId, 'lastInvestAt', event.at);
      unlocked = await deps.rewards.unlockFor(userId, event.amountFen, event.at, eventId);
      break;
    case 'balance':
      await deps.users.setBalance(userId, event.balanceFen, event.at);
      break;
    case 'message_opened':
      if (!(await deps.inbox.markOpened(userId, event.messageId, event.at)))
        return { eventId, status: 'unknown_message' };
      break;
  }
  // Another attempt of the same event may have finished first: it is applied once either way.
  if (!(await deps.events.remember(event, deps.now()))) return { eventId, status: 'duplicate' };
  return { eventId, status: 'applied', unlockedRewards: unlocked.map((r) => r.rewardId) };
}
