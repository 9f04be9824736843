import { z } from 'zod';
import { ESCALATION, type StrategyKind } from './assessment.ts';
import { checkMessageTexts, MessageTextsSchema } from './templates.ts';
import { toIso } from './time.ts';
import {
  ASSESSMENT_STATUSES,
  CHURN_REASONS,
  LIFECYCLE_STAGES,
  RISK_LEVELS,
  userProfileShape,
  wholeFen,
} from './user.ts';

/**
 * Every request the HTTP API accepts, as zod schemas: the handlers validate with them and the
 * OpenAPI document is generated from them, so the contract and the checks cannot drift apart.
 * Messages name the rule, never the received value: a rejected field may hold a phone number.
 */

/** Upper bound on a request body; the handler answers 413 above it (API Gateway would allow 10 MB). */
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_EVENTS_PER_REQUEST = 100;
export const MAX_SAMPLE = 20;

export const STRATEGY_KINDS = [
  'experience_coupon',
  'trust_building',
  'conditional_reward',
  'care',
  'reinvite_after_improvement',
  'good_news',
  'marketing_activity',
  'preferred_product',
  'reminder',
] as const satisfies readonly StrategyKind[];
// Fails to compile when assessment.ts gains a strategy this list does not offer.
type MissingStrategy = Exclude<StrategyKind, (typeof STRATEGY_KINDS)[number]>;
export const ALL_STRATEGIES_LISTED: [MissingStrategy] extends [never] ? true : never = true;

export const FEEDBACK_ISSUES = ['app_lag', 'low_yield', 'slow_support'] as const;
const CHANNELS = ESCALATION as readonly ['in_app', 'push', 'sms'];

/** Any ISO-8601 time with an offset, stored as UTC with milliseconds so stored times compare as strings. */
const isoTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 time, e.g. 2026-11-24T09:00:00Z' })
  .transform((t) => toIso(t));

export const UserIdSchema = userProfileShape.userId;
export const RecallIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, '1–80 letters, digits, _ or -');
export const JobIdSchema = z
  .string()
  .regex(/^j[a-z0-9]{4,15}$/, 'a job id as returned by POST /recalls/segments');
const codeString = z.string().regex(/^[a-z0-9_]{1,64}$/, '1–64 lower-case letters, digits or _');

// ---- path and query parameters (always strings) ----

export const UserPathSchema = z.strictObject({ userId: UserIdSchema });
export const RecallPathSchema = z.strictObject({ recallId: RecallIdSchema });
export const JobPathSchema = z.strictObject({ jobId: JobIdSchema });
export const NoParamsSchema = z.strictObject({});

export const AssessmentQuerySchema = z.strictObject({
  fresh: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .optional()
    .describe('true: assess now with the current policy instead of returning the stored assessment'),
});

export const InboxQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^[1-9]\d{0,2}$/, 'must be a whole number from 1 to 100')
    .transform(Number)
    .pipe(z.number().max(100, 'must be a whole number from 1 to 100'))
    .optional()
    .describe('messages per page, 1–100 (default 20)'),
  nextToken: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,2048}$/, 'must be a nextToken from a previous page')
    .optional(),
});

// ---- bodies ----

/** A profile as the app's backend sends it; `userId` may be left out (the path names the user). */
export const PutUserBodySchema = z.strictObject({
  ...userProfileShape,
  userId: UserIdSchema.optional(),
  balanceAt: isoTime
    .optional()
    .describe('when balanceFen was read; without it the balance is set only when the user is created'),
});
export type PutUserBody = z.infer<typeof PutUserBodySchema>;

const eventBase = {
  eventId: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, "1–128 letters, digits or _ . : -; the sender's id for the event"),
  userId: UserIdSchema,
  at: isoTime,
};

