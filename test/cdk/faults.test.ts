import { App } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_RETRY, RECALL_STEPS } from '../../lib/recall-workflow.ts';
import { LAMBDA_CRASH_ERRORS, RETRY_POLICY, TRANSIENT_LAMBDA_ERRORS } from '../../lib/retries.ts';
import { WinbackStack } from '../../lib/winback-stack.ts';
import { type CfnTemplate, stateMachinesFromTemplate } from '../../local/template.ts';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  BackoffRate: number;
  MaxAttempts: number;
  JitterStrategy?: string;
}
interface State {
  Type: string;
  Retry?: Retrier[];
  ItemProcessor?: { States: Record<string, State> };
}

// The default stack, synthesized once for the file; bundling is skipped (only the template is read).
let template: Template;
let machines: Record<string, { States: Record<string, State> }>;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new WinbackStack(app, 'Winback'));
  machines = stateMachinesFromTemplate(template.toJSON() as CfnTemplate) as unknown as typeof machines;
});

function tasksOf(states: Record<string, State>): [string, State][] {
  return Object.entries(states).flatMap(([name, state]): [string, State][] => [
    ...(state.Type === 'Task' ? [[name, state] as [string, State]] : []),
    ...(state.ItemProcessor ? tasksOf(state.ItemProcessor.States) : []),
  ]);
}

describe('Lambda faults in the state machines', () => {
  it.each(['Recall', 'DailyScan'])(
    '%s: every task retries throttles and crashes, with full jitter',
    (workflow) => {
      const tasks = tasksOf(machines[workflow]!.States);
      expect(tasks.length).toBeGreaterThanOrEqual(2);
      for (const [name, state] of tasks) {
        const retry = state.Retry ?? [];
        const transient = retry.find((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
        const crash = retry.find((r) => r.ErrorEquals.includes('Sandbox.Timedout'));
        expect(transient?.ErrorEquals, `${name} transient`).toEqual(TRANSIENT_LAMBDA_ERRORS);
        expect(crash, `${name} crash`).toEqual({
          ErrorEquals: ['Sandbox.Timedout', 'Runtime.ExitError', 'Lambda.Unknown'],
          IntervalSeconds: 10,
          BackoffRate: 2,
          MaxAttempts: 3,
          JitterStrategy: 'FULL',
        });
        // A crash is never swallowed by the delivery budget, and a throttle never by the crash budget.
        expect(TRANSIENT_LAMBDA_ERRORS.filter((e) => LAMBDA_CRASH_ERRORS.includes(e))).toEqual([]);
        expect(transient!.ErrorEquals).toContain('Lambda.ServiceException');
      }
    },
  );

  it('a send step still spends its delivery budget on DeliveryFailed first', () => {
    for (const step of RECALL_STEPS) {
      const retry = machines.Recall!.States[step.send]!.Retry!;
      expect(retry.map((r) => r.ErrorEquals[0])).toEqual([
        'DeliveryFailed',
        TRANSIENT_LAMBDA_ERRORS[0],
        LAMBDA_CRASH_ERRORS[0],
      ]);
      expect(retry[0]!.MaxAttempts).toBe(DELIVERY_RETRY.maxAttempts);
    }
  });
});

describe('the daily scan schedule', () => {
  it('retries a failed start for two hours, then leaves it in an encrypted dead-letter queue', () => {
    const queue = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        RetryPolicy: {
          MaximumRetryAttempts: RETRY_POLICY.scheduler.retryAttempts,
          MaximumEventAgeInSeconds: 2 * 3600,
        },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
      }),
    });
    const props = template.findResources('AWS::SQS::Queue')[queue.asString()]?.Properties;
    expect(props).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    // Plain HTTP is refused, and the scheduler may send to the queue.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue.asString() }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const role = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ RoleArn: { 'Fn::GetAtt': [role, 'Arn'] } }),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: role.asString() }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [queue.asString(), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('pages operators when a start lands in the dead-letter queue', () => {
    const queue = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } } }),
    });
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0]!;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue.asString(), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topic }],
    });
  });
});
