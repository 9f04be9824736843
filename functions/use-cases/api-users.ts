import { type Inbox, type InboxPage, InvalidPageTokenError } from '../adapters/inbox.ts';
import type { LakeWriter } from '../adapters/lake.ts';
import type { UserRepository } from '../adapters/user-repository.ts';
import type { Feedback, PutUserBody } from '../domain/api-schemas.ts';
import { type Assessment, assess } from '../domain/assessment.ts';
import type { Policy } from '../domain/policy.ts';
import { feedbackRow } from '../domain/snapshot.ts';
import { timesTooFarAhead, toIso } from '../domain/time.ts';
import { parseUserRecord, StoredAssessmentSchema, userProfileShape } from '../domain/user.ts';
import { InvalidRequestError, InvalidStoredRecordError, NotFoundError } from './api-errors.ts';

export interface UserApiDeps {
  users: UserRepository;
  inbox: Inbox;
  policy: Policy;
  now: () => Date;
  /** Keeps every answer as a `feedback` row; the record itself keeps only the last. */
  lake?: LakeWriter;
}

/**
 * Events and feedback maintain these too: a profile that leaves them out does not erase them. The
 * counters events add to (investCount, totalInvestedFen, maxInvestFen) only move forward on a PUT,
 * and the balance is set on create, or later only with a `balanceAt` newer than the stored one.
 */
const KEPT_WHEN_ABSENT = new Set(['lastLoginAt', 'lastInvestAt', 'churnReason']);
/** Applied like events: an older time in a profile never moves the stored one back. */
const FORWARD_ONLY = ['lastLoginAt', 'lastInvestAt'] as const;

/**
 * Steps: write every profile field of the body in one update (creating the record if needed), remove
 * the optional profile fields it leaves out (a withdrawn phone number is forgotten), keep what winback
 * maintains (assessment, activeRecallId, ...) → move login/investment times forward only.
 */
export async function putUserProfile(
  userId: string,
  body: PutUserBody,
  deps: UserApiDeps,
): Promise<{ userId: string; created: boolean }> {
  const skew = deps.policy.input.futureSkewMinutes;
  const ahead = timesTooFarAhead(
    {
      registeredAt: body.registeredAt,
      lastLoginAt: body.lastLoginAt,
      lastInvestAt: body.lastInvestAt,
      balanceAt: body.balanceAt,
    },
    deps.now(),
    skew,
  );
  if (ahead.length > 0) {
    throw new InvalidRequestError(
      ahead.map((field) => ({
        in: 'body',
        field,
        message: `must not be more than ${skew} minutes after the server's time`,
      })),
    );
  }
  const {
    userId: _sameUser,
    lastLoginAt,
    lastInvestAt,
    investCount,
    totalInvestedFen,
    maxInvestFen,
    balanceFen,
    balanceAt,
    ...profile
  } = body;
  const remove = Object.keys(userProfileShape).filter(
    (field) => field !== 'userId' && !(field in body) && !KEPT_WHEN_ABSENT.has(field),
  );
  const counters = { investCount, totalInvestedFen, maxInvestFen };
  const written = await deps.users.writeProfile(
    userId,
    { ...profile, registeredAt: toIso(profile.registeredAt), updatedAt: deps.now().toISOString() },
    remove,
    { ...counters, balanceFen },
  );
  if (written.result === 'updated') {
    for (const [field, value] of Object.entries(counters) as [keyof typeof counters, number][]) {
      if (!(Number(written.previous?.[field] ?? -1) >= value))
        await deps.users.advanceCounter(userId, field, value);
    }
  }
  // The balance follows the events' rule: applied only with a time newer than the last one applied.
  if (balanceAt) await deps.users.setBalance(userId, balanceFen, toIso(balanceAt));
  const times = { lastLoginAt, lastInvestAt };
  for (const field of FORWARD_ONLY) {
    const at = times[field];
    if (at) await deps.users.advanceTime(userId, field, toIso(at));
  }
  return { userId, created: written.result === 'created' };
}

export interface AssessmentView {
  userId: string;
  fresh: boolean;
  status: Assessment['status'];
  level: Assessment['level'];
  score: number;
  lifecycle: Assessment['lifecycle'];
  reasons: unknown[];
  assessedAt: string;
  plan?: Assessment['plan'];
}

/**
 * The stored assessment, or with `fresh` the policy's verdict now (not stored: a GET writes nothing).
 * Before the first scan has stored one, the answer is the fresh verdict, marked `fresh: true`.
 */
export async function userAssessment(
  userId: string,
  fresh: boolean,
  deps: UserApiDeps,
): Promise<AssessmentView> {
  const item = await deps.users.get(userId);
  if (!item) throw new NotFoundError('user_not_found', 'no user with this id');
  const stored = fresh ? undefined : StoredAssessmentSchema.safeParse(item.assessment);
  if (stored?.success) return { userId, fresh: false, ...stored.data };
  const parsed = parseUserRecord(item);
  if (!parsed.ok) throw new InvalidStoredRecordError(parsed.issues.map((i) => i.field));
  const now = deps.now();
  const { userId: _, ...assessment } = assess(parsed.value, deps.policy, now);
  return { userId, fresh: true, ...assessment, assessedAt: now.toISOString() };
}

/**
 * Steps: set the churn reason that steers the next recall's strategy and keep the answer on the
 * record → append the answer to the lake's feedback history (its id derives from user and time).
 */
export async function recordFeedback(
  userId: string,
  feedback: Feedback,
  deps: UserApiDeps,
): Promise<{ userId: string; churnReason: string; recordedAt: string }> {
  const at = deps.now().toISOString();
  if (!(await deps.users.recordFeedback(userId, feedback.reason, { ...feedback, at }, at))) {
    throw new NotFoundError('user_not_found', 'no user with this id');
  }
  const row = feedbackRow(userId, feedback.reason, feedback.issues ?? [], at);
  await deps.lake?.writePart('feedback', row.day, row.feedbackId, [row]);
  return { userId, churnReason: feedback.reason, recordedAt: at };
}

/** A page of the user's in-app messages, newest first. Reading marks nothing opened. */
export async function userInbox(
  userId: string,
  page: { limit?: number; nextToken?: string },
  deps: UserApiDeps,
): Promise<{ userId: string } & InboxPage> {
  if (!(await deps.users.get(userId))) throw new NotFoundError('user_not_found', 'no user with this id');
  let listed: InboxPage;
  try {
    listed = await deps.inbox.list(userId, page.limit ?? 20, page.nextToken);
  } catch (error) {
    if (!(error instanceof InvalidPageTokenError)) throw error;
    throw new InvalidRequestError([{ in: 'query', field: 'nextToken', message: error.message }]);
  }
  const { messages, nextToken } = listed;
  return {
    userId,
    messages: messages.map(({ userId: _, ...message }) => message) as InboxPage['messages'],
    ...(nextToken ? { nextToken } : {}),
  };
}
