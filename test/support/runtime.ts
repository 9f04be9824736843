import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, inject } from 'vitest';
import { createQuietLogger } from '../../functions/adapters/logger.ts';
import type { MessageRecord } from '../../functions/adapters/message-ledger.ts';
import type { RecallRecord } from '../../functions/adapters/recall-repository.ts';
import type { RewardRecord } from '../../functions/adapters/rewards.ts';
import { assess, type RecallChannel } from '../../functions/domain/assessment.ts';
import type { RecallOutcomeRow } from '../../functions/domain/effectiveness.ts';
import type { RecallTrigger } from '../../functions/domain/recall.ts';
import { addDays, toIso } from '../../functions/domain/time.ts';
import { parseUserRecord, type UserRecord } from '../../functions/domain/user.ts';
import {
  type ActivityEvent,
  type ActivityResult,
  recordActivity,
} from '../../functions/use-cases/record-activity.ts';
import { type StartRecallResult, startRecall } from '../../functions/use-cases/start-recall.ts';
import type { OutboxItem } from '../../local/outbox.ts';
import { Runtime } from '../../local/runtime.ts';
import type { LocalExecution, LocalHistoryEvent } from '../../local/workflow-engine.ts';
import { newTablePrefix } from './dynalite.ts';
import { AS_OF, aUser, daysBefore } from './fixtures.ts';

export interface TestRuntimeOptions {
  policy?: unknown;
  /** Simulated start time; AS_OF (09:00 Asia/Shanghai, 2026-11-24) when absent. */
  start?: Date;
}

const logs = new WeakMap<Runtime, Record<string, unknown>[]>();

/**
 * The embedded runtime on the run-wide dynalite, with its own tables (a fresh prefix per call).
 * Warnings and errors the handlers log are kept for `loggedBy(rt)` instead of going to stderr.
 */
export async function startTestRuntime(opts: TestRuntimeOptions = {}): Promise<Runtime> {
  const lines: Record<string, unknown>[] = [];
  const rt = await Runtime.start({
    endpoint: inject('dynamoEndpoint'),
    tablePrefix: newTablePrefix(),
    start: opts.start ?? AS_OF,
    policy: opts.policy,
    logger: createQuietLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
  });
  logs.set(rt, lines);
  return rt;
}

/** What the runtime's handlers logged (warnings and errors), oldest first. */
export function loggedBy(rt: Runtime): Record<string, unknown>[] {
  return logs.get(rt) ?? [];
}

/**
 * One runtime for the enclosing describe block (or file): started in beforeAll, stopped in afterAll.
 * Read `.rt` inside tests and hooks only.
 */
export function useTestRuntime(opts: TestRuntimeOptions = {}): { readonly rt: Runtime } {
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    runtime = await startTestRuntime(opts);
  });
  afterAll(async () => {
    await runtime?.stop();
  });
  return {
    get rt(): Runtime {
      if (!runtime) throw new Error('the test runtime is not started yet: read .rt inside a test or hook');
      return runtime;
    },
  };
}

export async function putUsers(rt: Runtime, ...users: UserRecord[]): Promise<void> {
  for (const user of users) await rt.users.put(user);
}

/** The stored user record, parsed. */
export async function readUser(rt: Runtime, userId: string): Promise<UserRecord & Record<string, unknown>> {
  const item = await rt.users.get(userId);
  if (!item) throw new Error(`no user ${userId}`);
  const parsed = parseUserRecord(item);
  if (!parsed.ok) throw new Error(`user ${userId} is invalid: ${JSON.stringify(parsed.issues)}`);
  return { ...item, ...parsed.value } as UserRecord & Record<string, unknown>;
}

export interface StartOptions {
  /** When the recall starts; the runtime's current simulated time when absent. */
  at?: string;
  trigger?: RecallTrigger;
  discriminator?: string;
}

/**
 * Starts a recall the way the daily scan does: assess the stored user as of `at`, then `startRecall`
 * with the assessment's level and reason codes and the cool-down respected. Lets the execution run
 * until it is parked in its first wait.
 */
