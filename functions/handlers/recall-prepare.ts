import { z } from 'zod';
import { ESCALATION } from '../domain/assessment.ts';
import { recallStartMetrics } from '../domain/metrics.ts';
import { RECALL_TRIGGERS, type RecallStart } from '../domain/recall.ts';
import { MessageTextsSchema } from '../domain/templates.ts';
import { describeIssues, formatIssues, RISK_LEVELS } from '../domain/user.ts';
import { type PacingDeps, pacePrepared } from '../use-cases/pace-send.ts';
import { type PreparedRecall, prepareRecall, type RecallStepDeps } from '../use-cases/recall-steps.ts';
import { observed, powertools, publish } from './powertools.ts';
import { pacingDepsFromEnv, recallStepDepsFromEnv } from './wiring.ts';

export const RecallStartSchema = z.object({
  recallId: z.string().min(1).max(80),
  userId: z.string().min(1),
  trigger: z.enum(RECALL_TRIGGERS),
  level: z.enum(RISK_LEVELS),
  startedAt: z.iso.datetime({ offset: true }),
  startAt: z.enum(ESCALATION as ['in_app', 'push', 'sms']).optional(),
  strategy: z.string().optional(),
  message: MessageTextsSchema.optional(),
});

export class InvalidRecallInputError extends Error {
  override readonly name = 'InvalidRecallInput';
}

export function parseRecallStart(event: unknown): RecallStart {
  const parsed = RecallStartSchema.safeParse(event);
  if (!parsed.success) throw new InvalidRecallInputError(formatIssues(describeIssues(parsed.error)));
  return parsed.data as RecallStart;
}

export const prepareHandler = (event: unknown, deps: RecallStepDeps): Promise<PreparedRecall> =>
  prepareRecall(parseRecallStart(event), deps);

const tools = powertools('winback-recall');
let deps: RecallStepDeps | undefined;
let pacing: PacingDeps | undefined;

export const handler = observed<unknown, PreparedRecall>(tools).handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, tools.logger);
  pacing ??= pacingDepsFromEnv(process.env, tools.logger);
  const start = parseRecallStart(event);
  const prepared = await prepareRecall(start, deps);
  publish(tools.metrics, recallStartMetrics(start.trigger, prepared.holdout));
  // The first send waits for a claimed slot, not for the same instant as every recall of the morning.
  return pacePrepared(start.userId, prepared, pacing);
});
