import {
  type CheckInput,
  type CheckResult,
  checkReturn,
  type RecallStepDeps,
} from '../use-cases/recall-steps.ts';
import { observed, powertools } from './powertools.ts';
import { recallStepDepsFromEnv } from './wiring.ts';

const tools = powertools('winback-recall');
let deps: RecallStepDeps | undefined;

export const handler = observed<CheckInput, CheckResult>(tools).handler(async (event) => {
  deps ??= recallStepDepsFromEnv(process.env, tools.logger);
  return checkReturn(event, deps);
});
