import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CheckIfPhoneNumberIsOptedOutCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RecallRepository } from '../../functions/adapters/recall-repository.ts';
import { UserRepository } from '../../functions/adapters/user-repository.ts';
import { emptyTotals } from '../../functions/domain/analytics.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

// The Lambda entry points as AWS runs them (deps from the environment, the real middy chain with
// Powertools), against dynalite; only SNS, which cannot run here, is mocked. stdout is captured and
// the EMF lines the invocations print are asserted.
const dynamo = useLocalDynamo();
const sns = mockClient(SNSClient);
let users: UserRepository;
let recalls: RecallRepository;

const DAYTIME = new Date('2026-11-24T02:00:00Z'); // 10:00 in Shanghai
const NIGHT = new Date('2026-11-24T15:00:00Z'); // 23:00 in Shanghai, inside the default quiet hours
const context = {
  functionName: 'winback-test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

let lines: string[] = [];
function emf(): Emf[] {
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Emf);
}
/** The value of a metric with exactly these dimensions (service included), or undefined. */
function metric(name: string, dimensions: Record<string, string> = {}): unknown {
  const wanted = { service: 'winback', ...dimensions };
  const found = emf().filter((e) => {
    const directive = e._aws.CloudWatchMetrics[0]!;
    if (!directive.Metrics.some((m) => m.Name === name)) return false;
    const dims = directive.Dimensions[0]!;
    return (
      dims.length === Object.keys(wanted).length &&
      Object.entries(wanted).every(([k, v]) => dims.includes(k) && e[k] === v)
    );
  });
  expect(found.length, `at most one EMF line for ${name} ${JSON.stringify(dimensions)}`).toBeLessThan(2);
  return found[0]?.[name];
}

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate());
  const tables = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  const named = (name: string) => tables.find((t) => t.name === dynamo.tablePrefix + name)!.name;
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    USERS_TABLE: named('Users'),
    RECALLS_TABLE: named('Recalls'),
    MESSAGES_TABLE: named('Messages'),
    INBOX_TABLE: named('Inbox'),
    REWARDS_TABLE: named('Rewards'),
    EVENTS_TABLE: named('Events'),
    JOBS_TABLE: named('Jobs'),
    SEND_SLOTS_TABLE: named('SendSlots'),
    OPERATOR_TOPIC_ARN: 'arn:aws:sns:local:123456789012:operators',
    RECALL_STATE_MACHINE_ARN: 'arn:aws:states:local:123456789012:stateMachine:Recall',
    WINBACK_POLICY: JSON.stringify({ recall: { holdoutShare: 1 } }),
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.stubEnv('POWERTOOLS_DEV', undefined as unknown as string);
  users = new UserRepository(dynamo.doc, named('Users'));
  recalls = new RecallRepository(dynamo.doc, named('Recalls'));
});
afterAll(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

beforeEach(() => {
  sns.reset();
  sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: false });
  sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
  lines = [];
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(DAYTIME);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return () => vi.mocked(process.stdout.write).mockRestore();
});

async function putUser(overrides: Partial<UserRecord>): Promise<UserRecord> {
  const user = aUser(overrides);
  await users.put(user);
  return user;
}

const plan = { channels: ['in_app', 'push', 'sms'] as const, strategies: [{ kind: 'reminder' as const }] };

