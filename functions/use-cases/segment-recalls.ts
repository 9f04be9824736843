import type {
  JobCheckpoint,
  JobRepository,
  SegmentJob,
  SegmentJobCounts,
} from '../adapters/job-repository.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import { forEachLimited, type UserRepository } from '../adapters/user-repository.ts';
import { MAX_SAMPLE, type SegmentFilter, type SegmentRequest } from '../domain/api-schemas.ts';
import { type Assessment, assess } from '../domain/assessment.ts';
import type { Policy } from '../domain/policy.ts';
import { parseUserRecord, type UserRecord } from '../domain/user.ts';
import { ConflictError, NotFoundError } from './api-errors.ts';
import { type StartRecallDeps, startRecall } from './start-recall.ts';

export interface SegmentDeps {
  users: UserRepository;
  jobs: JobRepository;
  start: StartRecallDeps;
  policy: Policy;
  logger: WinbackLogger;
  now: () => Date;
  newJobId: () => string;
  /** Real elapsed milliseconds (not simulated time): pacing is about the Step Functions quota. */
  monotonicMs: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Recall starts per second across a run; a third of the smallest regional StartExecution rate. */
  startsPerSecond: number;
  /** Starts in flight at once within a page. */
  concurrency: number;
}

/** How much one request may do: a number of pages and the time left before it must answer. */
export interface RunBudget {
  maxPages: number;
  remainingMs: () => number;
}

/** Dry runs read big pages: they only count, and the answer is due within one request. */
const DRY_RUN_PAGE = 1000;

/** Whether an assessed user belongs to the segment. Assessment-based criteria use the verdict as of now. */
export function matchesSegment(user: UserRecord, assessment: Assessment, filter: SegmentFilter): boolean {
  const within = <T>(allowed: readonly T[] | undefined, value: T | undefined) =>
    allowed === undefined || (value !== undefined && allowed.includes(value));
  if (!within(filter.status, assessment.status)) return false;
  if (!within(filter.level, assessment.level)) return false;
  if (!within(filter.lifecycle, assessment.lifecycle)) return false;
  if (!within(filter.channel, user.channel)) return false;
  if (!within(filter.churnReason, user.churnReason)) return false;
  const registered = filter.registeredBetween;
  if (registered?.from && user.registeredAt < registered.from) return false;
  if (registered?.to && user.registeredAt >= registered.to) return false;
  if (filter.notRecalledSince) {
    if (user.activeRecallId) return false;
    if (user.lastRecallClosedAt && user.lastRecallClosedAt >= filter.notRecalledSince) return false;
  }
  return true;
}

type Evaluated =
  | { kind: 'match'; user: UserRecord; assessment: Assessment }
  | { kind: 'no_match' | 'invalid' };

function evaluate(
  item: Record<string, unknown>,
  filter: SegmentFilter,
  policy: Policy,
  now: Date,
): Evaluated {
  const parsed = parseUserRecord(item);
  if (!parsed.ok) return { kind: 'invalid' };
  const assessment = assess(parsed.value, policy, now);
  return matchesSegment(parsed.value, assessment, filter)
    ? { kind: 'match', user: parsed.value, assessment }
    : { kind: 'no_match' };
}

export interface DryRunResult {
  dryRun: true;
  matched: number;
  processed: number;
  complete: boolean;
  sample: string[];
}

/** Counts the segment and samples it, starting nothing; stops early (complete: false) when time runs out. */
export async function dryRunSegment(
  filter: SegmentFilter,
  budget: Pick<RunBudget, 'remainingMs'>,
  deps: SegmentDeps,
): Promise<DryRunResult> {
  const now = deps.now();
  const result: DryRunResult = { dryRun: true, matched: 0, processed: 0, complete: false, sample: [] };
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await deps.users.scanPage(0, 1, cursor, DRY_RUN_PAGE);
    for (const item of page.items) {
      result.processed++;
      const verdict = evaluate(item, filter, deps.policy, now);
      if (verdict.kind !== 'match') continue;
      result.matched++;
      if (result.sample.length < MAX_SAMPLE) result.sample.push(verdict.user.userId);
    }
    cursor = page.cursor;
  } while (cursor && budget.remainingMs() > 0);
  result.complete = cursor === undefined;
  return result;
}

