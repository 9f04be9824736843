import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { constants } from 'node:zlib';
import { type LakeWriter, LocalLakeWriter } from '../../functions/adapters/lake.ts';
import { ActivityEventSchema } from '../../functions/domain/api-schemas.ts';
import { assess } from '../../functions/domain/assessment.ts';
import { applyEvent, type HistoryEvent } from '../../functions/domain/history.ts';
import { type Policy, parsePolicy } from '../../functions/domain/policy.ts';
import {
  dayNumber,
  dayOfNumber,
  type SnapshotRow,
  scanInstant,
  snapshotRow,
} from '../../functions/domain/snapshot.ts';
import { describeIssues, type UserRecord } from '../../functions/domain/user.ts';
import { readJsonLines, readUserRecords } from '../jsonl.ts';
import { Progress } from '../progress.ts';

/**
 * Every event of the history, held column-wise: 100,000 users × 180 days is a few million events,
 * which as objects would cost several hundred bytes each. Events are kept per user in time order
 * (ties in the order they were added) and consumed by a cursor per user as the days advance.
 */
export class EventLog {
  private readonly user: number[] = [];
  private readonly at: number[] = [];
  /** 0 login, 1 investment, 2 investment in a bonus-rate product, 3 balance. */
  private readonly kind: number[] = [];
  private readonly value: number[] = [];
  private order = new Uint32Array(0);
  private end = new Uint32Array(0);
  private cursor = new Uint32Array(0);

  get size(): number {
    return this.at.length;
  }

  add(userIndex: number, event: HistoryEvent): void {
    this.user.push(userIndex);
    this.at.push(event.atMs);
    switch (event.type) {
      case 'login':
        this.kind.push(0);
        this.value.push(0);
        break;
      case 'investment':
        this.kind.push(event.bonusRate ? 2 : 1);
        this.value.push(event.amountFen);
        break;
      case 'balance':
        this.kind.push(3);
        this.value.push(event.balanceFen);
        break;
    }
  }

  /** Groups the events by user (a counting sort) and orders each user's few events by time. */
  seal(userCount: number): void {
    const start = new Uint32Array(userCount + 1);
    for (const u of this.user) start[u + 1]!++;
    for (let u = 0; u < userCount; u++) start[u + 1]! += start[u]!;
    const fill = start.slice(0, userCount);
    const order = new Uint32Array(this.at.length);
    for (let i = 0; i < this.user.length; i++) order[fill[this.user[i]!]!++] = i;
    const at = this.at;
    for (let u = 0; u < userCount; u++) {
      // Insertion sort: a user has a handful of events, usually already in order.
      for (let i = start[u]! + 1; i < start[u + 1]!; i++) {
        const e = order[i]!;
        let j = i - 1;
        while (j >= start[u]! && at[order[j]!]! > at[e]!) {
          order[j + 1] = order[j]!;
          j--;
        }
        order[j + 1] = e;
      }
    }
    this.order = order;
    this.cursor = start.slice(0, userCount);
    this.end = start.slice(1);
  }

  /** Applies the user's not yet applied events that happened strictly before `beforeMs`. */
  applyBefore(userIndex: number, user: UserRecord, beforeMs: number): void {
    this.takeBefore(userIndex, beforeMs, (event) => applyEvent(user, event));
  }

  /** Hands over (and consumes) the user's not yet taken events strictly before `beforeMs`, in time order. */
  takeBefore(userIndex: number, beforeMs: number, visit: (event: HistoryEvent) => void): void {
    let c = this.cursor[userIndex]!;
    const end = this.end[userIndex]!;
    while (c < end) {
      const e = this.order[c]!;
      const atMs = this.at[e]!;
      if (atMs >= beforeMs) break;
      const kind = this.kind[e]!;
      visit(
        kind === 0
          ? { type: 'login', atMs }
          : kind === 3
            ? { type: 'balance', atMs, balanceFen: this.value[e]! }
            : { type: 'investment', atMs, amountFen: this.value[e]!, bonusRate: kind === 2 },
      );
      c++;
    }
    this.cursor[userIndex] = c;
  }
}

