import { Duration, Stack, Tags } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IChainable,
  type INextable,
  JitterType,
  LogLevel,
  type State,
  StateMachine,
  StateMachineType,
  TaskInput,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ENV } from '../functions/adapters/environment.ts';
import { WORKFLOW_TIMEOUT_DAYS } from '../functions/domain/recall.ts';
import { WORKFLOW_TAG } from './daily-scan.ts';
import { type AccessMode, WinbackFunction } from './function.ts';
import { workflowRole } from './iam.ts';
import { retryTransient } from './retries.ts';

export interface RecallDeliveryConfig {
  /** End User Messaging push application; without it the push step records `channel_unavailable`. */
  pushApplicationId?: string;
  pushChannelType?: 'GCM' | 'APNS' | 'APNS_SANDBOX' | 'BAIDU';
  /** `sns` (default) or `end-user-messaging`. */
  smsProvider: 'sns' | 'end-user-messaging';
  smsSenderId?: string;
  smsOriginationIdentity?: string;
  smsConfigurationSet?: string;
}

export interface RecallWorkflowProps {
  tables: {
    users: ITableV2;
    recalls: ITableV2;
    messages: ITableV2;
    inbox: ITableV2;
    rewards: ITableV2;
    /** Pacing: Prepare and Send claim the second of the next send here. */
    sendSlots: ITableV2;
  };
  policyJson: string;
  delivery: RecallDeliveryConfig;
}

/** The recall state machine's name: readable in the console, and known before deploy for IAM. */
export function recallStateMachineName(stack: Stack): string {
  return `${stack.stackName}-Recall`;
}

/** A delivery still failing after its retries falls through to the next channel; this is the retry budget. */
export const DELIVERY_RETRY = {
  errors: ['DeliveryFailed'],
  intervalSeconds: 20,
  backoffRate: 3,
  maxAttempts: 3,
};

interface Step {
  channel: 'in_app' | 'push' | 'sms';
  resultKey: string;
  send: string;
  wait: string;
  check: string;
  decide: string;
}

/** State names are what an operator reads in the console, so they say what happens in plain words. */
export const RECALL_STEPS: readonly Step[] = [
  {
    channel: 'in_app',
    resultKey: 'inApp',
    send: 'Send in-app message',
    wait: 'Wait for a reply to the in-app message',
    check: 'Has the user come back after the in-app message?',
    decide: 'Did the in-app message bring the user back?',
  },
  {
    channel: 'push',
    resultKey: 'push',
    send: 'Send push notification',
    wait: 'Wait for a reply to the push notification',
    check: 'Has the user come back after the push notification?',
    decide: 'Did the push notification bring the user back?',
  },
  {
    channel: 'sms',
    resultKey: 'sms',
    send: 'Send SMS',
    wait: 'Wait for a reply to the SMS',
    check: 'Has the user come back after the SMS?',
    decide: 'Did the SMS bring the user back?',
  },
];

/**
 * The recall escalation: one STANDARD execution per episode, in-app → push → SMS with waits,
 * stopping the moment the user is back. Waits read their end time from the state, which Prepare
 * and the send steps compute from the policy and quiet hours.
 */
