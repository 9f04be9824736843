import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import middy, { type MiddlewareObj } from '@middy/core';
import httpEventNormalizer from '@middy/http-event-normalizer';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ActivityLog } from '../adapters/activity-log.ts';
import { documentClient, s3Client, stepFunctionsClient } from '../adapters/clients.ts';
import { ENV, type Environment, policyFromEnv, requireEnv } from '../adapters/environment.ts';
import { Inbox } from '../adapters/inbox.ts';
import { JobRepository } from '../adapters/job-repository.ts';
import { type LakeWriter, S3LakeWriter } from '../adapters/lake.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import { RecallRepository } from '../adapters/recall-repository.ts';
import { S3ReportStore } from '../adapters/report-store.ts';
import { Rewards } from '../adapters/rewards.ts';
import { UserRepository } from '../adapters/user-repository.ts';
import { StepFunctionsStarter } from '../adapters/workflow-starter.ts';
import { API_ROUTES, MAX_BODY_BYTES } from '../domain/api-schemas.ts';
import { eventMetrics } from '../domain/metrics.ts';
import type { Policy } from '../domain/policy.ts';
import type { ActivityDeps } from '../use-cases/record-activity.ts';
import type { StartRecallDeps } from '../use-cases/start-recall.ts';
import { MethodNotAllowedError, RouteNotFoundError } from './api/http.ts';
import { bodyLimit, errorResponses, jsonBody } from './api/middleware.ts';
import { parseRequest } from './api/request.ts';
import { Router } from './api/router.ts';
import {
  type LatestReportSource,
  type RouteContext,
  type RouteHandlers,
  routeHandlers,
} from './api/routes.ts';
import { observed, powertools, publish } from './powertools.ts';

/** What the API runs against: the Lambda wires AWS adapters, `winback serve` the embedded runtime's. */
export interface ApiDeps {
  users: UserRepository;
  recalls: RecallRepository;
  rewards: Rewards;
  inbox: Inbox;
  jobs: JobRepository;
  start: StartRecallDeps;
  activity: ActivityDeps;
  policy: Policy;
  logger: WinbackLogger;
  /** Domain time: real in AWS, the simulated clock locally. */
  now: () => Date;
  newJobId?: () => string;
  /** Where GET /reports/latest reads from; without it the route answers 404. */
  reports?: LatestReportSource;
  segments?: { startsPerSecond?: number; concurrency?: number; timeBudgetMs?: number };
  /** Feedback history; absent when no lake is configured. */
  lake?: LakeWriter;
}

export type ApiHandler = (
  event: APIGatewayProxyEvent,
  context?: Partial<Context>,
) => Promise<APIGatewayProxyResult>;

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

/** API Gateway stops waiting after 29 s; a request's own work stops well before. */
const DEFAULT_TIME_BUDGET_MS = 20_000;
const LAMBDA_RESERVE_MS = 5_000;

export function newJobId(): string {
  return `j${randomBytes(8).toString('hex').slice(0, 12)}`;
}

/**
 * The whole HTTP API as one function: header normalizer → event normalizer → body size limit →
 * JSON body parser → router (validate, call the use case) → one error mapping for every failure.
 */
export function createApi(deps: ApiDeps): ApiHandler {
  const timeBudgetMs = deps.segments?.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS;
  const handlers = routeHandlers({
    ...deps,
    newJobId: deps.newJobId ?? newJobId,
    nonce: () => randomBytes(3).toString('hex'),
    monotonicMs: () => performance.now(),
    sleep: (ms) => sleep(ms),
    startsPerSecond: deps.segments?.startsPerSecond ?? 100,
    concurrency: deps.segments?.concurrency ?? 8,
  });
  const router = new Router(API_ROUTES);

  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 })
    .use(httpHeaderNormalizer() as HttpMiddleware)
    // Typed for every HTTP event version; this API receives REST (v1) proxy events only.
    .use(httpEventNormalizer() as unknown as HttpMiddleware)
    .use(bodyLimit(MAX_BODY_BYTES))
    .use(jsonBody())
    .use(errorResponses(deps.logger))
    .handler(async (event, context) => {
      const found = router.lookup(event.httpMethod, requestPath(event));
      if (found.kind === 'not_found') throw new RouteNotFoundError('no such route');
      if (found.kind === 'method_not_allowed') throw new MethodNotAllowedError(found.allow);
      const { route, params } = found.match;
      const request = parseRequest(route, params, event);
      const handle = handlers[route.operationId] as (
        req: unknown,
        ctx: RouteContext,
      ) => ReturnType<RouteHandlers['getRecall']>;
      return handle(request, { remainingMs: budget(timeBudgetMs, context) });
    });

  return (event, context) => chain(event, (context ?? {}) as Context);
}

