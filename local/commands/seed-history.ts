import { constants } from 'node:zlib';
import { LocalLakeWriter } from '../../functions/adapters/lake.ts';
import { dayNumber, dayOfNumber, scanInstant } from '../../functions/domain/snapshot.ts';
import { utcDay } from '../../functions/domain/time.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { historyInMemory } from '../behaviour.ts';
import { Progress } from '../progress.ts';
import type { Runtime } from '../runtime.ts';
import { applyAllBefore, BACKFILL_CHUNK, backfillDays, type EventLog } from './backfill.ts';

/** Days of behaviour history the demo seeds before its first live day. */
export const DEMO_HISTORY_DAYS = 120;
/** Days of behaviour generated past the first live day, which the simulator plays out live. */
const LIVE_HORIZON_DAYS = 60;

export interface SeededHistory {
  users: UserRecord[];
  events: EventLog;
  backfilledDays: number;
  rows: number;
  seconds: number;
}

/**
 * The demo's user base with its past: generates the behaviour history, rebuilds the days before
 * `asOf` into the runtime's lake through the same backfill core as `winback backfill` (in memory, no
 * files), and stores each user as of the first live scan. Events after that stay in the log for the
 * simulator to play out on the live days.
 */
export async function seedWithHistory(
  rt: Runtime,
  opts: { users: number; seed: number; asOf: Date; days?: number },
  progress: Progress = new Progress(),
): Promise<SeededHistory> {
  const started = Date.now();
  const days = opts.days ?? DEMO_HISTORY_DAYS;
  const { localTime, timeZone } = rt.policy.scan;
  const liveDay = utcDay(opts.asOf);
  const from = dayOfNumber(dayNumber(liveDay) - days);
  const to = dayOfNumber(dayNumber(liveDay) - 1);
  const { users, events } = historyInMemory({
    count: opts.users,
    seed: opts.seed,
    from: new Date(scanInstant(from, localTime, timeZone)),
    until: opts.asOf,
    eventsUntil: new Date(opts.asOf.getTime() + LIVE_HORIZON_DAYS * 86_400_000),
  });
  const bar = progress.phase(`backfilling ${days} days of history`, {
    total: days * users.length,
    unit: 'user-days',
  });
  const { rows } = await backfillDays({
    users,
    events,
    from,
    to,
    policy: rt.policy,
    lake: new LocalLakeWriter(rt.lakeDir, { level: constants.Z_BEST_SPEED }),
    chunkSize: BACKFILL_CHUNK,
    onProgress: (n) => bar.tick(n),
  });
  bar.finish();
  applyAllBefore(users, events, opts.asOf.getTime());
  const seeding = progress.phase('seeding users', { total: users.length, unit: 'users' });
  for (let i = 0; i < users.length; i += 500) {
    const batch = users.slice(i, i + 500);
    await rt.users.putMany(batch);
    seeding.tick(batch.length);
  }
  seeding.finish();
  return { users, events, backfilledDays: days, rows, seconds: (Date.now() - started) / 1000 };
}