/**
 * Steps: write the job (filter, strategy, empty counts) → run it: page by page, assess and filter each
 * user, start a recall for each match (trigger 'segment', discriminator = job id, cool-down respected,
 * paced) → after every page write cursor and counts together → stop when the budget is spent (paused)
 * or the table is done. Recall ids are deterministic in (user, day, job), so a page repeated after a
 * crash starts nothing twice.
 */
export async function startSegmentJob(
  req: Omit<SegmentRequest, 'dryRun'>,
  budget: RunBudget,
  deps: SegmentDeps,
): Promise<SegmentJob> {
  const at = deps.now().toISOString();
  const job: SegmentJob = {
    jobId: deps.newJobId(),
    kind: 'segment_recall',
    status: 'running',
    filter: req.filter,
    ...(req.strategy ? { strategy: req.strategy } : {}),
    ...(req.startAt ? { startAt: req.startAt } : {}),
    ...(req.reason ? { reason: req.reason } : {}),
    ...(req.note ? { note: req.note } : {}),
    ...(req.message ? { message: req.message } : {}),
    pageSize: req.pageSize,
    counts: { processed: 0, matched: 0, started: 0, skipped: {} },
    pages: 0,
    version: 0,
    createdAt: at,
    updatedAt: at,
  };
  if (!(await deps.jobs.create(job))) throw new Error(`job id ${job.jobId} already taken`);
  return runJob(job, budget, deps);
}

export async function getSegmentJob(jobId: string, deps: Pick<SegmentDeps, 'jobs'>): Promise<SegmentJob> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new NotFoundError('job_not_found', 'no segment job with this id');
  return job;
}

/** Continues a job from its cursor. A run that died mid-page left status running; it may be resumed too. */
export async function resumeSegmentJob(
  jobId: string,
  budget: RunBudget,
  deps: SegmentDeps,
): Promise<SegmentJob> {
  const job = await getSegmentJob(jobId, deps);
  if (job.status === 'done') throw new ConflictError('job_done', 'this job has finished');
  const claim: JobCheckpoint = {
    status: 'running',
    ...(job.cursor ? { cursor: job.cursor } : {}),
    counts: job.counts,
    pages: job.pages,
    updatedAt: deps.now().toISOString(),
  };
  if (!(await deps.jobs.checkpoint(jobId, job.version, claim))) {
    throw new ConflictError('job_busy', 'another run of this job just moved it on; read its progress');
  }
  return runJob({ ...job, ...claim, version: job.version + 1 }, budget, deps);
}

async function runJob(job: SegmentJob, budget: RunBudget, deps: SegmentDeps): Promise<SegmentJob> {
  const pace = pacer(deps);
  let current = job;
  for (let pages = 0; ; ) {
    let next: JobCheckpoint;
    try {
      const page = await deps.users.scanPage(0, 1, current.cursor, current.pageSize);
      const counts = await processPage(page.items, current, deps, pace);
      pages++;
      const more = page.cursor !== undefined && pages < budget.maxPages && budget.remainingMs() > 0;
      next = {
        status: page.cursor === undefined ? 'done' : more ? 'running' : 'paused',
        ...(page.cursor ? { cursor: page.cursor } : {}),
        counts,
        pages: current.pages + 1,
        updatedAt: deps.now().toISOString(),
      };
    } catch (error) {
      // The cursor stays before this page: a resume repeats it, and repeated starts are no-ops.
      deps.logger.error('segment job page failed; paused for resume', {
        jobId: job.jobId,
        error: (error as Error).message,
      });
      next = {
        status: 'paused',
        ...(current.cursor ? { cursor: current.cursor } : {}),
        counts: current.counts,
        pages: current.pages,
        updatedAt: deps.now().toISOString(),
        lastError: `${(error as Error).name}: page failed; resume to retry it`,
      };
    }
    if (!(await deps.jobs.checkpoint(current.jobId, current.version, next))) {
      // Another run moved the job on meanwhile; its record is the truth and this run stops.
      return (await deps.jobs.get(current.jobId)) ?? current;
    }
    const { cursor: _, lastError: __, ...rest } = current;
    current = { ...rest, ...next, version: current.version + 1 };
    if (next.status !== 'running') return current;
  }
}

