import type { UserRecord } from './user.ts';

/**
 * An activity event reduced to what changes a user record: the backfill holds millions of these, so
 * the time is a number and nothing else is kept.
 */
export type HistoryEvent =
  | { type: 'login'; atMs: number }
  | { type: 'investment'; atMs: number; amountFen: number; bonusRate: boolean }
  | { type: 'balance'; atMs: number; balanceFen: number };

/**
 * Applies one event to a record the way the live system does (record-activity → user repository):
 * login and investment times only move forward, an investment adds to the counters and raises the
 * largest amount, a bonus-rate product is remembered, and the balance is the latest one reported.
 * Callers apply a user's events in time order, so "latest reported" is simply the last one applied.
 */
export function applyEvent(user: UserRecord, event: HistoryEvent): void {
  switch (event.type) {
    case 'login':
      user.lastLoginAt = later(user.lastLoginAt, event.atMs);
      break;
    case 'investment':
      user.investCount += 1;
      user.totalInvestedFen += event.amountFen;
      if (event.amountFen > user.maxInvestFen) user.maxInvestFen = event.amountFen;
      if (event.bonusRate) user.heldBonusProduct = true;
      user.lastInvestAt = later(user.lastInvestAt, event.atMs);
      break;
    case 'balance':
      user.balanceFen = event.balanceFen;
      break;
  }
}

function later(current: string | undefined, atMs: number): string {
  const iso = new Date(atMs).toISOString();
  return current === undefined || current < iso ? iso : current;
}

/**
 * Whether the user is registered as of the instant: a user who registers after the scan does not
 * exist for that day's scan, like an event after the scan does not count for it.
 */
export function registeredBy(user: UserRecord, atMs: number): boolean {
  return Date.parse(user.registeredAt) < atMs;
}