describe('recall-send Lambda metrics', () => {
  it('counts a message once, by channel; the same step asked again is not counted again', async () => {
    const { handler } = await import('../../functions/handlers/recall-send.ts');
    await putUser({ userId: 'm-in-app' });
    const input = {
      recallId: 'r-m1',
      userId: 'm-in-app',
      channel: 'in_app' as const,
      plan: { ...plan, channels: [...plan.channels] },
    };
    await expect(handler(input, context)).resolves.toMatchObject({ result: 'sent' });
    expect(metric('MessagesSent', { channel: 'in_app' })).toBe(1);
    const line = emf().find((e) => 'MessagesSent' in e)!;
    expect(line._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Winback',
      Dimensions: [['service', 'channel']],
      Metrics: [{ Name: 'MessagesSent', Unit: 'Count' }],
    });

    lines = [];
    vi.setSystemTime(new Date(DAYTIME.getTime() + 60_000));
    await expect(handler(input, context)).resolves.toMatchObject({ result: 'sent' });
    expect(metric('MessagesSent', { channel: 'in_app' })).toBeUndefined();
  });

  it('counts SMS sent, then a second SMS within the window as held by the cap', async () => {
    const { handler } = await import('../../functions/handlers/recall-send.ts');
    await putUser({ userId: 'm-sms' });
    const step = (recallId: string) => ({
      recallId,
      userId: 'm-sms',
      channel: 'sms' as const,
      plan: { ...plan, channels: [...plan.channels] },
    });
    await expect(handler(step('r-s1'), context)).resolves.toMatchObject({ result: 'sent' });
    expect(metric('MessagesSent', { channel: 'sms' })).toBe(1);
    lines = [];
    await expect(handler(step('r-s2'), context)).resolves.toMatchObject({ result: 'frequency_capped' });
    expect(metric('SendsHeld', { reason: 'frequency_cap' })).toBe(1);
    expect(metric('MessagesSent', { channel: 'sms' })).toBeUndefined();
  });

  it('counts a send held by quiet hours', async () => {
    const { handler } = await import('../../functions/handlers/recall-send.ts');
    await putUser({ userId: 'm-night' });
    vi.setSystemTime(NIGHT);
    const input = {
      recallId: 'r-n1',
      userId: 'm-night',
      channel: 'sms' as const,
      plan: { ...plan, channels: [...plan.channels] },
    };
    await expect(handler(input, context)).resolves.toMatchObject({ result: 'deferred' });
    expect(metric('SendsHeld', { reason: 'quiet_hours' })).toBe(1);
  });

  it('counts a refused delivery by channel, and still fails the step so Step Functions retries it', async () => {
    const { handler } = await import('../../functions/handlers/recall-send.ts');
    await putUser({ userId: 'm-fail' });
    sns.on(PublishCommand).rejects(Object.assign(new Error('rate exceeded'), { name: 'ThrottledException' }));
    const input = {
      recallId: 'r-f1',
      userId: 'm-fail',
      channel: 'sms' as const,
      plan: { ...plan, channels: [...plan.channels] },
    };
    await expect(handler(input, context)).rejects.toMatchObject({ name: 'DeliveryFailed' });
    expect(metric('DeliveryFailures', { channel: 'sms' })).toBe(1);
    expect(metric('MessagesSent', { channel: 'sms' })).toBeUndefined();
  });
});

describe('recall-prepare and recall-close Lambda metrics', () => {
  it('counts a started recall by trigger, and a holdout draw', async () => {
    const { handler } = await import('../../functions/handlers/recall-prepare.ts');
    await putUser({
      userId: 'm-prep',
      lastLoginAt: daysBefore(AS_OF, 20),
      lastInvestAt: daysBefore(AS_OF, 40),
    });
    const start = { userId: 'm-prep', level: 'medium', startedAt: DAYTIME.toISOString() };
    await recalls.createOnce({
      ...start,
      recallId: 'r-p1',
      trigger: 'scheduled',
      level: 'medium',
      reasonCodes: [],
      holdout: false,
      steps: [],
    });
    // The test policy's holdout share is 1: every scheduled recall is a holdout draw.
    await expect(
      handler({ ...start, recallId: 'r-p1', trigger: 'scheduled' }, context),
    ).resolves.toMatchObject({ holdout: true });
    expect(metric('RecallsStarted', { trigger: 'scheduled' })).toBe(1);
    expect(metric('HoldoutDraws')).toBe(1);

    lines = [];
    await recalls.createOnce({
      ...start,
      recallId: 'r-p2',
      trigger: 'manual',
      level: 'medium',
      reasonCodes: [],
      holdout: false,
      steps: [],
    });
    await expect(handler({ ...start, recallId: 'r-p2', trigger: 'manual' }, context)).resolves.toMatchObject({
      holdout: false,
    });
    expect(metric('RecallsStarted', { trigger: 'manual' })).toBe(1);
    expect(metric('HoldoutDraws')).toBeUndefined();
  });

  it('counts a closed recall by outcome', async () => {
    const { handler } = await import('../../functions/handlers/recall-close.ts');
    await putUser({ userId: 'm-close', activeRecallId: 'r-c1' });
    await recalls.createOnce({
      recallId: 'r-c1',
      userId: 'm-close',
      trigger: 'scheduled',
      level: 'low',
      startedAt: daysBefore(DAYTIME, 3),
      reasonCodes: [],
      holdout: false,
      steps: [],
    });
    const closed = await handler(
      {
        recallId: 'r-c1',
        userId: 'm-close',
        startedAt: daysBefore(DAYTIME, 3),
        check: { returned: true, after: 'in_app', how: 'login', at: daysBefore(DAYTIME, 1) },
      },
      context,
    );
    expect(closed.outcome).toBe('returned');
    expect(metric('RecallsClosed', { outcome: 'returned' })).toBe(1);
  });
});