export async function startRecallLikeScan(
  rt: Runtime,
  userId: string,
  opts: StartOptions = {},
): Promise<StartRecallResult> {
  const at = opts.at ?? rt.clock.nowIso();
  if (Date.parse(at) > rt.clock.nowMs()) await rt.advanceTo(at);
  const user = await readUser(rt, userId);
  const assessment = assess(user, rt.policy, new Date(at));
  const result = await startRecall(
    {
      userId,
      trigger: opts.trigger ?? 'scheduled',
      level: assessment.level,
      at,
      reasonCodes: assessment.reasons.map((r) => r.code),
      respectCooldown: (opts.trigger ?? 'scheduled') !== 'manual',
      ...(opts.discriminator ? { discriminator: opts.discriminator } : {}),
    },
    rt.startDeps,
  );
  await rt.idle();
  return result;
}

let eventSeq = 0;

export type ActivityInput = ActivityEvent extends infer E
  ? E extends ActivityEvent
    ? Omit<E, 'eventId' | 'at'> & { eventId?: string; at?: string }
    : never
  : never;

/** Applies an activity event at a simulated time: moves the clock to `at` first (now when absent). */
export async function applyActivity(rt: Runtime, event: ActivityInput): Promise<ActivityResult> {
  const at = event.at ?? rt.clock.nowIso();
  if (Date.parse(at) > rt.clock.nowMs()) await rt.advanceTo(at);
  const full = {
    ...event,
    at,
    eventId: event.eventId ?? `evt-${++eventSeq}-${event.userId}`,
  } as ActivityEvent;
  const result = await recordActivity(full, rt.activityDeps);
  await rt.idle();
  return result;
}

/** The recall's execution (named after the recall); throws when there is none. */
export function executionOf(rt: Runtime, recallId: string): LocalExecution {
  const execution = rt.recallWorkflow.describe(recallId);
  if (!execution) throw new Error(`no recall execution named ${recallId}`);
  return execution;
}

/**
 * Advances simulated time a day at a time (at most `maxDays`) until the recall's execution stops,
 * then waits for its history to be complete. Throws if it is still running after `maxDays`.
 */
export async function runRecallToEnd(rt: Runtime, recallId: string, maxDays = 30): Promise<LocalExecution> {
  const execution = executionOf(rt, recallId);
  await rt.idle();
  for (let day = 0; day < maxDays && execution.status === 'RUNNING'; day++) {
    await rt.advanceTo(addDays(rt.clock.now(), 1));
  }
  if (execution.status === 'RUNNING') {
    throw new Error(`recall ${recallId} still running after ${maxDays} simulated days`);
  }
  await execution.done;
  return execution;
}

export async function readRecall(rt: Runtime, recallId: string): Promise<RecallRecord> {
  const recall = await rt.recalls.get(recallId);
  if (!recall) throw new Error(`no recall record ${recallId}`);
  return recall;
}

/** The recall's ledger rows in escalation order (by claim time, then step). */
export async function ledgerOf(rt: Runtime, recallId: string): Promise<MessageRecord[]> {
  const order = { in_app: 0, push: 1, sms: 2 } as const;
  return (await rt.ledger.forRecall(recallId)).sort(
    (a, b) => a.claimedAt.localeCompare(b.claimedAt) || order[a.step] - order[b.step],
  );
}

/** The ledger rows that were actually sent, in send order. */
export async function sentMessages(rt: Runtime, recallId: string): Promise<MessageRecord[]> {
  return (await ledgerOf(rt, recallId))
    .filter((m) => m.status === 'sent')
    .sort((a, b) => a.sentAt!.localeCompare(b.sentAt!));
}

