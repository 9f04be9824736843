import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  type MetricOptions,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ESCALATION } from '../functions/domain/assessment.ts';
import { METRIC, METRIC_NAMESPACE, METRIC_SERVICE, type MetricName } from '../functions/domain/metrics.ts';
import { RECALL_OUTCOMES, RECALL_TRIGGERS } from '../functions/domain/recall.ts';
import { ASSESSMENT_STATUSES, RISK_LEVELS } from '../functions/domain/user.ts';
import { WinbackFunction } from './function.ts';

/** A metric the handlers publish (see functions/domain/metrics.ts), with the dimensions Powertools gives it. */
export function winbackMetric(
  name: MetricName,
  dimension?: { name: string; value: string },
  options: MetricOptions = {},
): Metric {
  return new Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: METRIC_SERVICE, ...(dimension ? { [dimension.name]: dimension.value } : {}) },
    statistic: 'Sum',
    ...options,
  });
}

/** Every winback Lambda in the stack: the dashboard and the alarms cover functions added later too. */
export function winbackFunctions(scope: Construct): WinbackFunction[] {
  return Stack.of(scope)
    .node.findAll()
    .filter((c): c is WinbackFunction => c instanceof WinbackFunction);
}

export interface OperationsDashboardProps {
  readonly workflows: { readonly name: string; readonly stateMachine: IStateMachine }[];
  readonly api: RestApi;
  readonly tables: Record<string, ITableV2>;
  /** Defaults to every WinbackFunction in the stack at the time this construct is created. */
  readonly functions?: WinbackFunction[];
}

const DAY = Duration.days(1);
const HOUR = Duration.hours(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * `<stack>-Operations` (`Winback-Operations` for the default stack): what an operator opens in the
 * morning. The daily scan's picture of the user base, the recall funnel as it runs, delivery, the
 * workflows, the API, and the platform's own errors and throttles.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const functions = props.functions ?? winbackFunctions(this);
    const per = <T extends string>(
      name: MetricName,
      dimension: string,
      values: readonly T[],
      options: MetricOptions,
    ): IMetric[] =>
      values.map((value) => winbackMetric(name, { name: dimension, value }, { label: value, ...options }));
    const daily = { period: DAY, statistic: 'Maximum' };
    const hourly = { period: HOUR, statistic: 'Sum' };

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-Operations`,
      defaultInterval: Duration.days(14),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# winback operations\nScan figures are per daily run; recall and delivery figures per hour. ' +
          'Metric definitions: docs/operations.md.',
        width: 24,
        height: 2,
      }),
    );

    // The user base as the daily scan saw it.
    this.dashboard.addWidgets(
      graph('Users by status (per scan)', per(METRIC.usersByStatus, 'status', ASSESSMENT_STATUSES, daily)),
      graph('Users by risk level (per scan)', per(METRIC.usersByLevel, 'level', RISK_LEVELS, daily)),
      graph(
        'Scan duration (s)',
        [winbackMetric(METRIC.scanDuration, undefined, { ...daily, label: 'duration' })],
        [winbackMetric(METRIC.scanUsersPerSecond, undefined, { ...daily, label: 'users / s' })],
      ),
      graph('Assessed and invalid records', [
        winbackMetric(METRIC.usersAssessed, undefined, { ...daily, label: 'assessed' }),
        winbackMetric(METRIC.invalidRecords, undefined, { ...daily, label: 'invalid' }),
      ]),
    );

    // Recalls and their messages.
    this.dashboard.addWidgets(
      graph('Recalls started by trigger', [
        ...per(METRIC.recallsStarted, 'trigger', RECALL_TRIGGERS, hourly),
        winbackMetric(METRIC.holdoutDraws, undefined, { ...hourly, label: 'holdout draws' }),
      ]),
      graph('Recalls closed by outcome', per(METRIC.recallsClosed, 'outcome', RECALL_OUTCOMES, hourly)),
      graph('Messages sent by channel', per(METRIC.messagesSent, 'channel', ESCALATION, hourly)),
      graph('Sends held and delivery failures', [
        ...per(METRIC.sendsHeld, 'reason', ['quiet_hours', 'frequency_cap'], hourly),
        ...ESCALATION.map((c) =>
          winbackMetric(
            METRIC.deliveryFailures,
            { name: 'channel', value: c },
            { ...hourly, label: `failed ${c}` },
          ),
        ),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Activity events', [
        winbackMetric(METRIC.eventsApplied, undefined, { ...hourly, label: 'applied' }),
        winbackMetric(METRIC.eventsDuplicate, undefined, { ...hourly, label: 'duplicate' }),
        winbackMetric(METRIC.eventsRejected, undefined, { ...hourly, label: 'rejected' }),
      ]),
      graph('Uplift: strategies whose interval lies below zero', [
        winbackMetric(METRIC.strategiesWithNegativeUplift, undefined, { ...daily, label: 'strategies' }),
      ]),
    );

    // The workflows, the API, the functions and the tables.
    this.dashboard.addWidgets(
      ...props.workflows.map(({ name, stateMachine }) =>
        graph(`${name} executions`, [
          stateMachine.metricStarted({ period: HOUR, label: 'started' }),
          stateMachine.metricSucceeded({ period: HOUR, label: 'succeeded' }),
          stateMachine.metricFailed({ period: HOUR, label: 'failed' }),
          stateMachine.metricTimedOut({ period: HOUR, label: 'timed out' }),
        ]),
      ),
    );
    const { api } = props;
    this.dashboard.addWidgets(
      graph('API requests and errors', [
        api.metricCount({ period: FIVE_MINUTES, label: 'requests' }),
        api.metricClientError({ period: FIVE_MINUTES, label: '4xx' }),
        api.metricServerError({ period: FIVE_MINUTES, label: '5xx' }),
      ]),
      graph('API latency (ms)', [
        api.metricLatency({ period: FIVE_MINUTES, statistic: 'p50', label: 'p50' }),
        api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99', label: 'p99' }),
      ]),
      graph(
        'Lambda errors',
        functions.map((fn) => fn.metricErrors({ period: FIVE_MINUTES, label: handlerOf(fn) })),
      ),
      graph(
        'Lambda throttles',
        functions.map((fn) => fn.metricThrottles({ period: FIVE_MINUTES, label: handlerOf(fn) })),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'DynamoDB throttled requests',
        Object.entries(props.tables).map(
          ([name, table], i) =>
            new MathExpression({
              // Ids are unique across the whole graph, so each table's pair gets its own.
              expression: `FILL(r${i}, 0) + FILL(w${i}, 0)`,
              usingMetrics: {
                [`r${i}`]: tableMetric(table, 'ReadThrottleEvents'),
                [`w${i}`]: tableMetric(table, 'WriteThrottleEvents'),
              },
              period: FIVE_MINUTES,
              label: name,
            }),
        ),
        undefined,
        24,
      ),
    );
  }
}

function graph(title: string, left: IMetric[], right?: IMetric[], width = 6): GraphWidget {
  return new GraphWidget({ title, left, ...(right ? { right } : {}), width, height: 6 });
}

function tableMetric(table: ITableV2, metricName: string): Metric {
  return new Metric({
    namespace: 'AWS/DynamoDB',
    metricName,
    dimensionsMap: { TableName: table.tableName },
    statistic: 'Sum',
    period: FIVE_MINUTES,
  });
}

/** The function's place in the stack ("Recall/Send", "Api/Handler"): how an operator finds it. */
export function handlerOf(fn: WinbackFunction): string {
  return fn.node.path.split('/').slice(1).join('/');
}