export const ActivityEventSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ ...eventBase, type: z.literal('login') }),
    z.strictObject({
      ...eventBase,
      type: z.literal('investment'),
      amountFen: wholeFen().positive('must be more than 0'),
      productId: z.string().min(1).max(64),
      bonusRate: z.boolean().describe('the product pays a bonus rate'),
    }),
    z.strictObject({
      ...eventBase,
      type: z.literal('balance'),
      balanceFen: wholeFen().nonnegative('must not be negative'),
    }),
    z.strictObject({
      ...eventBase,
      type: z.literal('message_opened'),
      messageId: z
        .string()
        .regex(/^[\x21-\x7e]{1,256}$/, 'an in-app message id from GET /users/{userId}/inbox'),
    }),
  ],
  { error: 'must be one of login, investment, balance, message_opened' },
);
export type ActivityEventInput = z.infer<typeof ActivityEventSchema>;

export const EventBatchSchema = z.strictObject({
  events: z.array(ActivityEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST),
});
export const EventsBodySchema = z.union([ActivityEventSchema, EventBatchSchema]);

/** A body with `events` is a batch; anything else is read as one event, so errors name the right fields. */
export function eventsBodySchemaFor(body: unknown): z.ZodType<{ events: ActivityEventInput[] }> {
  const isBatch = typeof body === 'object' && body !== null && 'events' in body;
  return isBatch ? EventBatchSchema : ActivityEventSchema.transform((e) => ({ events: [e] }));
}

export const RecallRequestSchema = z.strictObject({
  userId: UserIdSchema,
  reason: codeString.optional().describe('why the operator recalls this user, e.g. vip_call_back'),
  strategy: z.enum(STRATEGY_KINDS).optional().describe('content to lead with; the plan keeps the others'),
  startAt: z.enum(CHANNELS).optional().describe('begin the escalation at this step'),
  note: z.string().max(500).optional(),
});
export type RecallRequest = z.infer<typeof RecallRequestSchema>;

/** One value or a non-empty list of them; stored as a list. */
function oneOrMany<T extends z.ZodType<string>>(item: T) {
  return z
    .union([item, z.array(item).min(1).max(50)], {
      error: 'must be a value or a list of values allowed here',
    })
    .transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);
}

export const SegmentFilterSchema = z
  .strictObject({
    status: oneOrMany(z.enum(ASSESSMENT_STATUSES)).optional(),
    level: oneOrMany(z.enum(RISK_LEVELS)).optional(),
    lifecycle: oneOrMany(z.enum(LIFECYCLE_STAGES)).optional(),
    channel: oneOrMany(z.string().min(1).max(64)).optional(),
    churnReason: oneOrMany(z.enum(CHURN_REASONS)).optional(),
    registeredBetween: z
      .strictObject({ from: isoTime.optional(), to: isoTime.optional() })
      .refine((r) => r.from !== undefined || r.to !== undefined, 'give from, to or both')
      .refine((r) => !r.from || !r.to || r.from < r.to, 'from must be before to')
      .optional()
      .describe('from ≤ registeredAt < to'),
    notRecalledSince: isoTime.optional().describe('no recall open now and none closed at or after this time'),
  })
  .refine((f) => Object.keys(f).length > 0, 'name at least one criterion; a segment of everyone is refused')
  .describe('status, level and lifecycle come from assessing each user now with the policy');
export type SegmentFilter = z.infer<typeof SegmentFilterSchema>;

export const SegmentRequestSchema = z.strictObject({
  filter: SegmentFilterSchema,
  strategy: z.enum(STRATEGY_KINDS).optional(),
  startAt: z.enum(CHANNELS).optional(),
  reason: codeString.optional(),
  note: z.string().max(500).optional(),
  message: MessageTextsSchema.superRefine((texts, ctx) => {
    for (const p of checkMessageTexts(texts))
      ctx.addIssue({ code: 'custom', message: p.message, path: p.template.split('.').slice(1) });
  })
    .optional()
    .describe(
      "the segment's own wording, sent instead of the strategy's: title and a text per channel in each locale; {brandName} is the only variable; each SMS must fit one segment",
    ),
  dryRun: z.boolean().default(false).describe('count and sample the segment; start nothing'),
  pageSize: z.number().int().min(1).max(1000).default(100).describe('users read per page'),
  maxPages: z.number().int().min(1).max(1000).default(10).describe('pages this run may process'),
});
export type SegmentRequest = z.infer<typeof SegmentRequestSchema>;

