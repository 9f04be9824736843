import type { APIGatewayProxyResult } from 'aws-lambda';
import type { JobRepository } from '../../adapters/job-repository.ts';
import type { OperationId } from '../../domain/api-schemas.ts';
import { openApiDocument } from '../../domain/openapi.ts';
import { InvalidRequestError, NotFoundError } from '../../use-cases/api-errors.ts';
import { recordEvents } from '../../use-cases/api-events.ts';
import { type RecallApiDeps, recallStatus, startManualRecall } from '../../use-cases/api-recalls.ts';
import {
  putUserProfile,
  recordFeedback,
  type UserApiDeps,
  userAssessment,
  userInbox,
} from '../../use-cases/api-users.ts';
import type { ActivityDeps } from '../../use-cases/record-activity.ts';
import {
  dryRunSegment,
  getSegmentJob,
  jobProgress,
  resumeSegmentJob,
  type SegmentDeps,
  startSegmentJob,
} from '../../use-cases/segment-recalls.ts';
import { json } from './http.ts';
import type { RequestOf } from './request.ts';

/** Everything the route handlers call, already wired. */
export interface RouteDeps extends UserApiDeps, RecallApiDeps, SegmentDeps {
  activity: ActivityDeps;
  jobs: JobRepository;
  /** The stored daily reports (lake bucket on AWS, the local lake in `winback serve`). */
  reports?: LatestReportSource;
}

export interface LatestReportSource {
  /** The latest report's JSON text; undefined before the first report. */
  latest(): Promise<string | undefined>;
}

/** What a handler knows about its invocation beyond the request. */
export interface RouteContext {
  /** Milliseconds this request may still spend on work (API Gateway gives up at 29 s). */
  remainingMs: () => number;
}

export type RouteHandlers = {
  [K in OperationId]: (req: RequestOf<K>, ctx: RouteContext) => Promise<APIGatewayProxyResult>;
};

let openApi: string | undefined;

/** One short function per route: call the use case with the validated request, shape the answer. */
export function routeHandlers(deps: RouteDeps): RouteHandlers {
  return {
    putUser: async ({ params, body }) => {
      if (body.userId !== undefined && body.userId !== params.userId) {
        throw new InvalidRequestError([
          { in: 'body', field: 'userId', message: 'must equal the userId in the path' },
        ]);
      }
      const result = await putUserProfile(params.userId, body, deps);
      return json(result.created ? 201 : 200, result);
    },

    recordEvents: async ({ body }) => json(200, await recordEvents(body.events, deps.activity)),

    startRecall: async ({ body }) => json(202, await startManualRecall(body, deps)),

    startSegmentRecalls: async ({ body }, ctx) => {
      if (body.dryRun) return json(200, await dryRunSegment(body.filter, ctx, deps));
      const job = await startSegmentJob(
        body,
        { maxPages: body.maxPages, remainingMs: ctx.remainingMs },
        deps,
      );
      return json(202, jobProgress(job));
    },

    getSegmentJob: async ({ params }) => json(200, jobProgress(await getSegmentJob(params.jobId, deps))),

    resumeSegmentJob: async ({ params, body }, ctx) => {
      const budget = { maxPages: body.maxPages, remainingMs: ctx.remainingMs };
      return json(202, jobProgress(await resumeSegmentJob(params.jobId, budget, deps)));
    },

    getRecall: async ({ params }) => json(200, await recallStatus(params.recallId, deps)),

    getAssessment: async ({ params, query }) =>
      json(200, await userAssessment(params.userId, query.fresh === 'true', deps)),

    postFeedback: async ({ params, body }) => json(200, await recordFeedback(params.userId, body, deps)),

    getInbox: async ({ params, query }) => json(200, await userInbox(params.userId, query, deps)),

    getLatestReport: async () => {
      const text = await deps.reports?.latest();
      if (text === undefined)
        throw new NotFoundError(
          'report_not_found',
          'no report yet: the daily scan writes one after its summary',
        );
      return { ...json(200, null), body: text };
    },

    getOpenApi: async () => {
      openApi ??= JSON.stringify(openApiDocument());
      return { ...json(200, null), body: openApi };
    },
  };
}
