/**
 * Pacing sends against the providers' per-second limits. Pure: the slot counts live behind a
 * store the caller drives (DynamoDB in AWS, the in-memory SlotBook here for tests and the bench).
 *
 * Every send of a recall happens when a Wait state ends, at a timestamp a step computed. Instead
 * of waiting until the exact due time (the same second for every recall the scan started that
 * morning, and 08:00 sharp for every message held over quiet hours), the step claims a *slot*: a
 * second, at or after the due time and inside the user's allowed hours, whose count of sends on
 * that channel is still under the channel's rate. The Wait then ends at that second.
 *
 * A full second points onward (`next`) to a later second such that every second between is full,
 * so a herd of claims skips the run of full seconds in a few reads instead of one per second.
 * Pointers never cross a jump over someone's quiet hours: what is full is global, what is allowed
 * is per user.
 */
import type { RecallChannel } from './assessment.ts';
import { isQuietTime, nextSendableTime, type QuietHours, toMillis } from './time.ts';

/**
 * Sends per second per channel, unless the policy says otherwise (`recall.sendRatePerSecond`).
 * SMS: 10 message parts per second is what a long code allows outside the US, and what SNS and
 * End User Messaging give a new sender by default there; a US short code allows 100, toll-free 3,
 * 10DLC 1 per number (docs/operations-faults.md). Push: End User Messaging push allows 25,000 per
 * second and FCM/APNs more; 100 per second keeps the taps that follow (logins on our own API,
 * 50 rps by default) and the send function's concurrency small. In-app: a write to our own inbox
 * table; 200 per second stays well inside on-demand DynamoDB and Lambda concurrency.
 */
export const DEFAULT_SEND_RATE_PER_SECOND: Readonly<Record<RecallChannel, number>> = {
  sms: 10,
  push: 100,
  in_app: 200,
};

/** Where a user may be sent to: quiet hours in their zone, or none (in-app is not intrusive). */
export interface AllowedHours {
  timeZone: string;
  quiet?: QuietHours;
}

export const epochSecond = (at: number | string | Date): number => Math.floor(toMillis(at) / 1000);

// Quiet hours start and end on whole minutes, so one answer per zone and minute holds for all its
// seconds; remembering it spares the time-zone formatter (the slow part) on every probe of a herd.
const quietMinutes = new Map<string, boolean>();

function isQuietSecond(second: number, timeZone: string, quiet: QuietHours): boolean {
  const key = `${timeZone}|${quiet.start}|${quiet.end}|${Math.floor(second / 60)}`;
  let answer = quietMinutes.get(key);
  if (answer === undefined) {
    if (quietMinutes.size >= 100_000) quietMinutes.clear();
    answer = isQuietTime(second * 1000, timeZone, quiet);
    quietMinutes.set(key, answer);
  }
  return answer;
}

/** The first second at or after `second` outside the user's quiet hours. */
export function firstAllowedSecond(second: number, allowed: AllowedHours): number {
  if (!allowed.quiet || !isQuietSecond(second, allowed.timeZone, allowed.quiet)) return second;
  return Math.ceil(toMillis(nextSendableTime(second * 1000, allowed.timeZone, allowed.quiet)) / 1000);
}

/** What the store answered for one second: taken for us, or full (and maybe where to look next). */
export type SlotAnswer = { claimed: true } | { claimed: false; next?: number };

/** Seconds found full, all of them full up to (not including) `to`: the store may point them there. */
export interface SlotSkip {
  seconds: number[];
  to: number;
}

export interface SlotChoice {
  /** Epoch second of the send. */
  second: number;
  /** Seconds probed before it, and how many. */
  probes: number;
  skips: SlotSkip[];
}

/**
 * The search for the first second with a free slot, as a generator the caller drives: it yields a
 * candidate second, the caller tries to claim it in its store (conditional increment, count under
 * the rate) and passes the answer back. Same logic whether the store is a Map or a table.
 */
export function* searchSendSecond(
  dueMs: number,
  allowed: AllowedHours,
): Generator<number, SlotChoice, SlotAnswer> {
  let candidate = firstAllowedSecond(epochSecond(dueMs), allowed);
  let run: number[] = [];
  const skips: SlotSkip[] = [];
  for (let probes = 1; ; probes++) {
    const answer = yield candidate;
    if (answer.claimed) {
      if (run.length > 0) skips.push({ seconds: run, to: candidate });
      return { second: candidate, probes, skips };
    }
    run.push(candidate);
    const after = Math.max(candidate + 1, answer.next ?? 0);
    candidate = firstAllowedSecond(after, allowed);
    // A jump over this user's quiet hours: the seconds jumped were not checked, so the run stops here.
    if (candidate !== after) {
      skips.push({ seconds: run, to: after });
      run = [];
    }
  }
}

interface SlotState {
  count: number;
  next?: number;
}

/**
 * Slot counts in memory: the reference store for the search, used by the tests and the bench.
 * Claims behave as the DynamoDB conditional increment does: taken only while the count is under the rate.
 */
export class SlotBook {
  private readonly slots = new Map<string, SlotState>();

  private key(channel: RecallChannel, second: number): string {
    return `${channel}#${second}`;
  }

  tryClaim(channel: RecallChannel, second: number, rate: number): SlotAnswer {
    const key = this.key(channel, second);
    const slot = this.slots.get(key) ?? { count: 0 };
    if (slot.count >= rate) return { claimed: false, ...(slot.next ? { next: slot.next } : {}) };
    slot.count++;
    slot.next ??= second + 1;
    this.slots.set(key, slot);
    return { claimed: true };
  }

  skip(channel: RecallChannel, skip: SlotSkip): void {
    for (const second of skip.seconds) {
      const slot = this.slots.get(this.key(channel, second));
      if (slot && (slot.next ?? 0) < skip.to) slot.next = skip.to;
    }
  }

  count(channel: RecallChannel, second: number): number {
    return this.slots.get(this.key(channel, second))?.count ?? 0;
  }

  /** Claims the first free second at or after the due time, inside the allowed hours. */
  allocate(channel: RecallChannel, dueMs: number, rate: number, allowed: AllowedHours): SlotChoice {
    if (!Number.isInteger(rate) || rate < 1)
      throw new RangeError(`send rate must be a whole number ≥ 1, got ${rate}`);
    const search = searchSendSecond(dueMs, allowed);
    let step = search.next();
    while (!step.done) step = search.next(this.tryClaim(channel, step.value, rate));
    for (const skip of step.value.skips) this.skip(channel, skip);
    return step.value;
  }
}

/** Users in the first page of an invocation, before there is a pace to size pages by. */
export const FIRST_SCAN_PAGE = 100;

/**
 * How many users the next scan page may hold so that it finishes in the time left: the budget
 * over the time a user took so far, halved for safety; at least one so the scan moves on, and
 * never more than `cap` (absent: the 1 MB page DynamoDB gives). Until a page has been timed
 * (`msPerUser` undefined) a small first page measures the pace.
 */
export function scanPageLimit(
  budgetMs: number,
  msPerUser: number | undefined,
  cap?: number,
): number | undefined {
  // No deadline (local runs), or none left to size against (the caller hands over after this page).
  if (!Number.isFinite(budgetMs) || budgetMs <= 0) return cap;
  const fits =
    msPerUser === undefined
      ? FIRST_SCAN_PAGE
      : Math.max(1, Math.floor(budgetMs / Math.max(msPerUser, 0.01) / 2));
  return cap === undefined ? fits : Math.min(cap, fits);
}
