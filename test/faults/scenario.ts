import { createQuietLogger } from '../../functions/adapters/logger.ts';
import { recallIdFor } from '../../functions/domain/recall.ts';
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, toMillis } from '../../functions/domain/time.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { ConflictError } from '../../functions/use-cases/api-errors.ts';
import { startManualRecall } from '../../functions/use-cases/api-recalls.ts';
import { type ActivityEvent, recordActivity } from '../../functions/use-cases/record-activity.ts';
import { FaultPlan, type FaultRates } from '../../local/faults.ts';
import { Runtime } from '../../local/runtime.ts';
import { generateUsers } from '../../local/seed.ts';

/**
 * One seeded fault run: a few thousand generated users, a daily scan each morning for several
 * simulated days (sometimes twice, sometimes raced by manual recalls), activity events delivered
 * at least once (duplicated, late, retried after errors), recalls escalating with users coming back,
 * all under the seed's fault plan. Then recalls run to their end and the run's record is handed
 * to the invariant checks.
 */

export interface ScenarioOptions {
  seed: number;
  users: number;
  days: number;
  endpoint: string;
  tablePrefix: string;
  rates?: Partial<FaultRates>;
  /** Simulated start, 09:00 in Asia/Shanghai. */
  start: Date;
}

/** Short waits, so whole escalations (and their Close) happen while faults are on. */
export const SCENARIO_POLICY = {
  recall: { waitHours: { afterInApp: 24, afterPush: 24, afterSms: 24 } },
  // The sensitive thresholds (docs/policy-sensitive.json): about twice the recalls of the defaults,
  // so a few hundred users give every send-side fault (an in-doubt send is 4% of sends) enough calls.
  warnings: { loginDaysOver: 7, statusReasons: ['inactive_login', 'inactive_invest', 'high_value_lapsed'] },
};

export interface TrackedEvent {
  event: ActivityEvent;
  deliveries: number;
  attempts: number;
  acked: boolean;
  results: string[];
  /** Reward ids each delivery reported as unlocked. */
  unlocked: string[][];
}

export interface ManualRequest {
  userId: string;
  day: number;
  /** Asks for a conditional reward, so rewards are issued (and unlocked) often enough to check. */
  reward: boolean;
  /** Ids of the recalls attempts that failed with a 5xx may have left behind. */
  failedAttemptIds: string[];
  answers: string[];
}

export interface ScanRun {
  name: string;
  asOf: string;
  status: string;
  error?: string;
}

export interface ScenarioRecord {
  rt: Runtime;
  plan: FaultPlan;
  users: UserRecord[];
  events: Map<string, TrackedEvent>;
  manual: ManualRequest[];
  scans: ScanRun[];
  /** Deliveries still scheduled or retrying when the run ended (should be none). */
  undelivered: number;
  drainDays: number;
  wallMs: number;
}

const EVENT_SHARE_PER_DAY = 0.05;
const MANUAL_SHARE_PER_DAY = 0.02;
const COMEBACK_CHANCE = 0.3;
const DUPLICATE_CHANCE = 0.2;
const LATE_CHANCE = 0.2;
const SCAN_TWICE_CHANCE = 0.6;
const MAX_DELIVERY_ATTEMPTS = 20;
const MAX_DRAIN_DAYS = 14;

