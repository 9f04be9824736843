import { Duration } from 'aws-cdk-lib';
import { JitterType, type TaskStateBase } from 'aws-cdk-lib/aws-stepfunctions';

/** Throttles and transient service errors of a Lambda task: worth another try after a pause. */
export const TRANSIENT_LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
];

/** Retries transient errors with exponential backoff and full jitter, so retries of many executions spread out. */
export function retryTransient<T extends TaskStateBase>(task: T, maxAttempts = 6): T {
  task.addRetry({
    errors: TRANSIENT_LAMBDA_ERRORS,
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts,
    jitterStrategy: JitterType.FULL,
  });
  return task;
}
