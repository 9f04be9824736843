import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { documentClient, s3Client } from '../adapters/clients.ts';
import { ENV, policyFromEnv, requireEnv } from '../adapters/environment.ts';
import { S3LakeWriter } from '../adapters/lake.ts';
import { UserRepository } from '../adapters/user-repository.ts';
import type { ScanTotals } from '../domain/analytics.ts';
import { describeIssues, formatIssues } from '../domain/user.ts';
import {
  type InvalidRecord,
  noRecalls,
  type ScanSegmentDeps,
  type ScanSegmentResult,
  scanSegment,
} from '../use-cases/scan-segment.ts';
import { ScheduledRecalls } from '../use-cases/start-recall.ts';
import { observed, powertools } from './powertools.ts';
import { startRecallDepsFromEnv } from './wiring.ts';

export const ScanSegmentEventSchema = z.object({
  asOf: z.iso.datetime({ offset: true }),
  segment: z.number().int().nonnegative(),
  totalSegments: z.number().int().positive(),
  cursor: z.record(z.string(), z.unknown()).optional(),
  // Produced by this function on the previous hand-over; trusted as is.
  totals: z.custom<ScanTotals>((v) => typeof v === 'object' && v !== null).optional(),
  invalidRecords: z.array(z.custom<InvalidRecord>((v) => typeof v === 'object' && v !== null)).optional(),
  page: z.number().int().nonnegative().optional(),
});

export class InvalidScanEventError extends Error {
  override readonly name = 'InvalidScanEventError';
}

/** The Lambda body: parse the Map item, run the segment, return where it stopped. */
export async function scanSegmentHandler(
  event: unknown,
  deps: Omit<ScanSegmentDeps, 'remainingMs'> & { remainingMs?: () => number },
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<ScanSegmentResult> {
  const parsed = ScanSegmentEventSchema.safeParse(event);
  if (!parsed.success) throw new InvalidScanEventError(formatIssues(describeIssues(parsed.error)));
  if (parsed.data.segment >= parsed.data.totalSegments) {
    throw new InvalidScanEventError(
      `segment ${parsed.data.segment} is outside 0..${parsed.data.totalSegments - 1}`,
    );
  }
  const remainingMs =
    deps.remainingMs ?? (() => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY);
  return scanSegment(parsed.data, { ...deps, remainingMs });
}

const tools = powertools('winback-scan');
const { logger } = tools;
let deps: Omit<ScanSegmentDeps, 'remainingMs'> | undefined;

function depsFromEnv(): Omit<ScanSegmentDeps, 'remainingMs'> {
  return {
    users: new UserRepository(documentClient(), requireEnv(process.env, ENV.usersTable)),
    policy: policyFromEnv(process.env),
    recalls: process.env[ENV.recallStateMachineArn]
      ? new ScheduledRecalls(startRecallDepsFromEnv(process.env, logger))
      : noRecalls,
    logger,
    ...lakeFromEnv(process.env),
  };
}

/** History goes to the lake bucket when the stack names one. */
function lakeFromEnv(env: NodeJS.ProcessEnv): Pick<ScanSegmentDeps, 'lake'> {
  const bucket = env[ENV.lakeBucket];
  return bucket ? { lake: new S3LakeWriter(s3Client(), bucket) } : {};
}

export const handler = observed<unknown, ScanSegmentResult>(tools).handler(async (event, context) => {
  deps ??= depsFromEnv();
  return scanSegmentHandler(event, deps, context);
});
