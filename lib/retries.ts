import { Duration } from 'aws-cdk-lib';
import { JitterType, type RetryProps, type TaskStateBase } from 'aws-cdk-lib/aws-stepfunctions';

/**
 * Every retry policy of winback's infrastructure, in one place: the state machine tasks, the
 * scheduler target. (Retries inside the code, such as StartExecution backoff in
 * functions/adapters/workflow-starter.ts, follow the same idea: throttles and crashes are retried,
 * a definite refusal is not.) Each task step is idempotent (ledger claims, conditional writes,
 * deterministic execution names), which is what makes retrying a crash safe.
 */

/** Throttles and transient service errors of a Lambda invoke: worth another try after a short pause. */
export const TRANSIENT_LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  // The SDK's own request timeout thrown out of a handler (seen in the fault suite): every step is
  // idempotent, so another try is safe and keeps one slow store call from closing a recall as failed.
  'TimeoutError',
];

/**
 * The function itself died: timed out (`Sandbox.Timedout`), exited or ran out of memory
 * (`Runtime.ExitError`), or Lambda could not say (`Lambda.Unknown`). Retried fewer times and
 * after a longer pause: a crash that repeats is a bug or a stuck dependency, and the task's catch
 * (close the recall as failed, note the failed segment) and the failed-execution alarm take over.
 */
export const LAMBDA_CRASH_ERRORS = ['Sandbox.Timedout', 'Runtime.ExitError', 'Lambda.Unknown'];

export const RETRY_POLICY = {
  transient: { errors: TRANSIENT_LAMBDA_ERRORS, intervalSeconds: 2, backoffRate: 2, maxAttempts: 6 },
  crash: { errors: LAMBDA_CRASH_ERRORS, intervalSeconds: 10, backoffRate: 2, maxAttempts: 3 },
  /**
   * EventBridge Scheduler → StartExecution of the daily scan. Scheduler retries throttles and
   * service errors (and a refused start, such as the account's open-execution limit) for up to
   * two hours; a scan that starts later than that is better run by hand. What is left goes to
   * the dead-letter queue, whose alarm pages operators.
   */
  scheduler: { retryAttempts: 30, maxEventAgeHours: 2 },
} as const;

type RetryRule = (typeof RETRY_POLICY)[keyof Omit<typeof RETRY_POLICY, 'scheduler'>];

function retryProps(rule: RetryRule, maxAttempts: number = rule.maxAttempts): RetryProps {
  return {
    errors: [...rule.errors],
    interval: Duration.seconds(rule.intervalSeconds),
    backoffRate: rule.backoffRate,
    maxAttempts,
    // Full jitter spreads the retries of many executions that failed together.
    jitterStrategy: JitterType.FULL,
  };
}

/**
 * Retries a Lambda task's transient errors and crashes with exponential backoff and full jitter.
 * `maxAttempts` narrows the transient budget (a summary that must not delay the digest).
 */
export function retryTransient<T extends TaskStateBase>(task: T, maxAttempts?: number): T {
  task.addRetry(retryProps(RETRY_POLICY.transient, maxAttempts));
  task.addRetry(retryProps(RETRY_POLICY.crash));
  return task;
}