export async function runScenario(opts: ScenarioOptions): Promise<ScenarioRecord> {
  const wallStart = Date.now();
  const plan = new FaultPlan(opts.seed, opts.rates);
  const rt = await Runtime.start({
    endpoint: opts.endpoint,
    tablePrefix: opts.tablePrefix,
    start: opts.start,
    policy: SCENARIO_POLICY,
    logger: createQuietLogger(() => {}),
    faults: plan,
  });
  const users = [...generateUsers({ count: opts.users, seed: opts.seed, asOf: opts.start })];
  await rt.users.putMany(users);

  const events = new Map<string, TrackedEvent>();
  const manual: ManualRequest[] = [];
  const scans: ScanRun[] = [];
  const random = plan.random('scenario');
  let pending = 0;

  /** Delivers one copy of an event at `atMs`, retrying after errors as a sender does. */
  const deliver = (tracked: TrackedEvent, atMs: number, attempt = 1): void => {
    pending++;
    void rt.clock.until(atMs).then(async () => {
      const ok = await rt.clock.track(async () => {
        tracked.attempts++;
        try {
          const result = await plan.invoke('api-event', `${tracked.event.eventId}|${atMs}|${attempt}`, () =>
            recordActivity(tracked.event, rt.activityDeps),
          );
          tracked.acked = true;
          tracked.results.push(result.status);
          if (result.status === 'applied') tracked.unlocked.push(result.unlockedRewards);
          return true;
        } catch {
          return false;
        }
      });
      pending--;
      if (!ok && attempt < MAX_DELIVERY_ATTEMPTS) {
        plan.count('event.retried_after_error', 'driver', tracked.event.eventId);
        const pause = 1 + Math.floor(plan.draw(`${tracked.event.eventId}|retry|${attempt}`) * 5);
        deliver(tracked, rt.clock.nowMs() + pause * MS_PER_MINUTE, attempt + 1);
      }
    });
  };

  /** An event that happened at `atMs`, delivered at least once: maybe late, maybe twice. */
  const emit = (event: ActivityEvent): void => {
    const tracked: TrackedEvent = {
      event,
      deliveries: 0,
      attempts: 0,
      acked: false,
      results: [],
      unlocked: [],
    };
    events.set(event.eventId, tracked);
    const atMs = toMillis(event.at);
    let first = atMs;
    const d = (what: string) => plan.draw(`${event.eventId}|${what}`);
    if (d('late') < LATE_CHANCE) {
      plan.count('event.out_of_order', 'driver', event.eventId);
      first += (1 + Math.floor(d('late-hours') * 12)) * MS_PER_HOUR;
    }
    tracked.deliveries++;
    deliver(tracked, first);
    if (d('duplicate') < DUPLICATE_CHANCE) {
      plan.count('event.duplicate_delivery', 'driver', event.eventId);
      tracked.deliveries++;
      deliver(tracked, first + Math.floor(d('duplicate-delay') * 6 * MS_PER_HOUR));
    }
  };

  // Every choice is drawn from the event's own key, so a seed makes the same events whatever order
  // concurrent sends finish in.
  const newEvent = (key: string, userId: string, atMs: number, kind: number): ActivityEvent => {
    const eventId = `ev-${key}`;
    const d = (what: string) => plan.draw(`${eventId}|${what}`);
    // Milliseconds keep one user's events apart, so "the newest" is always one event.
    const at = new Date(atMs + Math.floor(d('ms') * 1000)).toISOString();
    if (kind < 0.4) return { eventId, userId, type: 'login', at };
    if (kind < 0.7) {
      const amountFen = (1 + Math.floor(d('amount') * 30)) * 100_000 + Math.floor(d('fen') * 1000);
      return {
        eventId,
        userId,
        type: 'investment',
        at,
        amountFen,
        productId: 'fault-fund',
        bonusRate: false,
      };
    }
    return { eventId, userId, type: 'balance', at, balanceFen: Math.floor(d('balance') * 5_000_000) };
  };

  // Some users come back after a message: a login, often with an investment that may unlock a reward.
  rt.observers.push({
    onSent: (result, input) => {
      if (result.result !== 'sent') return;
      plan.outside(() => {
        if (plan.draw(`comeback|${input.recallId}|${input.channel}`) >= COMEBACK_CHANCE) return;
        const atMs =
          rt.clock.nowMs() + (1 + Math.floor(plan.draw(`comeback-h|${input.recallId}`) * 30)) * MS_PER_HOUR;
        emit(newEvent(`${input.recallId}-${input.channel}-login`, input.userId, atMs, 0));
        if (plan.draw(`comeback-invest|${input.recallId}|${input.channel}`) < 0.5)
          emit(
            newEvent(`${input.recallId}-${input.channel}-invest`, input.userId, atMs + MS_PER_MINUTE, 0.5),
          );
      });
    },
  });

  const drifting = users.filter(
    (u) => !u.lastLoginAt || toMillis(opts.start) - toMillis(u.lastLoginAt) > 7 * MS_PER_DAY,
  );
  // A small pool, so some users are recalled by hand again while an earlier reward is still open.
  const manualPool = drifting.slice(0, Math.max(10, Math.round(drifting.length * 0.05)));
  const apiDeps = (nonce: string) => ({
    start: rt.startDeps,
    recalls: rt.recalls,
    rewards: rt.rewards,
    now: () => rt.clock.now(),
    nonce: () => nonce,
  });

  const runScan = async (name: string, asOf: string): Promise<void> => {
    const execution =
      rt.scanWorkflow.describe(name) ?? plan.execution(name, () => rt.scanWorkflow.start(name, { asOf }));
    await execution.done;
    const failed = execution.history.find((e) => e.type === 'StateFailed')?.data as
      | { error?: string }
      | undefined;
    scans.push({ name, asOf, status: execution.status, ...(failed?.error ? { error: failed.error } : {}) });
  };

  const manualRecall = async (request: ManualRequest): Promise<void> => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const at = rt.clock.nowIso();
      const nonce = Math.floor(plan.draw(`nonce|${request.userId}|${request.day}|${attempt}`) * 1e6).toString(
        36,
      );
      try {
        const started = await plan.invoke('api-recall', `${request.userId}|${request.day}|${attempt}`, () =>
          startManualRecall(
            {
              userId: request.userId,
              ...(request.reward ? { strategy: 'conditional_reward' as const } : {}),
            },
            apiDeps(nonce),
          ),
        );
        request.answers.push(`200 ${started.status} ${started.recallId}`);
        return;
      } catch (error) {
        if (error instanceof ConflictError) {
          request.answers.push(`409 ${error.code} ${error.details.recallId ?? ''}`);
          return;
        }
        request.answers.push(`500 ${(error as Error).name}`);
        // The attempt may have locked the user to this id before failing: "safe to retry" must hold.
        request.failedAttemptIds.push(
          recallIdFor(request.userId, 'manual', at, `${at.slice(11, 19).replace(/:/g, '')}${nonce}`),
        );
      }
    }
  };

  for (let day = 0; day < opts.days; day++) {
    const morningMs = opts.start.getTime() + day * MS_PER_DAY;
    await rt.advanceTo(new Date(morningMs));
    const asOf = new Date(morningMs).toISOString();
    const name = `scan-${asOf.replace(/[^0-9]/g, '').slice(0, 12)}`;
    const work: Promise<void>[] = [runScan(name, asOf)];
    // The second morning always runs twice, so every seed has at least one such day.
    if (random() < SCAN_TWICE_CHANCE || day === 1) {
      plan.count('scan.twice_same_day', 'driver', asOf);
      // Either beside the first run (a Scheduler retry) or after it (an operator's re-run).
      if (random() < 0.5) work.push(runScan(`${name}-again`, asOf));
      else work[0] = work[0]!.then(() => runScan(`${name}-again`, asOf));
    }
    const racing = Math.max(1, Math.round(drifting.length * MANUAL_SHARE_PER_DAY));
    for (let i = 0; i < racing; i++) {
      const user = manualPool[Math.floor(random() * manualPool.length)]!;
      const request: ManualRequest = {
        userId: user.userId,
        day,
        reward: random() < 0.5,
        failedAttemptIds: [],
        answers: [],
      };
      manual.push(request);
      plan.count('recall.manual_racing_scan', 'driver', user.userId);
      work.push(rt.clock.track(() => manualRecall(request)));
    }
    await Promise.all(work);

    // The day's activity from users who were not messaged.
    const active = Math.round(users.length * EVENT_SHARE_PER_DAY);
    for (let i = 0; i < active; i++) {
      const user = users[Math.floor(random() * users.length)]!;
      emit(
        newEvent(
          `d${day}-${i}`,
          user.userId,
          morningMs + Math.floor(random() * (MS_PER_DAY - MS_PER_HOUR)),
          random(),
        ),
      );
    }
    await rt.idle();
  }

  // No more scans: let every recall run to its end and every delivery land, faults still on.
  let drainDays = 0;
  const endOfDays = opts.start.getTime() + opts.days * MS_PER_DAY;
  await rt.advanceTo(new Date(endOfDays));
  while (drainDays < MAX_DRAIN_DAYS) {
    const running = rt.recallWorkflow.list().some((e) => e.status === 'RUNNING');
    if (!running && pending === 0) break;
    drainDays++;
    await rt.advanceTo(new Date(endOfDays + drainDays * MS_PER_DAY));
  }
  await rt.idle();
  return {
    rt,
    plan,
    users,
    events,
    manual,
    scans,
    undelivered: pending,
    drainDays,
    wallMs: Date.now() - wallStart,
  };
}