/**
 * The path relative to the stage, rebuilt from the matched resource and its parameters: `event.path`
 * would also carry a custom domain's base path mapping.
 */
export function requestPath(
  event: Pick<APIGatewayProxyEvent, 'resource' | 'path' | 'pathParameters'>,
): string {
  const { resource, pathParameters } = event;
  if (!resource) return event.path;
  if (resource === '/{proxy+}') return `/${pathParameters?.proxy ?? ''}`;
  return resource.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(pathParameters?.[name] ?? ''),
  );
}

/** Time left for this request: its own budget, and never past the Lambda's timeout. */
function budget(timeBudgetMs: number, context: Partial<Context>): () => number {
  const deadline = performance.now() + timeBudgetMs;
  return () => {
    const own = deadline - performance.now();
    const lambda =
      typeof context.getRemainingTimeInMillis === 'function'
        ? context.getRemainingTimeInMillis() - LAMBDA_RESERVE_MS
        : Number.POSITIVE_INFINITY;
    return Math.min(own, lambda);
  };
}

/** Adapters from the environment the stack sets. The API never notifies operators: it gets no topic. */
export function apiDepsFromEnv(env: Environment, logger: WinbackLogger): ApiDeps {
  const doc = documentClient();
  const users = new UserRepository(doc, requireEnv(env, ENV.usersTable));
  const recalls = new RecallRepository(doc, requireEnv(env, ENV.recallsTable));
  const inbox = new Inbox(doc, requireEnv(env, ENV.inboxTable));
  const rewards = new Rewards(doc, requireEnv(env, ENV.rewardsTable));
  const policy = policyFromEnv(env);
  const now = () => new Date();
  return {
    users,
    recalls,
    rewards,
    inbox,
    jobs: new JobRepository(doc, requireEnv(env, ENV.jobsTable)),
    start: {
      users,
      recalls,
      workflow: new StepFunctionsStarter(stepFunctionsClient(), requireEnv(env, ENV.recallStateMachineArn)),
      notifier: { notify: async () => {} },
      policy,
      logger,
    },
    activity: {
      users,
      policy,
      events: new ActivityLog(doc, requireEnv(env, ENV.eventsTable)),
      inbox,
      rewards,
      logger,
      now,
    },
    policy,
    logger,
    now,
    ...lakeFromEnv(env),
  };
}

/** The lake bucket, when the stack names one: feedback history is written there, GET /reports/latest reads there. */
function lakeFromEnv(env: Environment): Pick<ApiDeps, 'lake' | 'reports'> {
  const bucket = env[ENV.lakeBucket];
  return bucket
    ? { lake: new S3LakeWriter(s3Client(), bucket), reports: new S3ReportStore(s3Client(), bucket) }
    : {};
}

const tools = powertools('winback-api');
let api: ApiHandler | undefined;

/** The Lambda entry point: deps built once per container, on the first request. */
export const handler = observed<APIGatewayProxyEvent, APIGatewayProxyResult>(tools).handler(
  async (event, context) => {
    api ??= createApi(apiDepsFromEnv(process.env, tools.logger));
    const reply = await api(event, context);
    // An accepted batch answers per event; those answers are the applied/duplicate/rejected counts.
    if (event.httpMethod === 'POST' && requestPath(event) === '/events' && reply.statusCode === 200) {
      const results = (JSON.parse(reply.body) as { results?: { status: string }[] }).results ?? [];
      publish(tools.metrics, eventMetrics(results));
    }
    return reply;
  },
);
