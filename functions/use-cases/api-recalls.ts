import { createHash } from 'node:crypto';
import { type RecallRecord, type RecallRepository, recallStartOf } from '../adapters/recall-repository.ts';
import type { Rewards } from '../adapters/rewards.ts';
import type { RecallRequest } from '../domain/api-schemas.ts';
import { assess } from '../domain/assessment.ts';
import { nextSendableTime } from '../domain/time.ts';
import { parseUserRecord } from '../domain/user.ts';
import { ConflictError, InvalidStoredRecordError, NotFoundError } from './api-errors.ts';
import { type StartRecallDeps, startRecall } from './start-recall.ts';

export interface RecallApiDeps {
  start: StartRecallDeps;
  recalls: RecallRepository;
  rewards: Rewards;
  now: () => Date;
  /** A few random characters: two manual recalls of one user never share an id, even within a millisecond. */
  nonce: () => string;
}

export interface RecallStarted {
  recallId: string;
  status: 'started' | 'resumed';
  executionArn: string;
  consoleUrl: string;
  /** When the first message goes: now, or when the user's quiet hours end. */
  firstSendAt: string;
}

/**
 * Steps: load the user (an open recall is a conflict, so a repeated request starts nothing) → assess
 * now → start a manual recall through the same guardrails as the scan (the conditional write keeps
 * one active recall per user; an operator's start ignores the cool-down) → answer with the execution.
 */
export async function startManualRecall(req: RecallRequest, deps: RecallApiDeps): Promise<RecallStarted> {
  const item = await deps.start.users.get(req.userId);
  if (!item) throw new NotFoundError('user_not_found', 'no user with this id');
  const parsed = parseUserRecord(item);
  if (!parsed.ok) throw new InvalidStoredRecordError(parsed.issues.map((i) => i.field));
  const requestKey = requestKeyOf(req);
  const lockId = parsed.value.activeRecallId;
  if (lockId) {
    const open = await deps.recalls.get(lockId);
    const resumed = await resumeOpen(open, requestKey, deps);
    if (resumed) {
      const { startedAt, ...started } = resumed;
      return { ...started, firstSendAt: firstSendAfter(startedAt, parsed.value.timeZone, deps) };
    }
    // An operator's attempt that locked the user and died before creating the recall is continued
    // below under its id; anything else open is a conflict.
    if (open || !lockId.startsWith(MANUAL_PREFIX)) throw alreadyActive(lockId);
  }
  const now = deps.now();
  const at = now.toISOString();
  const assessment = assess(parsed.value, deps.start.policy, now);
  const reasonCodes = [...(req.reason ? [req.reason] : []), ...assessment.reasons.map((r) => r.code)];
  const result = await startRecall(
    {
      userId: req.userId,
      trigger: 'manual',
      level: assessment.level,
      at,
      reasonCodes: reasonCodes.length > 0 ? reasonCodes : ['manual'],
      ...(req.startAt ? { startAt: req.startAt } : {}),
      ...(req.strategy ? { strategy: req.strategy } : {}),
      ...(req.note ? { note: req.note } : {}),
      discriminator: `${at.slice(11, 19).replace(/:/g, '')}${deps.nonce()}`,
      requestKey,
      ...(lockId ? { recallId: lockId } : {}),
      respectCooldown: false,
      releaseIfRefused: true,
    },
    deps.start,
  );
  switch (result.status) {
    case 'started':
    case 'resumed':
      return { ...result, firstSendAt: firstSendAfter(at, parsed.value.timeZone, deps) };
    case 'already_active':
      throw alreadyActive(result.recallId);
    case 'cooldown':
      throw new ConflictError('recall_cooldown', 'this user was recalled recently');
    case 'user_not_found':
      throw new NotFoundError('user_not_found', 'no user with this id');
  }
}

/** A recall's first message waits for sending hours (Prepare's sendAt); in-app included. */
function firstSendAfter(at: string, timeZone: string, deps: RecallApiDeps): string {
  return nextSendableTime(at, timeZone, deps.start.policy.recall.quietHours);
}

/** A manual recall's id (recallIdFor): a lock naming one on a user's record is an operator's. */
const MANUAL_PREFIX = 'm-';

/** How long after a request its repeat is read as a retry (a client's retries come within minutes). */
export const MANUAL_RETRY_WINDOW_MS = 15 * 60_000;

/** What the operator asked for, digested: the same body gives the same key. */
function requestKeyOf(req: RecallRequest): string {
  const asked = [req.userId, req.reason ?? null, req.strategy ?? null, req.startAt ?? null, req.note ?? null];
  return createHash('sha256').update(JSON.stringify(asked)).digest('hex').slice(0, 32);
}