export const ResumeRequestSchema = z.strictObject({
  maxPages: z.number().int().min(1).max(1000).default(10).describe('pages this run may process'),
});

export const FeedbackSchema = z.strictObject({
  reason: z.enum(CHURN_REASONS),
  satisfaction: z.number().int('must be a whole number from 1 to 5').min(1).max(5),
  issues: z.array(z.enum(FEEDBACK_ISSUES)).max(FEEDBACK_ISSUES.length).optional(),
  comment: z.string().max(1000).optional(),
});
export type Feedback = z.infer<typeof FeedbackSchema>;

// ---- responses (documentation: the handlers build these shapes) ----

export const ErrorSchema = z.object({
  error: z.string().describe('machine-readable code, e.g. invalid_request, user_not_found'),
  message: z.string(),
  issues: z
    .array(z.object({ in: z.enum(['path', 'query', 'body']), field: z.string(), message: z.string() }))
    .optional(),
  recallId: z.string().optional().describe('on recall_already_active: the open recall'),
  fields: z
    .array(z.string())
    .optional()
    .describe('on invalid_user_record: the stored fields that are invalid'),
});

export const RecallStartedSchema = z.object({
  recallId: z.string(),
  status: z.enum(['started', 'resumed']),
  executionArn: z.string(),
  consoleUrl: z.string(),
  firstSendAt: z.iso
    .datetime()
    .describe("when the first message goes: now, or when the user's quiet hours end"),
});

export const EventResultsSchema = z.object({
  results: z.array(
    z.object({
      eventId: z.string(),
      status: z.enum(['applied', 'duplicate', 'unknown_user', 'unknown_message', 'over_limit']),
      unlockedRewards: z.array(z.string()).optional(),
    }),
  ),
});

export const JobProgressSchema = z.object({
  jobId: z.string(),
  status: z.enum(['running', 'paused', 'done']),
  processed: z.number().describe('users read so far'),
  matched: z.number(),
  started: z.number(),
  skipped: z.record(z.string(), z.number()).describe('matched users not started, by reason'),
  pages: z.number(),
  cursor: z.string().nullable().describe('where the next run continues; null when done'),
  filter: z.record(z.string(), z.unknown()),
  strategy: z.string().optional(),
  startAt: z.enum(CHANNELS).optional(),
  pageSize: z.number().describe('users read per page'),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastError: z.string().optional(),
});

export const DryRunSchema = z.object({
  dryRun: z.literal(true),
  matched: z.number(),
  processed: z.number(),
  complete: z.boolean().describe('false when the time budget ended the count early'),
  sample: z.array(z.string()).max(MAX_SAMPLE),
});

/** The keys the insight issue names (docs/reports.md has every field); more may follow, none is renamed. */
export const LatestReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    asOfDay: z.string().nullable(),
    churnStructure: z
      .object({
        churned: z.number(),
        users: z.number(),
        byStage: z.array(z.unknown()),
        byChannel: z.array(z.unknown()),
        byStageAndChannel: z.array(z.unknown()),
        byCohortMonth: z.array(z.unknown()),
        trend: z.array(z.unknown()),
      })
      .loose(),
    portrait: z.object({ churned: z.unknown(), active: z.unknown() }).loose(),
    backtest: z.object({ horizonDays: z.number(), daysEvaluated: z.number() }).loose(),
    feedback: z.unknown(),
  })
  .loose();

export const UserWrittenSchema = z.object({ userId: z.string(), created: z.boolean() });

