import type { LakeWriter } from '../adapters/lake.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import type { MessageLedger } from '../adapters/message-ledger.ts';
import type { OperatorNotifier } from '../adapters/operator-notifier.ts';
import { type RecallRecord, type RecallRepository, recallStartOf } from '../adapters/recall-repository.ts';
import type { Rewards } from '../adapters/rewards.ts';
import type { UserRepository } from '../adapters/user-repository.ts';
import type { WorkflowStarter } from '../adapters/workflow-starter.ts';
import type { Assessment, RecallChannel, StrategyKind } from '../domain/assessment.ts';
import type { Policy } from '../domain/policy.ts';
import {
  hasRelapsed,
  type RecallStart,
  recallEligibility,
  recallIdFor,
  type RecallTrigger as Trigger,
  WORKFLOW_TIMEOUT_DAYS,
} from '../domain/recall.ts';
import type { MessageTexts } from '../domain/templates.ts';
import { addDays, MS_PER_DAY, toMillis } from '../domain/time.ts';
import type { RiskLevel, UserRecord } from '../domain/user.ts';
import { writeOutcomeRowFor } from './recall-steps.ts';
import type { RecallTrigger } from './scan-segment.ts';

export interface StartRecallDeps {
  users: UserRepository;
  recalls: RecallRepository;
  workflow: WorkflowStarter;
  notifier: OperatorNotifier;
  policy: Policy;
  logger: WinbackLogger;
  /** Where a recall closed here (never started, or ended without Close) leaves its outcome row. */
  lake?: LakeWriter;
  ledger?: Pick<MessageLedger, 'forRecall'>;
  rewards?: Pick<Rewards, 'get'>;
}

export interface StartRecallRequest {
  userId: string;
  trigger: Trigger;
  level: RiskLevel;
  at: string;
  reasonCodes: string[];
  startAt?: RecallChannel;
  strategy?: StrategyKind;
  note?: string;
  /**
   * The id an earlier attempt of this request locked the user to before dying, with no episode
   * created: this attempt continues it, so an attempt still in flight cannot start a second recall.
   */
  recallId?: string;
  /** An operator's request, digested: stored on the episode so a retry of it gets this recall back. */
  requestKey?: string;
  /** A segment recall's own wording, checked by the API (checkMessageTexts). */
  message?: MessageTexts;
  /** Separates recalls of one user on one day by different triggers (a segment job id, a request). */
  discriminator?: string;
  /** Scheduled recalls respect the cool-down; an operator's manual recall does not. */
  respectCooldown: boolean;
  /** Free the user when Step Functions refused the start for certain (the operator retries at once). */
  releaseIfRefused?: boolean;
}

/** StartExecution answers that say no execution was created. */
const NOT_STARTED = new Set([
  'ExecutionLimitExceeded',
  'InvalidName',
  'InvalidExecutionInput',
  'InvalidArn',
  'StateMachineDoesNotExist',
  'StateMachineDeleting',
  'ValidationException',
  'AccessDeniedException',
]);

export type StartRecallResult =
  | { status: 'started' | 'resumed'; recallId: string; executionArn: string; consoleUrl: string }
  | { status: 'already_active'; recallId: string }
  | { status: 'cooldown' | 'user_not_found' };

/**
 * Steps: open the recall on the user record (one active recall per user, cool-down) → create the
 * episode once → start the execution named after it → note the execution on the episode.
 * Every step is safe to repeat, so a re-run of the day or a retry opens nothing twice.
 */