export interface BackfillCoreInput {
  /** Valid records as of the start of the history, unique by id; updated in place as days pass. */
  users: UserRecord[];
  /** Sealed for `users.length` users. */
  events: EventLog;
  from: string;
  to: string;
  policy: Policy;
  lake: LakeWriter;
  /** Users per lake part; part `backfill-<n>` holds users n·chunkSize … of each day. */
  chunkSize?: number;
  onProgress?: (userDays: number) => void;
}

export const BACKFILL_CHUNK = 25_000;

/**
 * Steps, for each day from `from` to `to`: the day's scan instant from the policy (events before it
 * count, later ones wait for the next day) → bring each user's record up to it → skip users not yet
 * registered → assess with the same assess() and policy as the live scan → write the day's rows,
 * one part per chunk of users. Returns the number of rows written.
 */
export async function backfillDays(input: BackfillCoreInput): Promise<{ days: number; rows: number }> {
  const { users, events, policy, lake } = input;
  const chunkSize = input.chunkSize ?? BACKFILL_CHUNK;
  const registeredMs = users.map((u) => Date.parse(u.registeredAt));
  const first = dayNumber(input.from);
  const last = dayNumber(input.to);
  let rows = 0;
  // One part in flight: it is compressed and written while the next one is built.
  let writing: Promise<void> = Promise.resolve();
  for (let n = first; n <= last; n++) {
    const day = dayOfNumber(n);
    const scanMs = scanInstant(day, policy.scan.localTime, policy.scan.timeZone);
    const asOf = new Date(scanMs);
    for (let chunk = 0; chunk * chunkSize < users.length; chunk++) {
      const part: SnapshotRow[] = [];
      const end = Math.min(users.length, (chunk + 1) * chunkSize);
      for (let i = chunk * chunkSize; i < end; i++) {
        const user = users[i]!;
        events.applyBefore(i, user, scanMs);
        if (registeredMs[i]! >= scanMs) continue;
        part.push(snapshotRow(user, assess(user, policy, asOf), scanMs, policy.scan.timeZone));
      }
      await writing;
      writing = lake.writePart('snapshots', day, `backfill-${String(chunk).padStart(4, '0')}`, part);
      rows += part.length;
      input.onProgress?.(end - chunk * chunkSize);
    }
  }
  await writing;
  return { days: last - first + 1, rows };
}

/** Brings every record up to `beforeMs` (the demo's first live scan) after the backfilled days. */
export function applyAllBefore(users: UserRecord[], events: EventLog, beforeMs: number): void {
  for (let i = 0; i < users.length; i++) events.applyBefore(i, users[i]!, beforeMs);
}

export interface BackfillOptions {
  users: string;
  events: string;
  from: string;
  to: string;
  dataDir: string;
  policy?: unknown;
  stderr: NodeJS.WritableStream;
  /** Progress bar output; none when absent. */
  progress?: NodeJS.WriteStream;
}

