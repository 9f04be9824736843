import { DeliveryFailedError } from '../adapters/delivery.ts';
import { deliveryFailureMetrics, sendMetrics } from '../domain/metrics.ts';
import { type PacingDeps, paceAfterSend } from '../use-cases/pace-send.ts';
import {
  type RecallStepDeps,
  type SendStepInput,
  type SendStepResult,
  sendStep,
} from '../use-cases/recall-steps.ts';
import { observed, powertools, publish } from './powertools.ts';
import { pacingDepsFromEnv, recallStepDepsFromEnv } from './wiring.ts';

const tools = powertools('winback-recall');
const { logger, metrics } = tools;
let deps: RecallStepDeps | undefined;
let pacing: PacingDeps | undefined;

/** Input is built by the state machine from its own state, so it is typed, not re-validated. */
export const handler = observed<SendStepInput, SendStepResult>(tools).handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, logger);
  pacing ??= pacingDepsFromEnv(process.env, logger);
  const invokedAt = deps.now().toISOString();
  try {
    const result = await sendStep(event, deps);
    publish(metrics, sendMetrics(result, invokedAt));
    // The wait after this step ends at a claimed slot for the next send (functions/domain/pacing.ts).
    return await paceAfterSend(event, result, pacing);
  } catch (error) {
    if (error instanceof DeliveryFailedError) publish(metrics, deliveryFailureMetrics(event.channel));
    throw error;
  }
});