export async function startRecall(
  req: StartRecallRequest,
  deps: StartRecallDeps,
): Promise<StartRecallResult> {
  const recallId = req.recallId ?? recallIdFor(req.userId, req.trigger, req.at, req.discriminator);
  const cooldownStart = req.respectCooldown ? addDays(req.at, -deps.policy.recall.cooldownDays) : undefined;
  if ((await deps.users.openRecall(req.userId, recallId, cooldownStart)) === 'conflict') {
    const current = await deps.users.get(req.userId);
    if (!current) return { status: 'user_not_found' };
    if (typeof current.activeRecallId === 'string')
      return { status: 'already_active', recallId: current.activeRecallId };
    return { status: 'cooldown' };
  }
  const start: RecallStart = {
    recallId,
    userId: req.userId,
    trigger: req.trigger,
    level: req.level,
    startedAt: req.at,
    ...(req.startAt ? { startAt: req.startAt } : {}),
    ...(req.strategy ? { strategy: req.strategy } : {}),
    ...(req.message ? { message: req.message } : {}),
  };
  const created = await deps.recalls.createOnce({
    ...start,
    reasonCodes: req.reasonCodes,
    holdout: false,
    steps: [],
    ...(req.note ? { note: req.note } : {}),
    ...(req.requestKey ? { requestKey: req.requestKey } : {}),
  });
  // If the start fails in doubt, the lock stays: the execution may exist after all (a timeout after
  // the service accepted it), and releasing would let a second recall run beside it. A retry starts
  // it again under the same name (the daily scan does too). A start refused for certain frees a
  // manual user at once, so the operator's retry is not met by a lock nothing will run.
  let execution: Awaited<ReturnType<WorkflowStarter['start']>>;
  try {
    execution = await deps.workflow.start(recallId, start);
  } catch (error) {
    if (req.releaseIfRefused && NOT_STARTED.has((error as Error).name)) {
      await deps.recalls.close(recallId, {
        outcome: 'failed',
        closedAt: req.at,
        error: `not started: ${(error as Error).name}`,
      });
      await writeOutcomeRowFor(recallId, deps);
      await deps.users.releaseRecall(req.userId, recallId);
    }
    throw error;
  }
  await deps.recalls.setExecution(recallId, execution.executionArn);
  return {
    status: created && !execution.alreadyStarted ? 'started' : 'resumed',
    recallId,
    executionArn: execution.executionArn,
    consoleUrl: deps.workflow.consoleUrl(execution.executionArn),
  };
}

/**
 * The daily scan's recall trigger: watches returned users for a relapse, then opens a recall for
 * every at-risk or churned user who has none open and is out of the cool-down, and tells operators
 * about the users who need a human (high risk, lapsed high value).
 */
export class ScheduledRecalls implements RecallTrigger {
  /**
   * Episodes behind held locks, read for a whole page in one BatchGetItem by preparePage and taken
   * (once) by reconcile; without it every held lock cost one GetItem a day. Keyed by recall id, so
   * segments sharing this instance never see each other's entries.
   */
  readonly #heldEpisodes = new Map<string, RecallRecord | undefined>();

  constructor(private readonly deps: StartRecallDeps) {}

  async preparePage(users: readonly [UserRecord, Assessment][], asOf: string): Promise<void> {
    const held = users
      .map(([user]) => user)
      .filter((user) => this.#needsReconcile(user, asOf, recallEligibility(user, asOf, this.deps.policy)))
      .map((user) => user.activeRecallId!);
    if (held.length === 0) return;
    const found = await this.deps.recalls.getMany(held);
    for (const recallId of held) this.#heldEpisodes.set(recallId, found.get(recallId));
  }

  #needsReconcile(user: UserRecord, asOf: string, eligibility: string): boolean {
    return (
      eligibility === 'already_active' &&
      !!user.activeRecallId &&
      user.activeRecallId !== recallIdFor(user.userId, 'scheduled', asOf)
    );
  }