/** Outbox items (push, SMS, operator), oldest first, optionally for one recall and/or channel. */
export async function outboxItems(
  rt: Runtime,
  filter: { recallId?: string; channel?: OutboxItem['channel']; kind?: string } = {},
): Promise<OutboxItem[]> {
  const items: OutboxItem[] = [];
  for await (const item of rt.outbox.scanAll()) {
    if (filter.recallId !== undefined && item.recallId !== filter.recallId) continue;
    if (filter.channel !== undefined && item.channel !== filter.channel) continue;
    if (filter.kind !== undefined && item.kind !== filter.kind) continue;
    items.push(item);
  }
  return items.sort((a, b) => a.outboxId.localeCompare(b.outboxId));
}

export async function rewardsOf(rt: Runtime, userId: string): Promise<RewardRecord[]> {
  return rt.rewards.forUser(userId);
}

/** Names of the states entered, in order. */
export function statePath(execution: Pick<LocalExecution, 'history'>): string[] {
  return execution.history.filter((e) => e.type === 'StateEntered').map((e) => e.state!);
}

/** Every history event of one type for one state. */
export function eventsFor(
  execution: Pick<LocalExecution, 'history'>,
  state: string,
  type = 'StateEntered',
): LocalHistoryEvent[] {
  return execution.history.filter((e) => e.state === state && e.type === type);
}

/** Simulated time a state was first entered. */
export function enteredAt(execution: Pick<LocalExecution, 'history'>, state: string): string {
  const event = eventsFor(execution, state)[0];
  if (!event) throw new Error(`state "${state}" was never entered`);
  return event.at;
}

const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/**
 * The first instant strictly after the runtime's current time (or `after`) that reads `hh:mm` on a
 * wall clock in Asia/Shanghai (UTC+8 all year, no daylight saving).
 */
export function nextShanghaiTime(rt: Runtime, hhmm: string, after?: string): string {
  const from = after ? Date.parse(after) : rt.clock.nowMs();
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const localDay = new Date(from + SHANGHAI_OFFSET_MS);
  localDay.setUTCHours(0, 0, 0, 0);
  for (let d = 0; d < 3; d++) {
    const candidate = localDay.getTime() + d * 86_400_000 + (h * 60 + m) * 60_000 - SHANGHAI_OFFSET_MS;
    if (candidate > from) return toIso(candidate);
  }
  throw new Error('unreachable');
}

/** Hours between two instants. */
export function hoursBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 3_600_000;
}

/** Every row of the lake's recalls table for one recall, with the file it is in. */
export function lakeOutcomeRows(rt: Runtime, recallId: string): { file: string; row: RecallOutcomeRow }[] {
  const root = join(rt.lakeDir, 'recalls');
  const found: { file: string; row: RecallOutcomeRow }[] = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.jsonl.gz')) continue;
    const file = join(entry.parentPath, entry.name);
    for (const line of gunzipSync(readFileSync(file)).toString('utf8').split('\n')) {
      if (!line) continue;
      const row = JSON.parse(line) as RecallOutcomeRow;
      if (row.recallId === recallId) found.push({ file: file.slice(root.length + 1), row });
    }
  }
  return found;
}

/** At risk (low) as of AS_OF: `inactive_login` fires after 14 days without login. */
export const INACTIVE_20_DAYS = { lastLoginAt: daysBefore(AS_OF, 20), lastInvestAt: daysBefore(AS_OF, 20) };

/** A lapsed user and an open episode, ready for one send step to be called directly. */
export async function openSendStep(rt: Runtime, userId: string, channel: RecallChannel) {
  await putUsers(rt, aUser({ userId, ...INACTIVE_20_DAYS }));
  const input = {
    recallId: `r-test-${userId}`,
    userId,
    channel,
    plan: {
      channels: ['in_app', 'push', 'sms'] as RecallChannel[],
      strategies: [{ kind: 'reminder' as const }],
    },
  };
  await rt.recalls.createOnce({
    recallId: input.recallId,
    userId,
    trigger: 'scheduled',
    level: 'low',
    startedAt: AS_OF.toISOString(),
    reasonCodes: [],
    holdout: false,
    steps: [],
  });
  return { deps: rt.stepDeps, input };
}
