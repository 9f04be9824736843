import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Stack } from 'aws-cdk-lib';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { OperatorAlert } from '../../functions/adapters/operator-notifier.ts';
import { S3ReportStore } from '../../functions/adapters/report-store.ts';
import { parsePolicy } from '../../functions/domain/policy.ts';
import { DailyScan } from '../../lib/daily-scan.ts';
import { SimulatedClock } from '../../local/clock.ts';
import { localReportTask } from '../../local/report-task.ts';
import { tasksByState } from '../../local/runtime.ts';
import { type CfnTemplate, stateMachinesFromTemplate } from '../../local/template.ts';
import { LocalWorkflow } from '../../local/workflow-engine.ts';
import { snapshot, writeLake } from './fixture-lake.ts';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('the DailyScan report step in the embedded runtime', () => {
  it('runs the synthesized "Write the daily report" state on DuckDB and writes the report into the lake', async () => {
    const lakeDir = mkdtempSync(join(tmpdir(), 'winback-daily-report-'));
    roots.push(lakeDir);
    writeLake(lakeDir, {
      snapshots: ['2026-07-01', '2026-07-02'].flatMap((d) => [
        snapshot(d, 'a', { status: 'churned' }),
        snapshot(d, 'b', { status: 'at_risk' }),
        snapshot(d, 'c'),
      ]),
    });

    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'LocalReport');
    new DailyScan(stack, 'DailyScan', {
      users: new TableV2(stack, 'Users', { partitionKey: { name: 'userId', type: AttributeType.STRING } }),
      operatorTopic: new Topic(stack, 'Operators'),
      policyJson: '{}',
      segments: 1,
      schedule: { hour: 9, minute: 0, timeZone: 'Asia/Shanghai' },
      report: { lake: { bucket: new Bucket(stack, 'Lake'), workgroupName: 'wg', databaseName: 'db' } },
    });
    const template = app.synth().getStackByName('LocalReport').template as CfnTemplate;
    const definition = Object.values(stateMachinesFromTemplate(template))[0]!;

    const alerts: OperatorAlert[] = [];
    const tasks = tasksByState(definition, template, {
      'scan-segment': async (p) => ({ segment: (p as { segment: number }).segment, done: true, totals: {} }),
      'scan-summary': async (p) => ({
        asOf: (p as { asOf: string }).asOf,
        totals: {},
        invalidRecords: [],
        digest: '',
      }),
      report: localReportTask({
        lakeDir,
        notifier: { notify: async (a) => void alerts.push(a) },
        policy: parsePolicy({}),
        locale: 'en',
      }),
    });
    const workflow = new LocalWorkflow({
      definition,
      tasks,
      clock: new SimulatedClock('2026-07-02T01:00:00Z'),
      name: 'DailyScan',
    });
    const execution = workflow.start('scan-20260702', { asOf: '2026-07-02T01:00:00.000Z' });
    await execution.done;

    expect(execution.status).toBe('SUCCEEDED');
    const html = join(lakeDir, 'reports', '2026-07-02', 'report.html');
    expect(execution.output).toMatchObject({
      report: { day: '2026-07-02', html, json: join(lakeDir, 'reports', '2026-07-02', 'report.json') },
    });
    expect(readFileSync(html, 'utf8')).toContain('winback insight report');
    const latest = JSON.parse(readFileSync(join(lakeDir, 'reports', 'latest.json'), 'utf8'));
    expect(latest.headline).toMatchObject({ users: 3, churned: 1, atRisk: 1 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'daily_report', subject: 'daily report 2026-07-02' });
    expect(alerts[0]?.message).toContain(`Report: ${html}`);
    expect(existsSync(join(lakeDir, 'reports', '2026-07-02', 'report.json.tmp'))).toBe(false);
  }, 60_000);
});

describe('S3ReportStore', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());

  it('writes the day’s page and data, then latest.json, and answers with their s3:// addresses', async () => {
    s3.on(PutObjectCommand).resolves({});
    const stored = await new S3ReportStore(new S3Client({}), 'lake-bucket').put(
      '2026-07-02',
      '<html>',
      '{"a":1}',
    );
    expect(stored).toEqual({
      day: '2026-07-02',
      html: 's3://lake-bucket/reports/2026-07-02/report.html',
      json: 's3://lake-bucket/reports/2026-07-02/report.json',
      latest: 's3://lake-bucket/reports/latest.json',
    });
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toEqual([
      {
        Bucket: 'lake-bucket',
        Key: 'reports/2026-07-02/report.html',
        Body: '<html>',
        ContentType: 'text/html; charset=utf-8',
      },
      {
        Bucket: 'lake-bucket',
        Key: 'reports/2026-07-02/report.json',
        Body: '{"a":1}',
        ContentType: 'application/json',
      },
      { Bucket: 'lake-bucket', Key: 'reports/latest.json', Body: '{"a":1}', ContentType: 'application/json' },
    ]);
  });

  it('reads latest.json, and answers undefined before the first report', async () => {
    s3.on(GetObjectCommand, { Bucket: 'lake-bucket', Key: 'reports/latest.json' })
      .resolvesOnce({ Body: { transformToString: async () => '{"asOfDay":"2026-07-02"}' } as never })
      .rejectsOnce(new NoSuchKey({ message: 'no such key', $metadata: {} }));
    const store = new S3ReportStore(new S3Client({}), 'lake-bucket');
    expect(await store.latest()).toBe('{"asOfDay":"2026-07-02"}');
    expect(await store.latest()).toBeUndefined();
  });
});