describe('scan-summary Lambda metrics', () => {
  it('publishes users by status and level, the scan duration and users per second', async () => {
    const { handler } = await import('../../functions/handlers/scan-summary.ts');
    const totals = emptyTotals();
    Object.assign(totals, { scanned: 500, assessed: 498, invalid: 2 });
    Object.assign(totals.byStatus, { active: 400, at_risk: 70, churned: 28 });
    Object.assign(totals.byLevel, { none: 400, low: 40, medium: 38, high: 20 });
    const startedAt = new Date(DAYTIME.getTime() - 250_000).toISOString();
    const segment = { asOf: startedAt, segment: 0, totalSegments: 1, done: true, totals, invalidRecords: [] };
    await handler({ asOf: '2026-11-24T01:00:00.000Z', startedAt, segments: [segment] }, context);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(metric('UsersByStatus', { status: 'active' })).toBe(400);
    expect(metric('UsersByStatus', { status: 'at_risk' })).toBe(70);
    expect(metric('UsersByStatus', { status: 'churned' })).toBe(28);
    expect(metric('UsersByLevel', { level: 'high' })).toBe(20);
    expect(metric('UsersByLevel', { level: 'none' })).toBe(400);
    expect(metric('UsersAssessed')).toBe(498);
    expect(metric('InvalidRecords')).toBe(2);
    // 250 s from the execution's start to the summary; 500 users scanned in that time.
    expect(metric('ScanDuration')).toBe(250);
    expect(metric('ScanUsersPerSecond')).toBe(2);
    const invocation = emf().find((e) => 'ScanDuration' in e)!;
    expect(invocation._aws.CloudWatchMetrics[0]!.Metrics).toContainEqual({
      Name: 'ScanDuration',
      Unit: 'Seconds',
    });
    expect(invocation._aws.CloudWatchMetrics[0]!.Metrics).toContainEqual({
      Name: 'ScanUsersPerSecond',
      Unit: 'Count/Second',
    });
  });
});

describe('api Lambda metrics', () => {
  function post(path: string, body: unknown): APIGatewayProxyEvent {
    return {
      httpMethod: 'POST',
      path,
      resource: '/{proxy+}',
      headers: { 'Content-Type': 'application/json' },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: { proxy: path.slice(1) },
      stageVariables: null,
      body: JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: {} as APIGatewayProxyEvent['requestContext'],
    };
  }

  it('counts activity events applied, duplicate and rejected', async () => {
    const { handler } = await import('../../functions/handlers/api.ts');
    await putUser({ userId: 'm-api' });
    const at = DAYTIME.toISOString();
    const login = (eventId: string, userId: string) => ({ eventId, userId, type: 'login', at });
    const first = await handler(
      post('/events', { events: [login('e1', 'm-api'), login('e2', 'nobody')] }),
      context,
    );
    expect(first.statusCode).toBe(200);
    expect(metric('EventsApplied')).toBe(1);
    expect(metric('EventsRejected')).toBe(1);
    expect(metric('EventsDuplicate')).toBe(0);

    lines = [];
    await handler(post('/events', { events: [login('e1', 'm-api')] }), context);
    expect(metric('EventsDuplicate')).toBe(1);
    expect(metric('EventsApplied')).toBe(0);
  });
});

