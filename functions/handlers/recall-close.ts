import { recallCloseMetrics } from '../domain/metrics.ts';
import {
  type CloseInput,
  type CloseResult,
  closeRecall,
  type RecallStepDeps,
} from '../use-cases/recall-steps.ts';
import { observed, powertools, publish } from './powertools.ts';
import { recallStepDepsFromEnv } from './wiring.ts';

const tools = powertools('winback-recall');
let deps: RecallStepDeps | undefined;

export const handler = observed<CloseInput, CloseResult>(tools).handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, tools.logger);
  const closed = await closeRecall(event, deps);
  publish(tools.metrics, recallCloseMetrics(closed.outcome));
  return closed;
});