async function processPage(
  items: Record<string, unknown>[],
  job: SegmentJob,
  deps: SegmentDeps,
  pace: () => Promise<void>,
): Promise<SegmentJobCounts> {
  const counts: SegmentJobCounts = { ...job.counts, skipped: { ...job.counts.skipped } };
  const skip = (reason: string) => {
    counts.skipped[reason] = (counts.skipped[reason] ?? 0) + 1;
  };
  const now = deps.now();
  const at = now.toISOString();
  const matches: { user: UserRecord; assessment: Assessment }[] = [];
  for (const item of items) {
    counts.processed++;
    const verdict = evaluate(item, job.filter, deps.policy, now);
    if (verdict.kind === 'invalid') skip('invalid_record');
    if (verdict.kind === 'match') matches.push(verdict);
  }
  counts.matched += matches.length;
  await forEachLimited(matches, deps.concurrency, async ({ user, assessment }) => {
    await pace();
    const codes = assessment.reasons.map((r) => r.code);
    const result = await startRecall(
      {
        userId: user.userId,
        trigger: 'segment',
        level: assessment.level,
        at,
        reasonCodes: job.reason ? [job.reason, ...codes] : codes.length > 0 ? codes : ['segment'],
        ...(job.startAt ? { startAt: job.startAt } : {}),
        ...(job.strategy ? { strategy: job.strategy } : {}),
        ...(job.note ? { note: job.note } : {}),
        ...(job.message ? { message: job.message } : {}),
        discriminator: job.jobId,
        respectCooldown: true,
      },
      deps.start,
    );
    // 'resumed' is this job's own recall from a repeated page: it was started, once.
    if (result.status === 'started' || result.status === 'resumed') counts.started++;
    else skip(result.status);
  });
  return counts;
}

/** Spaces starts evenly at `startsPerSecond`, whatever the concurrency. */
function pacer(deps: Pick<SegmentDeps, 'startsPerSecond' | 'monotonicMs' | 'sleep'>): () => Promise<void> {
  const gap = 1000 / deps.startsPerSecond;
  let nextSlot = deps.monotonicMs();
  return async () => {
    const now = deps.monotonicMs();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + gap;
    if (slot > now) await deps.sleep(slot - now);
  };
}

export interface JobProgress {
  jobId: string;
  status: SegmentJob['status'];
  processed: number;
  matched: number;
  started: number;
  skipped: Record<string, number>;
  pages: number;
  cursor: string | null;
  [field: string]: unknown;
}

/** The job as the API shows it; the cursor is opaque (it is a table key). */
export function jobProgress(job: SegmentJob): JobProgress {
  return {
    jobId: job.jobId,
    status: job.status,
    processed: job.counts.processed,
    matched: job.counts.matched,
    started: job.counts.started,
    skipped: job.counts.skipped,
    pages: job.pages,
    cursor: job.cursor ? Buffer.from(JSON.stringify(job.cursor)).toString('base64url') : null,
    filter: job.filter,
    ...(job.strategy ? { strategy: job.strategy } : {}),
    ...(job.startAt ? { startAt: job.startAt } : {}),
    pageSize: job.pageSize,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.lastError ? { lastError: job.lastError } : {}),
  };
}