  async consider(user: UserRecord, assessment: Assessment, asOf: string): Promise<string> {
    if (hasRelapsed(user, assessment.status, asOf)) {
      await this.deps.notifier.notify({
        kind: 'relapse',
        userId: user.userId,
        subject: `relapse: ${user.userId} is ${assessment.status} again`,
        message: `User ${user.userId} came back from a recall (${user.lastRecallOutcome ?? 'returned'} at ${user.lastRecallClosedAt}) and is ${assessment.status} (${assessment.level}) again: ${assessment.reasons.map((r) => r.code).join(', ')}.`,
      });
      await this.deps.users.endRelapseWatch(user.userId);
    }
    const todaysRecall = recallIdFor(user.userId, 'scheduled', asOf);
    let eligibility = recallEligibility(user, asOf, this.deps.policy);
    if (this.#needsReconcile(user, asOf, eligibility)) {
      const reconciled = await this.reconcile(user.userId, user.activeRecallId!, asOf);
      if (reconciled !== 'released') return reconciled;
      eligibility = recallEligibility({ ...user, activeRecallId: undefined }, asOf, this.deps.policy);
    }
    // A recall opened earlier today but never started (a crash in between) is resumed, not skipped.
    if (eligibility !== 'eligible' && user.activeRecallId !== todaysRecall) return eligibility;
    const result = await startRecall(
      {
        userId: user.userId,
        trigger: 'scheduled',
        level: assessment.level,
        at: asOf,
        reasonCodes: assessment.reasons.map((r) => r.code),
        respectCooldown: true,
      },
      this.deps,
    );
    if (result.status === 'started') await this.alertIfNeeded(user, assessment, result.recallId);
    return result.status;
  }

  /**
   * The lock on the user record says a recall is open; make sure one really is. An episode that was
   * never started (the process died between lock and start) is started now under its own name; one
   * that closed without releasing the lock, or whose execution must have ended (older than the
   * workflow's 60-day timeout), frees the user. Without this a user could stay locked out for good.
   */
  private async reconcile(userId: string, recallId: string, asOf: string): Promise<string> {
    const prefetched = this.#heldEpisodes.has(recallId);
    const open = prefetched ? this.#heldEpisodes.get(recallId) : await this.deps.recalls.get(recallId);
    this.#heldEpisodes.delete(recallId);
    const ageDays = open
      ? (toMillis(asOf) - toMillis(open.startedAt)) / MS_PER_DAY
      : Number.POSITIVE_INFINITY;
    if (!open || open.outcome) {
      await this.deps.users.releaseRecall(userId, recallId);
      return 'released';
    }
    // Past the workflow's timeout no execution can still run; past the longest escalation the
    // policy allows, ask whether it does: one that ended without reaching Close (stopped by hand,
    // an uncaught runtime error) would otherwise lock the user.
    const longestDays =
      (this.deps.policy.recall.waitHours.afterInApp +
        this.deps.policy.recall.waitHours.afterPush +
        this.deps.policy.recall.waitHours.afterSms) /
        24 +
      2;
    const ended =
      ageDays > WORKFLOW_TIMEOUT_DAYS ||
      (open.executionArn !== undefined &&
        ageDays > longestDays &&
        !(await this.deps.workflow.isRunning(open.executionArn)));
    if (ended) {
      await this.deps.recalls.close(recallId, {
        outcome: 'failed',
        closedAt: asOf,
        error: 'execution ended without closing the recall',
      });
      await writeOutcomeRowFor(recallId, this.deps);
      await this.deps.users.closeRecall(userId, recallId, asOf, 'failed');
      return 'released';
    }
    if (!open.executionArn) {
      const execution = await this.deps.workflow.start(recallId, recallStartOf(open));
      await this.deps.recalls.setExecution(recallId, execution.executionArn);
      this.deps.logger.warn('recall found without an execution was started', { userId, recallId });
      return 'resumed';
    }
    return 'already_active';
  }

  private async alertIfNeeded(user: UserRecord, assessment: Assessment, recallId: string): Promise<void> {
    const highValue = assessment.reasons.some((r) => r.code === 'high_value_lapsed');
    if (assessment.level !== 'high' && !highValue) return;
    const what = highValue ? 'lapsed high-value user' : 'high-risk user';
    await this.deps.notifier.notify({
      kind: highValue ? 'high_value_lapsed' : 'high_risk',
      userId: user.userId,
      subject: `${what}: ${user.userId}`,
      message: `${what} ${user.userId} (${assessment.status}, score ${assessment.score}, ${assessment.lifecycle}, channel ${user.channel}): ${assessment.reasons
        .map((r) => `${r.code}=${r.value}`)
        .join(', ')}. Recall ${recallId} started; consider a personal call.`,
    });
  }
}
