import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { StepFunctionsStarter } from '../../functions/adapters/workflow-starter.ts';

const sfn = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:ap-east-1:123456789012:stateMachine:winback-recall';
const NAME = 'rc-u42-20261124';
const EXECUTION = `arn:aws:states:ap-east-1:123456789012:execution:winback-recall:${NAME}`;
const INPUT = { recallId: NAME, userId: 'u42', startedAt: '2026-11-24T01:00:00.000Z' };

function sdkError(name: string): Error {
  return Object.assign(new Error(`${name} from the service`), { name, $metadata: {} });
}

/** A starter whose waits take no time and record what they were asked to wait. */
function instantStarter(options: { maxAttempts?: number; random?: () => number } = {}) {
  const sleeps: number[] = [];
  const sleep = vi.fn(async (ms: number) => {
    sleeps.push(ms);
  });
  const starter = new StepFunctionsStarter(new SFNClient({}), MACHINE, {
    sleep,
    random: options.random ?? (() => 0.5),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
  return { starter, sleeps, sleep };
}

beforeEach(() => {
  sfn.reset();
});

describe('StepFunctionsStarter', () => {
  it('starts the recall state machine under the given name with the input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    const { starter, sleep } = instantStarter();

    await expect(starter.start(NAME, INPUT)).resolves.toEqual({
      executionArn: EXECUTION,
      alreadyStarted: false,
    });

    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toStrictEqual({
      stateMachineArn: MACHINE,
      name: NAME,
      input: '{"recallId":"rc-u42-20261124","userId":"u42","startedAt":"2026-11-24T01:00:00.000Z"}',
    });
    expect(sleep).not.toHaveBeenCalled();
  });

  it('treats ExecutionAlreadyExists as a repeat and answers the ARN derived from the name', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const { starter, sleep } = instantStarter();

    await expect(starter.start(NAME, INPUT)).resolves.toEqual({
      executionArn: EXECUTION,
      alreadyStarted: true,
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sleep).not.toHaveBeenCalled();
  });

  it('waits with full jitter after each throttle and then succeeds', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(sdkError('ThrottlingException'))
      .rejectsOnce(sdkError('ThrottlingException'))
      .resolves({ executionArn: EXECUTION, startDate: new Date() });
    const { starter, sleeps } = instantStarter({ random: () => 0.5 });

    await expect(starter.start(NAME, INPUT)).resolves.toEqual({
      executionArn: EXECUTION,
      alreadyStarted: false,
    });

    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 3);
    // random × min(5000, 100 × 2^(attempt-1)): half of 100, then half of 200.
    expect(sleeps).toEqual([50, 100]);
    // Each attempt is the same call: same name, same input.
    for (const call of sfn.commandCalls(StartExecutionCommand)) {
      expect(call.args[0].input).toEqual({
        stateMachineArn: MACHINE,
        name: NAME,
        input: JSON.stringify(INPUT),
      });
    }
  });

  it('retries ExecutionLimitExceeded (open executions at the account limit) like a throttle', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(sdkError('ExecutionLimitExceeded'))
      .resolves({ executionArn: EXECUTION, startDate: new Date() });
    const { starter, sleeps } = instantStarter({ random: () => 0.5 });

    await expect(starter.start(NAME, INPUT)).resolves.toEqual({
      executionArn: EXECUTION,
      alreadyStarted: false,
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    expect(sleeps).toEqual([50]);
  });

  it('caps the backoff at maxDelayMs and gives up after maxAttempts with the last error', async () => {
    const last = sdkError('TooManyRequestsException');
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(sdkError('ThrottlingException'))
      .rejectsOnce(sdkError('ServiceUnavailable'))
      .rejectsOnce(sdkError('InternalServerError'))
      .rejectsOnce(sdkError('ThrottlingException'))
      .rejectsOnce(sdkError('ThrottlingException'))
      .rejectsOnce(sdkError('ThrottlingException'))
      .rejectsOnce(sdkError('ThrottlingException'))
      .rejects(last);
    // random() just below 1 shows the cap of each attempt.
    const { starter, sleeps } = instantStarter({ random: () => 0.9999 });

    await expect(starter.start(NAME, INPUT)).rejects.toBe(last);

    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 8);
    expect(sleeps).toEqual([99, 199, 399, 799, 1599, 3199, 4999]);
  });

  it('honours a smaller maxAttempts', async () => {
    sfn.on(StartExecutionCommand).rejects(sdkError('ThrottlingException'));
    const { starter, sleeps } = instantStarter({ maxAttempts: 2, random: () => 0 });

    await expect(starter.start(NAME, INPUT)).rejects.toThrow('ThrottlingException from the service');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    expect(sleeps).toEqual([0]);
  });

  it.each(['AccessDeniedException', 'InvalidExecutionInput', 'StateMachineDoesNotExist'])(
    'does not retry %s',
    async (name) => {
      sfn.on(StartExecutionCommand).rejects(sdkError(name));
      const { starter, sleep } = instantStarter();

      await expect(starter.start(NAME, INPUT)).rejects.toMatchObject({ name });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      expect(sleep).not.toHaveBeenCalled();
    },
  );

  it('derives execution ARNs and console links from the state machine ARN', () => {
    const { starter } = instantStarter();

    expect(starter.executionArn('rc-1')).toBe(
      'arn:aws:states:ap-east-1:123456789012:execution:winback-recall:rc-1',
    );
    expect(starter.consoleUrl(EXECUTION)).toBe(
      `https://ap-east-1.console.aws.amazon.com/states/home?region=ap-east-1#/v2/executions/details/${EXECUTION}`,
    );
  });
});

describe('StepFunctionsStarter.isRunning', () => {
  it.each([
    ['RUNNING', true],
    ['PENDING_REDRIVE', true],
    ['SUCCEEDED', false],
    ['FAILED', false],
    ['ABORTED', false],
    ['TIMED_OUT', false],
  ] as const)('reads %s as running: %s', async (status, running) => {
    sfn.on(DescribeExecutionCommand).resolves({ status, executionArn: EXECUTION });
    await expect(instantStarter().starter.isRunning(EXECUTION)).resolves.toBe(running);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION });
  });

  it('reads an execution that does not exist as not running, and passes other errors on', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .rejectsOnce(new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} }));
    await expect(instantStarter().starter.isRunning(EXECUTION)).resolves.toBe(false);
    sfn.on(DescribeExecutionCommand).rejects(sdkError('AccessDeniedException'));
    await expect(instantStarter().starter.isRunning(EXECUTION)).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });
});
