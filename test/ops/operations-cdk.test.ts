import { App } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WinbackStack } from '../../lib/winback-stack.ts';
import { type CfnTemplate, stateMachinesFromTemplate } from '../../local/template.ts';

// The stack with its default configuration, synthesized once, without bundling the functions.
let template: Template;
let topicId: string;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new WinbackStack(app, 'Winback'));
  topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0]!;
});

/** The dashboard body with every intrinsic replaced by a readable placeholder. */
function dashboardBody(): {
  widgets: { properties: { title?: string; metrics?: unknown[][]; markdown?: string } }[];
} {
  const body = new Capture();
  template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
    DashboardName: 'Winback-Operations',
    DashboardBody: body,
  });
  const value = body.asObject() as { 'Fn::Join': [string, unknown[]] };
  const text = value['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part).replace(/"/g, '')}>`))
    .join('');
  return JSON.parse(text);
}

function widget(title: string) {
  const found = dashboardBody().widgets.find((w) => w.properties.title === title);
  expect(found, `widget "${title}"`).toBeDefined();
  return found!.properties;
}

/** Metric rows of a widget as [namespace, name, ...dimension pairs], options dropped. */
function rows(title: string): string[][] {
  return (widget(title).metrics ?? []).map((row) =>
    row.filter((cell): cell is string => typeof cell === 'string'),
  );
}

/** The value of a dimension in a metric row. */
const dim = (row: string[], name: string) => (row.includes(name) ? row[row.indexOf(name) + 1] : undefined);

function alarm(id: string): Record<string, unknown> {
  const found = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([logicalId]) =>
    logicalId.startsWith(`OperationsAlarms${id.replace(/[^A-Za-z0-9]/g, '')}`),
  );
  expect(
    found.map(([k]) => k),
    `alarm ${id}`,
  ).toHaveLength(1);
  return found[0]![1].Properties as Record<string, unknown>;
}

describe('Winback-Operations dashboard', () => {
  it('shows the scan figures from the Winback namespace with their dimensions', () => {
    expect(rows('Users by status (per scan)')).toEqual(
      ['active', 'at_risk', 'churned'].map((s) => [
        'Winback',
        'UsersByStatus',
        'service',
        'winback',
        'status',
        s,
      ]),
    );
    expect(rows('Users by risk level (per scan)').map((r) => dim(r, 'level'))).toEqual([
      'none',
      'low',
      'medium',
      'high',
    ]);
    expect(rows('Scan duration (s)').map((r) => r[1])).toEqual(['ScanDuration', 'ScanUsersPerSecond']);
  });

  it('shows recalls, messages by channel, holds and delivery failures', () => {
    expect(rows('Recalls closed by outcome').map((r) => dim(r, 'outcome'))).toEqual([
      'returned',
      'not_returned',
      'skipped',
      'failed',
    ]);
    expect(rows('Recalls started by trigger').map((r) => r[1])).toContain('HoldoutDraws');
    for (const row of rows('Messages sent by channel')) {
      expect([row[0], row[1], dim(row, 'service')]).toEqual(['Winback', 'MessagesSent', 'winback']);
    }
    expect(rows('Messages sent by channel').map((r) => dim(r, 'channel'))).toEqual(['in_app', 'push', 'sms']);
    expect(
      rows('Sends held and delivery failures').map((r) => `${r[1]}:${dim(r, 'reason') ?? dim(r, 'channel')}`),
    ).toEqual([
      'SendsHeld:quiet_hours',
      'SendsHeld:frequency_cap',
      'DeliveryFailures:in_app',
      'DeliveryFailures:push',
      'DeliveryFailures:sms',
    ]);
    expect(rows('Activity events').map((r) => r[1])).toEqual([
      'EventsApplied',
      'EventsDuplicate',
      'EventsRejected',
    ]);
  });

  it('shows started, succeeded, failed and timed-out executions of both state machines', () => {
    for (const name of ['DailyScan', 'Recall']) {
      const metrics = rows(`${name} executions`);
      expect(metrics.map((r) => r[1])).toEqual([
        'ExecutionsStarted',
        'ExecutionsSucceeded',
        'ExecutionsFailed',
        'ExecutionsTimedOut',
      ]);
      expect(metrics.every((r) => r[0] === 'AWS/States' && r[2] === 'StateMachineArn')).toBe(true);
    }
  });

  it('shows API 4xx, 5xx and latency, Lambda errors and throttles of every function, DynamoDB throttles of every table', () => {
    expect(rows('API requests and errors').map((r) => r[1])).toEqual(['Count', '4XXError', '5XXError']);
    expect(rows('API latency (ms)').map((r) => r[1])).toEqual(['Latency', 'Latency']);
    const functions = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Tags: Match.arrayWith([Match.objectLike({ Key: 'winback:handler' })]) },
      }),
    );
    expect(functions.length).toBeGreaterThanOrEqual(7);
    expect(rows('Lambda errors')).toHaveLength(functions.length);
    expect(rows('Lambda throttles').every((r) => r[1] === 'Throttles')).toBe(true);
    const tables = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable'));
    const throttles = widget('DynamoDB throttled requests').metrics!;
    // One expression per table, plus its read and write throttle events.
    expect(
      throttles.filter((r) => /FILL\(r\d+, 0\) \+ FILL\(w\d+, 0\)/.test(JSON.stringify(r))),
    ).toHaveLength(tables.length);
    expect(throttles.filter((r) => r.includes('WriteThrottleEvents'))).toHaveLength(tables.length);
  });
});