const reason = z.object({ code: z.string() }).loose();
export const AssessmentViewSchema = z
  .object({
    userId: z.string(),
    fresh: z.boolean().describe('true: assessed now by this request; false: as the daily scan stored it'),
    status: z.enum(ASSESSMENT_STATUSES),
    level: z.enum(RISK_LEVELS),
    score: z.number(),
    lifecycle: z.enum(LIFECYCLE_STAGES),
    reasons: z.array(reason),
    assessedAt: z.string(),
    plan: z
      .object({
        channels: z.array(z.enum(CHANNELS)),
        strategies: z.array(z.object({ kind: z.string() }).loose()),
      })
      .loose()
      .optional(),
  })
  .loose();

export const FeedbackRecordedSchema = z.object({
  userId: z.string(),
  churnReason: z.enum(CHURN_REASONS),
  recordedAt: z.string(),
});

export const InboxPageSchema = z.object({
  userId: z.string(),
  messages: z.array(
    z
      .object({
        messageId: z.string(),
        recallId: z.string(),
        title: z.string(),
        body: z.string(),
        createdAt: z.string(),
      })
      .loose(),
  ),
  nextToken: z.string().optional().describe('pass as ?nextToken= for the next page; absent on the last'),
});

export const RecallViewSchema = z
  .object({
    recallId: z.string(),
    userId: z.string(),
    trigger: z.enum(['scheduled', 'manual', 'segment']),
    status: z.enum(['active', 'closed']),
    level: z.enum(RISK_LEVELS),
    startedAt: z.string(),
    reasonCodes: z.array(z.string()),
    holdout: z.boolean(),
    plan: z
      .object({
        route: z.string(),
        channels: z.array(z.enum(CHANNELS)),
        strategies: z.array(z.object({ kind: z.string() }).loose()),
      })
      .loose()
      .nullable(),
    steps: z.array(
      z.object({ step: z.enum(CHANNELS), result: z.string(), at: z.string(), detail: z.string().optional() }),
    ),
    firstSendAt: z
      .string()
      .nullable()
      .describe(
        'when the first message went or, while none has, when it will (after quiet hours); null if none will',
      ),
    outcome: z
      .object({
        outcome: z.enum(['returned', 'not_returned', 'skipped', 'failed']),
        closedAt: z.string().optional(),
        returnedAt: z.string().optional(),
        returnedBy: z.string().optional(),
        winningStep: z.string().optional(),
        error: z.string().optional(),
      })
      .nullable(),
    reward: z.object({ rewardId: z.string(), amountFen: z.number(), status: z.string() }).loose().nullable(),
    executionArn: z.string().optional(),
    consoleUrl: z.string().optional(),
  })
  .loose();

// ---- the routes ----

export type HttpMethod = 'GET' | 'PUT' | 'POST';

export interface ApiRouteSpec {
  operationId: string;
  method: HttpMethod;
  /** API Gateway resource path, `{name}` for a parameter. */
  path: string;
  summary: string;
  params: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The schema a given body is validated with, when it depends on the body's shape (default: `body`). */
  bodyFor?: (body: unknown) => z.ZodType;
  /** Whether a missing body is read as `{}`. */
  bodyOptional?: boolean;
  success: { status: number; description: string; schema?: z.ZodType; also?: readonly number[] };
  errors: readonly number[];
}

const COMMON_ERRORS = [400, 413] as const;