export interface BackfillResult {
  users: number;
  events: number;
  duplicateEvents: number;
  days: number;
  rows: number;
  bad: number;
  seconds: number;
  exitCode: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export class BackfillUsageError extends Error {
  override readonly name = 'BackfillUsageError';
}

function checkDays(from: string, to: string): void {
  for (const [flag, value] of [
    ['--from', from],
    ['--to', to],
  ] as const) {
    if (!DAY.test(value)) throw new BackfillUsageError(`${flag} must be YYYY-MM-DD, got "${value}"`);
    try {
      dayNumber(value);
    } catch {
      throw new BackfillUsageError(`${flag} is not a real day: "${value}"`);
    }
  }
  if (dayNumber(to) < dayNumber(from)) throw new BackfillUsageError(`--to ${to} is before --from ${from}`);
}

/**
 * `winback backfill`: reads the profiles and the event log (streamed line by line; bad lines are named
 * by file, line and field and skipped), then rebuilds every day into `<data-dir>/lake`. Re-running
 * over the same days replaces their backfill parts.
 */
export async function runBackfill(opts: BackfillOptions): Promise<BackfillResult> {
  checkDays(opts.from, opts.to);
  const started = Date.now();
  const policy = parsePolicy(opts.policy ?? {}, 'policy');
  const say = (line: string) => opts.stderr.write(`${line}\n`);
  let bad = 0;
  const usersName = basename(opts.users);
  const eventsName = basename(opts.events);

  const users: UserRecord[] = [];
  const index = new Map<string, number>();
  for await (const line of readUserRecords(opts.users, 'record')) {
    if ('error' in line) {
      bad++;
      say(`${usersName}:${line.line}${line.userId ? ` (user ${line.userId})` : ''}: ${line.error}`);
      continue;
    }
    if (index.has(line.user.userId)) {
      bad++;
      say(
        `${usersName}:${line.line} (user ${line.user.userId}): userId: appears twice; the first line is kept`,
      );
      continue;
    }
    index.set(line.user.userId, users.length);
    users.push(line.user);
  }

  const events = new EventLog();
  const seen = new Set<string>();
  let duplicateEvents = 0;
  for await (const item of readJsonLines(opts.events)) {
    if ('error' in item) {
      bad++;
      say(`${eventsName}:${item.line}: (line): not JSON: ${item.error}`);
      continue;
    }
    const parsed = ActivityEventSchema.safeParse(item.value);
    if (!parsed.success) {
      bad++;
      const issues = describeIssues(parsed.error)
        .map((i) => `${i.field}: ${i.message}`)
        .join('; ');
      say(`${eventsName}:${item.line}: ${issues}`);
      continue;
    }
    const e = parsed.data;
    const userIndex = index.get(e.userId);
    if (userIndex === undefined) {
      bad++;
      say(`${eventsName}:${item.line}: userId: no user ${e.userId} in ${usersName}`);
      continue;
    }
    // At least once from the sender, applied once: the live API ignores a repeated event id too.
    if (seen.has(e.eventId)) {
      duplicateEvents++;
      continue;
    }
    seen.add(e.eventId);
    const atMs = Date.parse(e.at);
    if (e.type === 'login') events.add(userIndex, { type: 'login', atMs });
    else if (e.type === 'investment')
      events.add(userIndex, { type: 'investment', atMs, amountFen: e.amountFen, bonusRate: e.bonusRate });
    else if (e.type === 'balance') events.add(userIndex, { type: 'balance', atMs, balanceFen: e.balanceFen });
    // message_opened changes nothing the policy reads.
  }
  seen.clear();
  events.seal(users.length);

  const lakeDir = join(opts.dataDir, 'lake');
  await removeBackfillParts(lakeDir, opts.from, opts.to);
  const days = dayNumber(opts.to) - dayNumber(opts.from) + 1;
  const bar = opts.progress
    ? new Progress(opts.progress).phase('backfill', { total: days * users.length, unit: 'user-days' })
    : undefined;
  const { rows } = await backfillDays({
    users,
    events,
    from: opts.from,
    to: opts.to,
    policy,
    lake: new LocalLakeWriter(lakeDir, { level: constants.Z_BEST_SPEED }),
    onProgress: (n) => bar?.tick(n),
  });
  bar?.finish();
  const seconds = (Date.now() - started) / 1000;
  return {
    users: users.length,
    events: events.size,
    duplicateEvents,
    days,
    rows,
    bad,
    seconds,
    exitCode: bad > 0 ? 1 : 0,
  };
}

/** A re-run with fewer users must not leave the earlier run's extra chunks behind. */
async function removeBackfillParts(lakeDir: string, from: string, to: string): Promise<void> {
  for (let n = dayNumber(from); n <= dayNumber(to); n++) {
    const dir = join(lakeDir, 'snapshots', `day=${dayOfNumber(n)}`);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) if (name.startsWith('backfill-')) await rm(join(dir, name), { force: true });
  }
}