describe('operations alarms', () => {
  const toTopic = () => Match.arrayWith([{ Ref: topicId }]);

  it('pages when the daily scan has not started by its hour + 1 h: 24 empty hours in a row, no data breaching', () => {
    expect(alarm('DailyScanDidNotStart')).toMatchObject({
      MetricName: 'ExecutionsStarted',
      Namespace: 'AWS/States',
      Period: 3600,
      EvaluationPeriods: 24,
      DatapointsToAlarm: 24,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      Statistic: 'Sum',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsStarted',
      AlarmActions: toTopic(),
    });
  });

  it('pages once, not twice, when the daily scan times out', () => {
    const timedOut = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'ExecutionsTimedOut',
    );
    // One per state machine, both from lib/operators.ts.
    expect(timedOut).toHaveLength(2);
    for (const a of timedOut)
      expect(a.Properties.AlarmActions).toEqual(expect.arrayContaining([{ Ref: topicId }]));
  });

  it('pages on any error of every function but send, and on a share of failing sends', () => {
    const errorAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'Errors' && a.Properties.Namespace === 'AWS/Lambda',
    );
    const functions = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Tags: Match.arrayWith([Match.objectLike({ Key: 'winback:handler' })]) },
      }),
    );
    expect(errorAlarms).toHaveLength(functions.length - 1);
    const send = alarm('LambdaErrorsSend');
    expect(send.Threshold).toBe(25);
    expect(JSON.stringify(send.Metrics)).toContain('100 * FILL(e, 0) / n');
  });

  it('pages on the API 5xx share, judged only over enough requests', () => {
    const props = alarm('ApiServerErrorRate');
    expect(props).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' });
    const metrics = props.Metrics as {
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    expect(metrics.find((m) => m.Expression)!.Expression).toBe(
      'IF(FILL(n, 0) >= 20, 100 * FILL(e, 0) / n, 0)',
    );
    expect(metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : [])).sort()).toEqual([
      '5XXError',
      'Count',
    ]);
  });

  it.each(['in_app', 'push', 'sms'])('pages on the %s delivery failure rate', (channel) => {
    const props = alarm(`DeliveryFailureRate-${channel}`);
    expect(props).toMatchObject({ Threshold: 20, AlarmActions: [{ Ref: topicId }] });
    const stats = (
      props.Metrics as {
        MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] } };
      }[]
    ).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(stats.map((m) => m.MetricName).sort()).toEqual(['DeliveryFailures', 'MessagesSent']);
    for (const m of stats) {
      expect(m.Namespace).toBe('Winback');
      expect(m.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'channel', Value: channel },
          { Name: 'service', Value: 'winback' },
        ]),
      );
    }
  });

  it('pages when a strategy does measurably worse than doing nothing', () => {
    expect(alarm('ReturnRateDrop')).toMatchObject({
      MetricName: 'StrategiesWithNegativeUplift',
      Namespace: 'Winback',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('scan duration', () => {
  it('the summary step gets the execution start, whatever day the run assesses', () => {
    const machines = stateMachinesFromTemplate(template.toJSON() as CfnTemplate) as unknown as Record<
      string,
      { States: Record<string, { Parameters?: { Payload?: Record<string, string> } }> }
    >;
    const summary = machines.DailyScan!.States['Summarize the run and tell operators']!;
    expect(summary.Parameters?.Payload).toMatchObject({
      'asOf.$': '$.asOf',
      'startedAt.$': '$$.Execution.StartTime',
    });
  });
});
