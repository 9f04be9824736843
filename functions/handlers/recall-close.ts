import middy from '@middy/core';
import { createLogger } from '../adapters/logger.ts';
import {
  type CloseInput,
  type CloseResult,
  closeRecall,
  type RecallStepDeps,
} from '../use-cases/recall-steps.ts';
import { recallStepDepsFromEnv } from './wiring.ts';

const logger = createLogger('winback-recall');
let deps: RecallStepDeps | undefined;

export const handler = middy<CloseInput, CloseResult>().handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, logger);
  return closeRecall(event, deps);
});
