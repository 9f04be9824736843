import { Stack, Tags } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TAGS } from '../functions/adapters/environment.ts';

/**
 * Where operators hear from winback: alerts that need a human, the daily digest, and alarms
 * on the workflows themselves. Subscribe e-mail, chat or a pager to the topic.
 */
export class Operators extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const key = new Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'winback operator topic',
    });
    // CloudWatch alarm actions publish to the encrypted topic as the CloudWatch service, which the
    // default key policy does not name: without this the failure alarms would never arrive.
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'winback operators',
      enforceSSL: true,
      masterKey: key,
    });
    Tags.of(this.topic).add(TAGS.topic, 'Operators');
  }

  /**
   * Any failed or timed-out execution of the workflow pages operators; a recall must never fail
   * silently (a timed-out one is not counted as failed, and a daily scan past its six hours is a day
   * not assessed).
   */
  alarmOnFailedExecutions(id: string, workflow: string, stateMachine: IStateMachine): Alarm {
    this.pageOnAny(
      `${id}TimedOut`,
      `An execution of the ${workflow} workflow timed out: open it in the Step Functions console`,
      stateMachine.metricTimedOut({ statistic: 'Sum' }),
    );
    return this.pageOnAny(
      id,
      `An execution of the ${workflow} workflow failed: open it in the Step Functions console`,
      stateMachine.metricFailed({ statistic: 'Sum' }),
    );
  }

  /** A message in a dead-letter queue is work that failed after every retry: a human decides what to redo. */
  alarmOnDeadLetters(id: string, what: string, queue: IQueue): Alarm {
    return this.pageOnAny(
      id,
      `${what}: read the message in the dead-letter queue ${queue.queueName}, redo the work, then delete it`,
      queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' }),
    );
  }

  /** One occurrence is enough to page: each of these is work that did not happen. */
  private pageOnAny(id: string, description: string, metric: IMetric): Alarm {
    const alarm = new Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    return alarm;
  }
}
