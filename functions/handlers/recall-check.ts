import middy from '@middy/core';
import { createLogger } from '../adapters/logger.ts';
import {
  type CheckInput,
  type CheckResult,
  checkReturn,
  type RecallStepDeps,
} from '../use-cases/recall-steps.ts';
import { recallStepDepsFromEnv } from './wiring.ts';

const logger = createLogger('winback-recall');
let deps: RecallStepDeps | undefined;

export const handler = middy<CheckInput, CheckResult>().handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, logger);
  return checkReturn(event, deps);
});