describe('report Lambda metrics', () => {
  const athena = mockClient(AthenaClient);
  const s3 = mockClient(S3Client);
  afterAll(() => {
    athena.restore();
    s3.restore();
  });

  const DAY = 20_400; // the report day, as a day number
  const text = (v: string | number | boolean | null) => (v === null ? {} : { VarCharValue: String(v) });
  const result = (columns: [string, string][], rows: (string | number | boolean | null)[][]) => ({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: columns.map(([Name, Type]) => ({ Name, Type })) },
      Rows: [{ Data: columns.map(([name]) => text(name)) }, ...rows.map((r) => ({ Data: r.map(text) }))],
    },
  });
  /** `n` matured scan draws of one arm and strategy, `back` of them returned two days after the start. */
  const draws = (strategy: string, holdout: boolean, n: number, back: number) =>
    Array.from({ length: n }, (_, i) => [
      `r-${strategy}-${holdout}-${i}`,
      'scan',
      holdout,
      DAY - 30,
      DAY - 17,
      holdout ? 'skipped' : 'not_returned',
      'low',
      'growth',
      'organic',
      strategy,
      i < back ? DAY - 28 : null,
    ]);

  it('publishes how many strategies measurably lower returns, and each strategy’s interval top', async () => {
    vi.stubEnv('WINBACK_POLICY', JSON.stringify({ uplift: { minSamplePerArm: 20 } }));
    vi.stubEnv('LAKE_BUCKET', 'lake-bucket');
    vi.stubEnv('LAKE_WORKGROUP', 'winback-lake');
    vi.stubEnv('LAKE_DATABASE', 'winback_lake');
    s3.on(PutObjectCommand).resolves({});
    athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => ({
      QueryExecutionId: input.QueryString.includes('recall_trigger')
        ? 'draws'
        : input.QueryString.includes('first_day_number')
          ? 'bounds'
          : 'other',
    }));
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves(result([['n', 'bigint']], []));
    athena.on(GetQueryResultsCommand, { QueryExecutionId: 'bounds' }).resolves(
      result(
        [
          ['first_day_number', 'integer'],
          ['last_day_number', 'integer'],
        ],
        [[DAY - 40, DAY]],
      ),
    );
    // Reminders: 0 of 30 back against 20 of 30 in the holdout (interval entirely below zero);
    // care: 15 of 30 against 15 of 30 (interval across zero).
    athena.on(GetQueryResultsCommand, { QueryExecutionId: 'draws' }).resolves(
      result(
        [
          ['recall_id', 'varchar'],
          ['recall_trigger', 'varchar'],
          ['holdout', 'boolean'],
          ['started_day_number', 'integer'],
          ['closed_day_number', 'integer'],
          ['outcome', 'varchar'],
          ['level', 'varchar'],
          ['lifecycle', 'varchar'],
          ['channel', 'varchar'],
          ['strategy', 'varchar'],
          ['return_day_number', 'integer'],
        ],
        [
          ...draws('reminder', false, 30, 0),
          ...draws('reminder', true, 30, 20),
          ...draws('care', false, 30, 15),
          ...draws('care', true, 30, 15),
        ],
      ),
    );
    const { handler } = await import('../../functions/handlers/report.ts');
    const out = await handler({ asOf: '2026-11-24T01:00:00.000Z' }, context);

    expect(out.upliftByStrategy.map((r) => [r.key, r.upliftPoints])).toEqual([
      ['care', 0],
      ['reminder', -66.7],
    ]);
    expect(metric('StrategiesWithNegativeUplift')).toBe(1);
    const reminder = out.upliftByStrategy.find((r) => r.key === 'reminder')!;
    expect(reminder.ci95!.high).toBeLessThan(0);
    expect(metric('StrategyUpliftCiHigh', { strategy: 'reminder' })).toBe(reminder.ci95!.high);
    expect(metric('StrategyUpliftCiHigh', { strategy: 'care' })).toBeGreaterThan(0);
    // The digest carries the uplift with its interval.
    const digest = sns.commandCalls(PublishCommand).at(-1)!.args[0].input.Message!;
    expect(digest).toMatch(
      /Recall uplift −33\.3 points \(95% CI −\d+\.\d to −\d+\.\d; recalled 25\.0% of 60, holdout 58\.3% of 60\)/,
    );
  });
});