export class RecallWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly prepareFunction: WinbackFunction;
  readonly sendFunction: WinbackFunction;
  readonly checkFunction: WinbackFunction;
  readonly closeFunction: WinbackFunction;

  constructor(scope: Construct, id: string, props: RecallWorkflowProps) {
    super(scope, id);
    const { tables, delivery } = props;
    const env = { [ENV.policy]: props.policyJson };
    type Access = Record<'users' | 'recalls' | 'messages' | 'inbox' | 'rewards' | 'sendSlots', AccessMode>;
    // Each step function gets exactly the table access its use case needs.
    const fn = (name: string, handler: string, description: string, access: Access) =>
      new WinbackFunction(this, name, { handler, description, environment: env })
        .bindTable(ENV.usersTable, tables.users, access.users)
        .bindTable(ENV.recallsTable, tables.recalls, access.recalls)
        .bindTable(ENV.messagesTable, tables.messages, access.messages)
        .bindTable(ENV.inboxTable, tables.inbox, access.inbox)
        .bindTable(ENV.rewardsTable, tables.rewards, access.rewards)
        .bindTable(ENV.sendSlotsTable, tables.sendSlots, access.sendSlots);

    this.prepareFunction = fn('Prepare', 'recall-prepare', 'Re-assesses the user and plans the recall', {
      users: 'RO',
      recalls: 'RW',
      messages: 'NONE',
      inbox: 'NONE',
      rewards: 'RW',
      sendSlots: 'RW',
    });
    this.sendFunction = fn('Send', 'recall-send', 'Sends one escalation step under the guardrails', {
      users: 'RW',
      recalls: 'RW',
      messages: 'RW',
      inbox: 'RW',
      // A reward is issued when the message announcing it is sent.
      rewards: 'RW',
      sendSlots: 'RW',
    });
    this.checkFunction = fn('Check', 'recall-check', 'Checks whether the user came back', {
      users: 'RO',
      recalls: 'NONE',
      messages: 'NONE',
      inbox: 'RO',
      rewards: 'NONE',
      sendSlots: 'NONE',
    });
    this.closeFunction = fn('Close', 'recall-close', 'Records the outcome of the recall', {
      users: 'RW',
      recalls: 'RW',
      messages: 'RO',
      inbox: 'NONE',
      // A reward never announced is cancelled and returned to the day's budget.
      rewards: 'RW',
      sendSlots: 'NONE',
    });
    this.grantDelivery(delivery);

    const failed = new LambdaInvoke(this, 'Close the recall as failed', {
      lambdaFunction: this.closeFunction,
      payload: TaskInput.fromJsonPathAt('$'),
      resultSelector: { 'outcome.$': '$.Payload' },
      resultPath: '$.close',
      retryOnServiceExceptions: false,
    });
    retryTransient(failed);
    failed.addCatch(new Fail(this, 'Recall could not be closed', { error: 'RecallCloseFailed' }), {
      resultPath: '$.closeError',
    });
    failed.next(
      new Fail(this, 'Recall failed', {
        error: 'RecallFailed',
        cause: 'an unexpected error; see the recall record',
      }),
    );

    const close = new LambdaInvoke(this, 'Close the recall', {
      lambdaFunction: this.closeFunction,
      payload: TaskInput.fromJsonPathAt('$'),
      resultSelector: { 'outcome.$': '$.Payload' },
      resultPath: '$.close',
      retryOnServiceExceptions: false,
    });
    this.guard(close, failed);

    // Build the escalation back to front so each step knows where it goes next.
    let next: IChainable = close;
    const sendStates: Record<string, LambdaInvoke> = {};
    for (const step of [...RECALL_STEPS].reverse()) {
      const send = new LambdaInvoke(this, step.send, {
        lambdaFunction: this.sendFunction,
        payload: TaskInput.fromObject({
          'recallId.$': '$.recallId',
          'userId.$': '$.userId',
          channel: step.channel,
          'plan.$': '$.plan',
        }),
        resultSelector: {
          'channel.$': '$.Payload.channel',
          'result.$': '$.Payload.result',
          'at.$': '$.Payload.at',
          'waitUntil.$': '$.Payload.waitUntil',
        },
        resultPath: `$.${step.resultKey}`,
        retryOnServiceExceptions: false,
      });
      send.addRetry({
        errors: DELIVERY_RETRY.errors,
        interval: Duration.seconds(DELIVERY_RETRY.intervalSeconds),
        backoffRate: DELIVERY_RETRY.backoffRate,
        maxAttempts: DELIVERY_RETRY.maxAttempts,
        jitterStrategy: JitterType.FULL,
      });
      retryTransient(send);
      const check = new LambdaInvoke(this, step.check, {
        lambdaFunction: this.checkFunction,
        payload: TaskInput.fromObject({
          'recallId.$': '$.recallId',
          'userId.$': '$.userId',
          'startedAt.$': '$.startedAt',
          after: step.channel,
        }),
        resultSelector: {
          'returned.$': '$.Payload.returned',
          'after.$': '$.Payload.after',
          'how.$': '$.Payload.how',
          'at.$': '$.Payload.at',
        },
        resultPath: '$.check',
        retryOnServiceExceptions: false,
      });
      this.guard(check, failed);
      // A delivery that still fails after its retries is recorded and the escalation moves on;
      // anything else is a fault, and the recall closes as failed rather than hanging.
      // The error replaces the step's result, so no earlier result of this step (a deferral) lingers.
      send.addCatch(check, { errors: DELIVERY_RETRY.errors, resultPath: `$.${step.resultKey}` });
      send.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
      const wait = new Wait(this, step.wait, {
        time: WaitTime.timestampPath(`$.${step.resultKey}.waitUntil`),
      });
      send
        .next(wait)
        .next(check)
        .next(
          new Choice(this, step.decide)
            .when(Condition.booleanEquals('$.check.returned', true), close)
            // Held for quiet hours: the wait ran until sending hours; send this step now.
            .when(
              Condition.and(
                Condition.isPresent(`$.${step.resultKey}.result`),
                Condition.stringEquals(`$.${step.resultKey}.result`, 'deferred'),
              ),
              send,
            )
            .otherwise(next),
        );
      next = send;
      sendStates[step.channel] = send;
    }

    const prepare = new LambdaInvoke(this, 'Prepare the recall', {
      lambdaFunction: this.prepareFunction,
      payload: TaskInput.fromJsonPathAt('$'),
      outputPath: undefined,
      resultSelector: {
        'route.$': '$.Payload.route',
        'channels.$': '$.Payload.channels',
        'strategies.$': '$.Payload.strategies',
        'holdout.$': '$.Payload.holdout',
        'sendAt.$': '$.Payload.sendAt',
      },
      resultPath: '$.plan',
      retryOnServiceExceptions: false,
    });
    this.guard(prepare, failed);
    const route = new Choice(this, 'Which way does the recall go?')
      .when(Condition.stringEquals('$.plan.route', 'skip'), close)
      .when(Condition.stringEquals('$.plan.route', 'sms_first'), sendStates.sms!)
      .otherwise(sendStates.in_app!);
    prepare
      .next(new Wait(this, 'Wait for sending hours', { time: WaitTime.timestampPath('$.plan.sendAt') }))
      .next(route);

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      role: workflowRole(this, [
        this.prepareFunction,
        this.sendFunction,
        this.checkFunction,
        this.closeFunction,
      ]),
      // A readable name in the console; the stack name keeps two deployments apart.
      stateMachineName: recallStateMachineName(Stack.of(this)),
      stateMachineType: StateMachineType.STANDARD,
      comment: 'winback recall: in-app → push → SMS, stopping when the user comes back',
      definitionBody: DefinitionBody.fromChainable(prepare),
      timeout: Duration.days(WORKFLOW_TIMEOUT_DAYS),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH }),
        level: LogLevel.ERROR,
        includeExecutionData: false,
      },
    });
    Tags.of(this.stateMachine).add(WORKFLOW_TAG, 'Recall');
  }

  /** Retries transient errors; anything else closes the recall as failed rather than leaving it hanging. */
  private guard(task: LambdaInvoke, failed: State & INextable): void {
    retryTransient(task);
    task.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
  }

  private grantDelivery(delivery: RecallDeliveryConfig): void {
    const stack = Stack.of(this);
    const send = this.sendFunction;
    send.addEnvironment(ENV.smsProvider, delivery.smsProvider);
    if (delivery.smsProvider === 'end-user-messaging') {
      if (!delivery.smsOriginationIdentity)
        throw new Error('smsOriginationIdentity is required for the end-user-messaging SMS provider');
      send.addEnvironment(ENV.smsOriginationIdentity, delivery.smsOriginationIdentity);
      if (delivery.smsConfigurationSet)
        send.addEnvironment(ENV.smsConfigurationSet, delivery.smsConfigurationSet);
      send.addToRolePolicy(
        new PolicyStatement({
          actions: ['sms-voice:SendTextMessage', 'sms-voice:DescribeOptedOutNumbers'],
          resources: [stack.formatArn({ service: 'sms-voice', resource: '*' })],
        }),
      );
      send.role.acknowledge(
        'IAM5[Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:<AWS::AccountId>:*]',
        'SendTextMessage is authorized on the origination identity (a pool, phone number or sender id, given by id or ARN), the configuration set and the opt-out list together; the grant stays within this account and region.',
      );
    } else {
      if (delivery.smsSenderId) send.addEnvironment(ENV.smsSenderId, delivery.smsSenderId);
      // SMS to a phone number has no topic ARN to scope to: SNS authorizes it on "*".
      send.role.grantUnscopable('SmsToPhoneNumbers');
      // ...but that "*" must not reach topics: the send function texts people, it publishes nowhere else.
      send.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.DENY,
          actions: ['sns:Publish'],
          resources: [`arn:${stack.partition}:sns:*:*:*`],
        }),
      );
    }
    if (delivery.pushApplicationId) {
      send.addEnvironment(ENV.pushApplicationId, delivery.pushApplicationId);
      send.addEnvironment(ENV.pushChannelType, delivery.pushChannelType ?? 'GCM');
      send.addToRolePolicy(
        new PolicyStatement({
          actions: ['mobiletargeting:SendMessages'],
          resources: [
            stack.formatArn({
              service: 'mobiletargeting',
              resource: 'apps',
              resourceName: `${delivery.pushApplicationId}/messages`,
            }),
          ],
        }),
      );
    }
  }
}
