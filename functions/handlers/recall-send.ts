import middy from '@middy/core';
import { createLogger } from '../adapters/logger.ts';
import {
  type RecallStepDeps,
  type SendStepInput,
  type SendStepResult,
  sendStep,
} from '../use-cases/recall-steps.ts';
import { recallStepDepsFromEnv } from './wiring.ts';

const logger = createLogger('winback-recall');
let deps: RecallStepDeps | undefined;

/** Input is built by the state machine from its own state, so it is typed, not re-validated. */
export const handler = middy<SendStepInput, SendStepResult>().handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, logger);
  return sendStep(event, deps);
});
