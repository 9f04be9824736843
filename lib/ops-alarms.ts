import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ESCALATION } from '../functions/domain/assessment.ts';
import { METRIC } from '../functions/domain/metrics.ts';
import { handlerOf, winbackFunctions, winbackMetric } from './dashboard.ts';
import type { WinbackFunction } from './function.ts';

/** Thresholds of the operations alarms; the defaults are what a small retention team would act on. */
export interface OperationsAlarmThresholds {
  /** 5xx responses as a share of API requests over five minutes, percent. */
  readonly apiServerErrorPercent: number;
  /** Below this many requests in five minutes the 5xx share is not judged (one error in two is noise). */
  readonly apiMinRequests: number;
  /** Failed deliveries as a share of attempts per channel over an hour, percent. */
  readonly deliveryFailurePercent: number;
  readonly deliveryMinAttempts: number;
}

export const DEFAULT_ALARM_THRESHOLDS: OperationsAlarmThresholds = {
  apiServerErrorPercent: 5,
  apiMinRequests: 20,
  deliveryFailurePercent: 20,
  deliveryMinAttempts: 10,
};

export interface OperationsAlarmsProps {
  readonly topic: ITopic;
  readonly dailyScan: IStateMachine;
  readonly api: RestApi;
  /** The send function: refused deliveries surface as its errors by design (Step Functions retries them). */
  readonly sendFunction: WinbackFunction;
  /** Defaults to every WinbackFunction in the stack at the time this construct is created. */
  readonly functions?: WinbackFunction[];
  readonly thresholds?: Partial<OperationsAlarmThresholds>;
}

/**
 * Alarms to the operator topic beyond failed executions: a daily scan that timed out or never
 * started, Lambda errors, the API's 5xx share, delivery failures per channel, and a strategy whose
 * uplift interval lies entirely below zero.
 */
export class OperationsAlarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    const t = { ...DEFAULT_ALARM_THRESHOLDS, ...props.thresholds };
    const action = new SnsAction(props.topic);
    const add = (alarmId: string, description: string, options: AlarmOptions) => {
      const alarm = new Alarm(this, alarmId, { alarmDescription: description, ...options });
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
      return alarm;
    };

    // A timed-out daily scan pages through Operators.alarmOnFailedExecutions (lib/operators.ts), not twice.

    // The scan starts once a day, so between two runs there are 23 empty hours. A 24th empty hour in
    // a row means today's run did not start: the alarm fires at the scheduled hour + 1 h. No data at
    // all (nothing started) counts as breaching, so a schedule that is off or broken is caught too.
    add('DailyScanDidNotStart', 'The daily scan did not start within an hour of its scheduled time', {
      metric: props.dailyScan.metricStarted({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 24,
      datapointsToAlarm: 24,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
    });

    const functions = props.functions ?? winbackFunctions(this);
    for (const fn of functions) {
      if (fn === props.sendFunction) continue;
      add(`LambdaErrors-${handlerOf(fn).replaceAll('/', '-')}`, `${handlerOf(fn)} failed invocations`, {
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    // Refused deliveries are errors of the send function by design and have their own alarm below;
    // what pages here is a share of failing sends no provider hiccup explains.
    add(
      'LambdaErrorsSend',
      `${handlerOf(props.sendFunction)}: more than a quarter of invocations failed (at least 10 in 15 minutes)`,
      {
        metric: new MathExpression({
          expression: 'IF(FILL(n, 0) >= 10, 100 * FILL(e, 0) / n, 0)',
          usingMetrics: {
            e: props.sendFunction.metricErrors({ statistic: 'Sum' }),
            n: props.sendFunction.metricInvocations({ statistic: 'Sum' }),
          },
          period: Duration.minutes(15),
          label: 'send errors %',
        }),
        threshold: 25,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      },
    );

    add(
      'ApiServerErrorRate',
      `More than ${t.apiServerErrorPercent}% of API requests answered 5xx (at least ${t.apiMinRequests} requests in 5 minutes)`,
      {
        metric: new MathExpression({
          expression: `IF(FILL(n, 0) >= ${t.apiMinRequests}, 100 * FILL(e, 0) / n, 0)`,
          usingMetrics: {
            e: props.api.metricServerError({ statistic: 'Sum' }),
            n: props.api.metricCount({ statistic: 'Sum' }),
          },
          period: Duration.minutes(5),
          label: 'API 5xx %',
        }),
        threshold: t.apiServerErrorPercent,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      },
    );

    for (const channel of ESCALATION) {
      const dim = { name: 'channel', value: channel };
      add(
        `DeliveryFailureRate-${channel}`,
        `More than ${t.deliveryFailurePercent}% of ${channel} deliveries failed in an hour (at least ${t.deliveryMinAttempts} attempts)`,
        {
          metric: new MathExpression({
            expression: `IF(FILL(s, 0) + FILL(f, 0) >= ${t.deliveryMinAttempts}, 100 * FILL(f, 0) / (FILL(s, 0) + FILL(f, 0)), 0)`,
            usingMetrics: {
              s: winbackMetric(METRIC.messagesSent, dim),
              f: winbackMetric(METRIC.deliveryFailures, dim),
            },
            period: Duration.hours(1),
            label: `${channel} failure %`,
          }),
          threshold: t.deliveryFailurePercent,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        },
      );
    }

    // Published by the daily report (see functions/domain/metrics.ts upliftMetrics); until then no data.
    add(
      'ReturnRateDrop',
      'A recall strategy does measurably worse than doing nothing: its uplift interval lies entirely below zero',
      {
        metric: winbackMetric(METRIC.strategiesWithNegativeUplift, undefined, {
          period: Duration.days(1),
          statistic: 'Maximum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      },
    );
  }
}

type AlarmOptions = {
  metric: IMetric;
  threshold: number;
  evaluationPeriods: number;
  datapointsToAlarm?: number;
  comparisonOperator: ComparisonOperator;
  treatMissingData: TreatMissingData;
};
