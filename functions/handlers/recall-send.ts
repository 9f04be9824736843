import middy from '@middy/core';
import { createLogger } from '../adapters/logger.ts';
import { type PacingDeps, paceAfterSend } from '../use-cases/pace-send.ts';
import {
  type RecallStepDeps,
  type SendStepInput,
  type SendStepResult,
  sendStep,
} from '../use-cases/recall-steps.ts';
import { pacingDepsFromEnv, recallStepDepsFromEnv } from './wiring.ts';

const logger = createLogger('winback-recall');
let deps: RecallStepDeps | undefined;
let pacing: PacingDeps | undefined;

/** Input is built by the state machine from its own state, so it is typed, not re-validated. */
export const handler = middy<SendStepInput, SendStepResult>().handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, logger);
  pacing ??= pacingDepsFromEnv(process.env, logger);
  // The wait after this step ends at a claimed slot for the next send (functions/domain/pacing.ts).
  return paceAfterSend(event, await sendStep(event, deps), pacing);
});
