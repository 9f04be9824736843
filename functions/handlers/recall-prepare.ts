import middy from '@middy/core';
import { z } from 'zod';
import { createLogger } from '../adapters/logger.ts';
import { ESCALATION } from '../domain/assessment.ts';
import { RECALL_TRIGGERS, type RecallStart } from '../domain/recall.ts';
import { MessageTextsSchema } from '../domain/templates.ts';
import { describeIssues, formatIssues, RISK_LEVELS } from '../domain/user.ts';
import { type PreparedRecall, prepareRecall, type RecallStepDeps } from '../use-cases/recall-steps.ts';
import { recallStepDepsFromEnv } from './wiring.ts';

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

const logger = createLogger('winback-recall');
let deps: RecallStepDeps | undefined;

export const handler = middy<unknown, PreparedRecall>().handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, logger);
  return prepareHandler(event, deps);
});
