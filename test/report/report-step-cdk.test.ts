import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { DailyScan, type DailyScanProps } from '../../lib/daily-scan.ts';
import { type AslDefinition, type CfnTemplate, stateMachinesFromTemplate } from '../../local/template.ts';

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  ResultPath?: string;
  Parameters?: Record<string, unknown>;
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Retry?: unknown[];
}

/** A DailyScan alone, with a stand-in lake bucket (lib/lake.ts provides the real one). */
function synth(withReport: boolean): { template: Template; definition: { States: Record<string, State> } } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ReportStep', { env: { account: '111122223333', region: 'ap-east-1' } });
  const props: DailyScanProps = {
    users: new TableV2(stack, 'Users', { partitionKey: { name: 'userId', type: AttributeType.STRING } }),
    operatorTopic: new Topic(stack, 'Operators'),
    policyJson: '{}',
    segments: 2,
    schedule: { hour: 9, minute: 0, timeZone: 'Asia/Shanghai' },
    ...(withReport
      ? {
          report: {
            lake: {
              bucket: new Bucket(stack, 'Lake'),
              workgroupName: 'winback-lake',
              databaseName: 'winback_lake',
            },
            locale: 'en' as const,
          },
        }
      : {}),
  };
  new DailyScan(stack, 'DailyScan', props);
  const template = Template.fromStack(stack);
  const definitions = stateMachinesFromTemplate(template.toJSON() as CfnTemplate);
  const definition = Object.values(definitions)[0] as AslDefinition as unknown as {
    States: Record<string, State>;
  };
  return { template, definition };
}

describe('the daily report step', () => {
  let template: Template;
  let states: Record<string, State>;
  beforeAll(() => {
    const s = synth(true);
    template = s.template;
    states = s.definition.States;
  });

  it('runs after the summary, with retries, and fails the run (for the alarm) when the report fails', () => {
    const summary = states['Summarize the run and tell operators'];
    expect(summary?.Next).toBe('Write the daily report');
    const report = states['Write the daily report'];
    expect(report).toMatchObject({ Type: 'Task', ResultPath: '$.report', End: true });
    expect(report?.Parameters).toMatchObject({ Payload: { 'asOf.$': '$.asOf' } });
    expect(report?.Retry?.length).toBeGreaterThan(0);
    expect(report?.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Report failed' }),
    ]);
    expect(states['Report failed']).toMatchObject({ Type: 'Fail', Error: 'ReportFailed' });
  });

  it('gives the report function the lake bucket, workgroup, database and locale', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          LAKE_BUCKET: { Ref: Match.stringLikeRegexp('^Lake') },
          LAKE_WORKGROUP: 'winback-lake',
          LAKE_DATABASE: 'winback_lake',
          REPORT_LOCALE: 'en',
          REPORT_HORIZON_DAYS: '30',
        }),
      },
    });
  });

  it('tells the summary the lake bucket, so the digest names where the report will be', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([{ Key: 'winback:handler', Value: 'scan-summary' }]),
      Environment: { Variables: Match.objectLike({ LAKE_BUCKET: { Ref: Match.stringLikeRegexp('^Lake') } }) },
    });
    // ...and may read the last report (for the digest's recall lines), that one object only.
    const summaryRead = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } })
            .Properties.PolicyDocument.Statement,
      )
      .filter((st) => JSON.stringify(st.Resource).includes('/reports/latest.json'));
    expect(summaryRead).toEqual([expect.objectContaining({ Action: 's3:GetObject' })]);
  });

  it('grants Athena on the workgroup only, Glue on the lake database, and the bucket', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (
          p as {
            Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
          }
        ).Properties.PolicyDocument.Statement,
    );
    const athena = statements.find((s) => [s.Action].flat().includes('athena:StartQueryExecution'));
    expect([athena?.Action].flat().sort()).toEqual([
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'athena:StartQueryExecution',
      'athena:StopQueryExecution',
    ]);
    expect(JSON.stringify(athena?.Resource)).toContain(':workgroup/winback-lake');
    const glue = statements.find((s) => [s.Action].flat().includes('glue:GetTable'));
    expect(JSON.stringify(glue?.Resource)).toContain(':table/winback_lake/*');
    expect(JSON.stringify(glue?.Resource)).toContain(':database/winback_lake');
    const s3 = statements.find((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(s3?.Resource)).toContain('Lake');
  });

  it('is absent until a lake is given: the summary ends the run', () => {
    const { definition } = synth(false);
    expect(definition.States['Write the daily report']).toBeUndefined();
    expect(definition.States['Summarize the run and tell operators']?.End).toBe(true);
  });
});