/** The API's routes: the router dispatches on them, CDK creates their resources, OpenAPI documents them. */
export const API_ROUTES = [
  {
    operationId: 'putUser',
    method: 'PUT',
    path: '/users/{userId}',
    summary: "Create or replace a user's profile; attributes winback maintains are kept",
    params: UserPathSchema,
    body: PutUserBodySchema,
    success: {
      status: 200,
      description: 'updated (201 when created)',
      schema: UserWrittenSchema,
      also: [201],
    },
    errors: COMMON_ERRORS,
  },
  {
    operationId: 'recordEvents',
    method: 'POST',
    path: '/events',
    summary: `Record one activity event or a batch of up to ${MAX_EVENTS_PER_REQUEST}`,
    params: NoParamsSchema,
    body: EventsBodySchema,
    bodyFor: eventsBodySchemaFor,
    success: { status: 200, description: 'per-event results', schema: EventResultsSchema },
    errors: COMMON_ERRORS,
  },
  {
    operationId: 'startRecall',
    method: 'POST',
    path: '/recalls',
    summary: 'Start a recall for one user now',
    params: NoParamsSchema,
    body: RecallRequestSchema,
    success: { status: 202, description: 'recall started', schema: RecallStartedSchema },
    errors: [...COMMON_ERRORS, 404, 409, 422],
  },
  {
    operationId: 'startSegmentRecalls',
    method: 'POST',
    path: '/recalls/segments',
    summary: 'Recall every user matching a filter (paged, paced, resumable), or count them (dryRun)',
    params: NoParamsSchema,
    body: SegmentRequestSchema,
    success: {
      status: 202,
      description: 'job progress (200 with the count and a sample for a dry run)',
      schema: z.union([JobProgressSchema, DryRunSchema]),
      also: [200],
    },
    errors: COMMON_ERRORS,
  },
  {
    operationId: 'getSegmentJob',
    method: 'GET',
    path: '/recalls/segments/{jobId}',
    summary: 'Progress of a segment recall job',
    params: JobPathSchema,
    success: { status: 200, description: 'job progress', schema: JobProgressSchema },
    errors: [400, 404],
  },
  {
    operationId: 'resumeSegmentJob',
    method: 'POST',
    path: '/recalls/segments/{jobId}/resume',
    summary: 'Continue a paused segment job from its cursor',
    params: JobPathSchema,
    body: ResumeRequestSchema,
    bodyOptional: true,
    success: { status: 202, description: 'job progress', schema: JobProgressSchema },
    errors: [...COMMON_ERRORS, 404, 409],
  },
  {
    operationId: 'getRecall',
    method: 'GET',
    path: '/recalls/{recallId}',
    summary: 'A recall: status, plan, steps, outcome, reward',
    params: RecallPathSchema,
    success: { status: 200, description: 'the recall', schema: RecallViewSchema },
    errors: [400, 404],
  },
  {
    operationId: 'getAssessment',
    method: 'GET',
    path: '/users/{userId}/assessment',
    summary:
      "The user's latest stored assessment (a fresh one before the first scan), or a fresh one with ?fresh=true",
    params: UserPathSchema,
    query: AssessmentQuerySchema,
    success: { status: 200, description: 'the assessment with its reasons', schema: AssessmentViewSchema },
    errors: [400, 404, 422],
  },
  {
    operationId: 'postFeedback',
    method: 'POST',
    path: '/users/{userId}/feedback',
    summary: 'Record callback or survey feedback; sets churnReason for the next recall',
    params: UserPathSchema,
    body: FeedbackSchema,
    success: { status: 200, description: 'stored', schema: FeedbackRecordedSchema },
    errors: [...COMMON_ERRORS, 404],
  },
  {
    operationId: 'getInbox',
    method: 'GET',
    path: '/users/{userId}/inbox',
    summary: "The user's in-app messages, newest first; reading marks nothing opened",
    params: UserPathSchema,
    query: InboxQuerySchema,
    success: { status: 200, description: 'a page of messages', schema: InboxPageSchema },
    errors: [400, 404],
  },
  {
    operationId: 'getLatestReport',
    method: 'GET',
    path: '/reports/latest',
    summary: 'The latest daily insight report (churn structure, portrait, warning backtest, feedback)',
    params: NoParamsSchema,
    success: {
      status: 200,
      description: 'the report JSON, as winback report --out FILE.json writes it',
      schema: LatestReportSchema,
    },
    errors: [404],
  },
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    summary: 'This document',
    params: NoParamsSchema,
    success: {
      status: 200,
      description: 'OpenAPI 3.1 document',
      schema: z
        .object({
          openapi: z.string(),
          info: z.object({ title: z.string() }).loose(),
          paths: z.record(z.string(), z.unknown()),
        })
        .loose(),
    },
    errors: [],
  },
] as const satisfies readonly ApiRouteSpec[];

export type OperationId = (typeof API_ROUTES)[number]['operationId'];