/**
 * The user's open recall is an operator's that an earlier attempt left, so the retry answers with
 * it instead of 409 for a recall the operator was never told about:
 * - its start failed in doubt (no execution noted on it): started now under its own name;
 * - it is running, and this is the same request again within MANUAL_RETRY_WINDOW_MS (the attempt
 *   that started it died, or timed out, before answering): answered with that execution.
 * Any other request meets the open recall as a conflict.
 */
async function resumeOpen(
  open: RecallRecord | undefined,
  requestKey: string,
  deps: RecallApiDeps,
): Promise<(Omit<RecallStarted, 'firstSendAt'> & { startedAt: string }) | undefined> {
  if (!open || open.outcome || open.trigger !== 'manual') return undefined;
  const { recallId } = open;
  let executionArn = open.executionArn;
  if (!executionArn) {
    executionArn = (await deps.start.workflow.start(recallId, recallStartOf(open))).executionArn;
    await deps.recalls.setExecution(recallId, executionArn);
  } else {
    const age = deps.now().getTime() - Date.parse(open.startedAt);
    if (open.requestKey !== requestKey || age > MANUAL_RETRY_WINDOW_MS) return undefined;
  }
  return {
    recallId,
    status: 'resumed',
    executionArn,
    consoleUrl: deps.start.workflow.consoleUrl(executionArn),
    startedAt: open.startedAt,
  };
}

function alreadyActive(recallId: string): ConflictError {
  return new ConflictError('recall_already_active', 'this user already has an open recall', { recallId });
}

export interface RecallView {
  recallId: string;
  userId: string;
  trigger: RecallRecord['trigger'];
  status: 'active' | 'closed';
  level: RecallRecord['level'];
  startedAt: string;
  reasonCodes: string[];
  holdout: boolean;
  plan: RecallRecord['plan'] | null;
  steps: RecallRecord['steps'];
  outcome: {
    outcome: NonNullable<RecallRecord['outcome']>;
    closedAt?: string;
    returnedAt?: string;
    returnedBy?: string;
    winningStep?: string;
    error?: string;
  } | null;
  reward: Record<string, unknown> | null;
  executionArn?: string;
  consoleUrl?: string;
  /** When the first message went, or, while nothing has, when it will; null if none will. */
  firstSendAt: string | null;
  [extra: string]: unknown;
}

/** A recall as operators read it: plan, each step with its time and result, outcome and reward. */
export async function recallStatus(recallId: string, deps: RecallApiDeps): Promise<RecallView> {
  const recall = await deps.recalls.get(recallId);
  if (!recall) throw new NotFoundError('recall_not_found', 'no recall with this id');
  const reward = recall.rewardId ? await deps.rewards.get(recall.rewardId) : undefined;
  const { outcome, closedAt, returnedAt, returnedBy, winningStep, error } = recall;
  const sent = (recall.steps ?? [])
    .filter((s) => s.result === 'sent')
    .sort((a, b) => a.at.localeCompare(b.at));
  let firstSendAt: string | null = sent[0]?.at ?? null;
  if (!firstSendAt && !outcome && recall.plan?.route !== 'skip') {
    const user = parseUserRecord(await deps.start.users.get(recall.userId));
    const from = [deps.now().toISOString(), recall.startedAt].sort()[1]!;
    if (user.ok) firstSendAt = firstSendAfter(from, user.value.timeZone, deps);
  }
  return {
    recallId: recall.recallId,
    userId: recall.userId,
    trigger: recall.trigger,
    status: outcome ? 'closed' : 'active',
    level: recall.level,
    startedAt: recall.startedAt,
    ...(recall.startAt ? { startAt: recall.startAt } : {}),
    ...(recall.strategy ? { strategy: recall.strategy } : {}),
    ...(recall.note ? { note: recall.note } : {}),
    reasonCodes: recall.reasonCodes ?? [],
    holdout: recall.holdout ?? false,
    plan: recall.plan ?? null,
    steps: [...(recall.steps ?? [])].sort((a, b) => a.at.localeCompare(b.at)),
    firstSendAt,
    outcome: outcome ? { outcome, closedAt, returnedAt, returnedBy, winningStep, error } : null,
    reward: reward
      ? {
          rewardId: reward.rewardId,
          amountFen: reward.amountFen,
          unlockInvestFen: reward.unlockInvestFen,
          status: reward.status,
          issuedAt: reward.issuedAt,
          expiresAt: reward.expiresAt,
          ...(reward.unlockedAt ? { unlockedAt: reward.unlockedAt } : {}),
        }
      : null,
    ...(recall.executionArn
      ? { executionArn: recall.executionArn, consoleUrl: deps.start.workflow.consoleUrl(recall.executionArn) }
      : {}),
  };
}
