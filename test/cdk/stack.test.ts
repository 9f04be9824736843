import { App } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNSCOPABLE_GRANTS } from '../../lib/iam.ts';
import { WinbackStack } from '../../lib/winback-stack.ts';
import { type CfnTemplate, resolveIntrinsics, stateMachinesFromTemplate } from '../../local/template.ts';

/** The slice of an ASL state these tests read. */
interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string };
  Retry?: { ErrorEquals: string[]; JitterStrategy?: string }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  ItemProcessor?: AslMachine;
  Iterator?: AslMachine;
  Branches?: AslMachine[];
  [key: string]: unknown;
}
interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
}

// The stack with its default configuration, synthesized once for the whole file.
let template: Template;
let json: CfnTemplate;
let machines: Record<string, AslMachine>;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new WinbackStack(app, 'Winback'));
  json = template.toJSON() as CfnTemplate;
  // Keyed by the winback:workflow tag, with placeholder ARNs for the Lambda functions.
  machines = stateMachinesFromTemplate(json) as unknown as Record<string, AslMachine>;
});

function machine(workflow: string): AslMachine {
  const found = machines[workflow];
  if (!found) throw new Error(`no state machine tagged winback:workflow=${workflow}`);
  return found;
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resources = () => json.Resources as Resources;

function logicalIdOf(type: string, tagKey: string, tagValue: string): string {
  const found = Object.entries(resources()).filter(([, r]) => {
    if (r.Type !== type) return false;
    const props = r.Properties;
    const tags = (
      type === 'AWS::DynamoDB::GlobalTable' ? (props.Replicas as { Tags?: unknown }[])[0]?.Tags : props.Tags
    ) as { Key: string; Value: string }[] | undefined;
    return tags?.some((t) => t.Key === tagKey && t.Value === tagValue);
  });
  expect(found, `${type} tagged ${tagKey}=${tagValue}`).toHaveLength(1);
  return found[0]![0];
}

const tableId = (name: string) => logicalIdOf('AWS::DynamoDB::GlobalTable', 'winback:table', name);
const functionId = (handler: string) => logicalIdOf('AWS::Lambda::Function', 'winback:handler', handler);
const machineId = (workflow: string) =>
  logicalIdOf('AWS::StepFunctions::StateMachine', 'winback:workflow', workflow);

interface Statement {
  Effect: string;
  Action: string[];
  Resource: string[];
}

/** The IAM statements of a role, with intrinsics resolved to readable placeholder ARNs. */
function statementsOfRole(roleId: string): Statement[] {
  return Object.values(resources())
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: unknown[] }).Statement)
    .map((s) => {
      const st = resolveIntrinsics(s, json) as {
        Effect: string;
        Action: string | string[];
        Resource: string | string[];
      };
      return { Effect: st.Effect, Action: [st.Action].flat(), Resource: [st.Resource].flat() };
    });
}

function statementsOf(handler: string): Statement[] {
  const role = (resources()[functionId(handler)]!.Properties.Role as { 'Fn::GetAtt': [string, string] })[
    'Fn::GetAtt'
  ][0];
  return statementsOfRole(role);
}

/** Resources on which the statements allow the action. */
function allowedOn(statements: Statement[], action: string): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && s.Action.includes(action))
    .flatMap((s) => s.Resource)
    .sort();
}

const table = (name: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${name}`;
/** The functions of the two workflows; the stack may hold others (the API), which the defaults also bind. */
const HANDLERS = [
  'recall-prepare',
  'recall-send',
  'recall-check',
  'recall-close',
  'scan-segment',
  'scan-summary',
];
/** The winback:handler tag of every function in the stack. */
function allHandlers(): string[] {
  return Object.values(resources())
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map(
      (r) =>
        (r.Properties.Tags as { Key: string; Value: string }[]).find((t) => t.Key === 'winback:handler')
          ?.Value ?? '(untagged)',
    )
    .sort();
}

const DYNAMO_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

describe('user store', () => {
  const TABLES = [
    { name: 'Users', key: ['userId'], byUser: undefined, retain: true },
    { name: 'Recalls', key: ['recallId'], byUser: 'startedAt', retain: true },
    { name: 'Messages', key: ['recallId', 'step'], byUser: 'sentAt', retain: true },
    { name: 'Inbox', key: ['userId', 'messageId'], byUser: undefined, retain: true },
    { name: 'Rewards', key: ['rewardId'], byUser: 'issuedAt', retain: true },
    { name: 'Events', key: ['eventId'], byUser: undefined, retain: false },
    { name: 'Jobs', key: ['jobId'], byUser: undefined, retain: false },
    { name: 'SendSlots', key: ['slot'], byUser: undefined, retain: false },
  ];

  it('has the eight tables as on-demand global tables, and no other table', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 8);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
  });

  it.each(TABLES)('$name: keys, byUser index, retention', ({ name, key, byUser, retain }) => {
    const id = tableId(name);
    const resource = template.findResources('AWS::DynamoDB::GlobalTable')[id]!;

    expect(resource.Properties.KeySchema).toEqual(
      key.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    );
    if (byUser) {
      expect(resource.Properties.GlobalSecondaryIndexes).toEqual([
        {
          IndexName: 'byUser',
          KeySchema: [
            { AttributeName: 'userId', KeyType: 'HASH' },
            { AttributeName: byUser, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ]);
    } else {
      expect(resource.Properties).not.toHaveProperty('GlobalSecondaryIndexes');
    }
    // User data outlives the stack; rebuildable operational data does not.
    expect(resource.DeletionPolicy).toBe(retain ? 'Retain' : 'Delete');
    expect(resource.UpdateReplacePolicy).toBe(retain ? 'Retain' : 'Delete');
    expect(resource.Properties.Replicas[0].DeletionProtectionEnabled).toBe(retain);
  });

  it('expires processed events and send slots through TTL and nothing else', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'eventId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    const withTtl = Object.keys(
      template.findResources('AWS::DynamoDB::GlobalTable', {
        Properties: { TimeToLiveSpecification: Match.anyValue() },
      }),
    );
    expect(withTtl.sort()).toEqual([tableId('Events'), tableId('SendSlots')].sort());
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'slot', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });
});

describe('daily scan schedule', () => {
  it('starts the DailyScan state machine at 09:00 Asia/Shanghai with the scheduled time as asOf', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    const role = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 9 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Shanghai',
      State: 'ENABLED',
      Target: {
        Arn: { Ref: machineId('DailyScan') },
        Input: Match.serializedJson({ asOf: '<aws.scheduler.scheduled-time>' }),
        RoleArn: { 'Fn::GetAtt': [role, 'Arn'] },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 30 }),
      },
    });
    // The scheduler's role may start that one state machine, and hand a failed start to its dead-letter queue.
    const statements = statementsOfRole(role.asString());
    expect(allowedOn(statements, 'states:StartExecution')).toEqual([
      'arn:aws:states:us-east-1:123456789012:stateMachine:DailyScan',
    ]);
    expect(statements.flatMap((s) => s.Action).sort()).toEqual(['sqs:SendMessage', 'states:StartExecution']);
  });
});

describe('state machines', () => {
  it('are two STANDARD machines, tagged with their workflow, traced and logged', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    for (const workflow of ['DailyScan', 'Recall']) {
      const props = template.findResources('AWS::StepFunctions::StateMachine')[machineId(workflow)]!
        .Properties;
      expect(props.StateMachineType).toBe('STANDARD');
      expect(props.Tags).toContainEqual({ Key: 'winback:workflow', Value: workflow });
      expect(props.TracingConfiguration).toEqual({ Enabled: true });
      expect(props.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    }
  });

  it('DailyScan fans out over one Map iteration per segment, 8 by default, at most 8 at a time', () => {
    const scan = machine('DailyScan');
    expect(scan.States['Split the user table into segments']).toMatchObject({
      Type: 'Pass',
      Result: [0, 1, 2, 3, 4, 5, 6, 7],
      ResultPath: '$.segments',
    });
    const map = scan.States['Assess every segment']!;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.segments',
      MaxConcurrency: 8,
      ItemSelector: { 'asOf.$': '$.asOf', 'segment.$': '$$.Map.Item.Value', totalSegments: 8 },
      Next: 'Summarize the run and tell operators',
    });
    // A segment that hands over its cursor loops back into the same task.
    const inner = map.ItemProcessor!.States;
    expect(inner['Is the segment finished?']).toMatchObject({
      Choices: [{ Variable: '$.done', BooleanEquals: false, Next: 'Assess users in the segment' }],
    });
  });

  it('Recall names its states in plain words', () => {
    const recall = machine('Recall');
    expect(recall.StartAt).toBe('Prepare the recall');
    expect(Object.keys(recall.States).sort()).toEqual(
      [
        'Prepare the recall',
        'Wait for sending hours',
        'Which way does the recall go?',
        'Send in-app message',
        'Wait for a reply to the in-app message',
        'Has the user come back after the in-app message?',
        'Did the in-app message bring the user back?',
        'Send push notification',
        'Wait for a reply to the push notification',
        'Has the user come back after the push notification?',
        'Did the push notification bring the user back?',
        'Send SMS',
        'Wait for a reply to the SMS',
        'Has the user come back after the SMS?',
        'Did the SMS bring the user back?',
        'Close the recall',
        'Close the recall as failed',
        'Recall failed',
        'Recall could not be closed',
      ].sort(),
    );
  });

  /** Every Task state with whether it, or a Map/Parallel around it, catches errors. */
  function tasks(states: Record<string, AslState>, caughtAround = false) {
    const out: { name: string; state: AslState; caught: boolean }[] = [];
    for (const [name, state] of Object.entries(states)) {
      const caught = caughtAround || (state.Catch?.length ?? 0) > 0;
      if (state.Type === 'Task') out.push({ name, state, caught });
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) out.push(...tasks(processor.States, caught));
      for (const branch of state.Branches ?? []) out.push(...tasks(branch.States, caught));
    }
    return out;
  }

  it.each(['Recall', 'DailyScan'])(
    '%s: every Lambda task retries with full jitter and has its errors caught',
    (workflow) => {
      const all = tasks(machine(workflow).States);
      expect(all.length).toBeGreaterThanOrEqual(workflow === 'Recall' ? 9 : 2);
      for (const { name, state, caught } of all) {
        expect(state.Resource, name).toBe('arn:aws:states:::lambda:invoke');
        const retry = state.Retry;
        expect(retry?.length, `${name} has Retry`).toBeGreaterThan(0);
        for (const r of retry!) expect(r.JitterStrategy, `${name} retries ${r.ErrorEquals}`).toBe('FULL');
        expect(caught, `${name} is caught`).toBe(true);
      }
    },
  );

  it('Recall: every task but the failure close itself falls back to closing the recall as failed', () => {
    const states = machine('Recall').States;
    for (const [name, state] of Object.entries(states)) {
      if (state.Type !== 'Task') continue;
      const catchAll = state.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(catchAll?.Next, name).toBe(
        name === 'Close the recall as failed' ? 'Recall could not be closed' : 'Close the recall as failed',
      );
    }
  });
});

describe('functions', () => {
  it('include the six workflow handlers, and every function runs on Node 24, arm64, traced, with JSON logs', () => {
    // Every function is a WinbackFunction (tagged with its handler), so it has the project defaults.
    expect(allHandlers()).not.toContain('(untagged)');
    expect(allHandlers()).toEqual(expect.arrayContaining(HANDLERS));
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
  });

  it('each task invokes the function of its step', () => {
    const fnArn = (handler: string) =>
      `arn:aws:lambda:us-east-1:123456789012:function:${functionId(handler)}`;
    const recall = machine('Recall');
    expect(recall.States['Prepare the recall']?.Parameters?.FunctionName).toBe(fnArn('recall-prepare'));
    expect(recall.States['Send SMS']?.Parameters?.FunctionName).toBe(fnArn('recall-send'));
    expect(recall.States['Has the user come back after the SMS?']?.Parameters?.FunctionName).toBe(
      fnArn('recall-check'),
    );
    expect(recall.States['Close the recall']?.Parameters?.FunctionName).toBe(fnArn('recall-close'));
    const scan = machine('DailyScan');
    expect(scan.States['Summarize the run and tell operators']?.Parameters?.FunctionName).toBe(
      fnArn('scan-summary'),
    );
  });
});

describe('least-privilege IAM', () => {
  it('the send function may publish SMS through SNS, and nothing for push or End User Messaging SMS by default', () => {
    const send = statementsOf('recall-send');
    expect(allowedOn(send, 'sns:Publish')).toEqual(['*']);
    expect(allowedOn(send, 'sns:CheckIfPhoneNumberIsOptedOut')).toEqual(['*']);
    // The "*" is for phone numbers only: publishing to any topic is denied outright.
    expect(send.filter((st) => st.Effect === 'Deny')).toEqual([
      { Effect: 'Deny', Action: ['sns:Publish'], Resource: ['arn:aws:sns:*:*:*'] },
    ]);
    const actions = Object.values(resources())
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => JSON.stringify(r.Properties));
    expect(actions.join()).not.toContain('mobiletargeting:');
    expect(actions.join()).not.toContain('sms-voice:');
  });

  it('only the send function may publish to phone numbers', () => {
    for (const handler of allHandlers().filter((h) => h !== 'recall-send')) {
      expect(allowedOn(statementsOf(handler), 'sns:Publish'), handler).not.toContain('*');
    }
  });

  it('the scan function may start the Recall state machine and no other', () => {
    const recallArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:Recall';
    expect(allowedOn(statementsOf('scan-segment'), 'states:StartExecution')).toEqual([recallArn]);
    // It may read the status of recall executions (to free locks whose execution ended), nothing else.
    expect(allowedOn(statementsOf('scan-segment'), 'states:DescribeExecution')).toEqual([
      'arn:aws:states:us-east-1:123456789012:execution:Winback-Recall:*',
    ]);
    // No recall step may start another recall; any function that may start one starts only Recall.
    for (const handler of HANDLERS.filter((h) => h !== 'scan-segment')) {
      expect(allowedOn(statementsOf(handler), 'states:StartExecution'), handler).toEqual([]);
    }
    for (const handler of allHandlers()) {
      for (const arn of allowedOn(statementsOf(handler), 'states:StartExecution'))
        expect(arn, handler).toBe(recallArn);
    }
  });

  it('the check function only reads users and the inbox, and touches no other table', () => {
    const check = statementsOf('recall-check');
    for (const name of ['Users', 'Inbox']) {
      expect(allowedOn(check, 'dynamodb:GetItem'), name).toContain(table(name));
      for (const write of DYNAMO_WRITES) {
        expect(
          allowedOn(check, write).filter((r) => r.startsWith(table(name))),
          `${write} on ${name}`,
        ).toEqual([]);
      }
    }
    const resources = check.flatMap((s) => s.Resource);
    for (const name of ['Recalls', 'Messages', 'Rewards']) {
      expect(
        resources.some((r) => r.startsWith(table(name))),
        name,
      ).toBe(false);
    }
  });

  it('prepare only reads users; close reads messages and writes users and recalls', () => {
    const prepare = statementsOf('recall-prepare');
    for (const write of DYNAMO_WRITES) {
      expect(
        allowedOn(prepare, write).filter((r) => r.startsWith(table('Users'))),
        write,
      ).toEqual([]);
    }
    const close = statementsOf('recall-close');
    expect(allowedOn(close, 'dynamodb:UpdateItem')).toEqual(
      expect.arrayContaining([table('Users'), table('Recalls')]),
    );
    expect(allowedOn(close, 'dynamodb:Query')).toContain(table('Messages'));
    expect(allowedOn(close, 'dynamodb:PutItem').filter((r) => r.startsWith(table('Messages')))).toEqual([]);
  });

  it('of the workflow functions, only send writes messages and the inbox; prepare, send and close write rewards', () => {
    const writers = (name: string) =>
      HANDLERS.filter((h) => allowedOn(statementsOf(h), 'dynamodb:PutItem').includes(table(name)));
    expect(writers('Messages')).toEqual(['recall-send']);
    expect(writers('Inbox')).toEqual(['recall-send']);
    // Prepare holds a reward, send issues it with its message, close cancels one never announced.
    expect([...writers('Rewards')].sort()).toEqual(['recall-close', 'recall-prepare', 'recall-send']);
    expect(writers('Users')).toContain('scan-segment');
  });

  it('prepare and send claim send slots (read, put, update) and nothing else touches them', () => {
    for (const handler of allHandlers()) {
      const onSlots = statementsOf(handler)
        .filter((s) => s.Resource.some((r) => r.startsWith(table('SendSlots'))))
        .flatMap((s) => s.Action);
      if (handler === 'recall-prepare' || handler === 'recall-send') {
        expect(onSlots, handler).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
        expect(onSlots, handler).not.toContain('dynamodb:DeleteItem');
      } else {
        expect(onSlots, handler).toEqual([]);
      }
    }
    const env = (handler: string) =>
      (resources()[functionId(handler)]!.Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
    expect(env('recall-send').SEND_SLOTS_TABLE).toEqual({ Ref: tableId('SendSlots') });
    expect(env('recall-prepare').SEND_SLOTS_TABLE).toEqual({ Ref: tableId('SendSlots') });
  });

  it('no function may delete items or batch-write but the API, and the API only on processed events', () => {
    for (const handler of allHandlers()) {
      for (const action of ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
        expect(allowedOn(statementsOf(handler), action), `${handler} ${action}`).toEqual(
          handler === 'api' ? [table('Events')] : [],
        );
      }
    }
  });

  it('functions write their logs to their own log group only, with no managed policy', () => {
    for (const [id, fn] of Object.entries(resources()).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function',
    )) {
      const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      expect(resources()[role]!.Properties.ManagedPolicyArns, id).toBeUndefined();
      const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(allowedOn(statementsOfRole(role), 'logs:PutLogEvents'), id).toEqual([
        `arn:aws:logs:us-east-1:123456789012:${logGroup}`,
      ]);
    }
  });

  it('grants on "*" are only the unscopable ones, each in its own policy', () => {
    const onAnyResource = Object.entries(resources())
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .flatMap(([id, r]) =>
        (
          r.Properties.PolicyDocument as {
            Statement: { Effect: string; Action: string | string[]; Resource: unknown }[];
          }
        ).Statement.filter((s) => s.Effect === 'Allow' && [s.Resource].flat().includes('*')).map((s) => ({
          policy: (r.Properties.PolicyName as string) ?? id,
          actions: [s.Action].flat(),
        })),
      );
    expect(onAnyResource.length).toBeGreaterThan(0);
    for (const { policy, actions } of onAnyResource) {
      const kind = Object.entries(UNSCOPABLE_GRANTS).find(([name]) => policy.includes(name));
      expect(kind, `${policy} allows ${actions} on *`).toBeDefined();
      for (const action of actions) expect(kind![1].actions, policy).toContain(action);
    }
  });

  it('the scan functions write no recall delivery table; the summary only publishes to the operator topic', () => {
    const scanStatements = statementsOf('scan-segment');
    expect(scanStatements.flatMap((s) => s.Resource).some((r) => r.startsWith(table('Inbox')))).toBe(false);
    // The ledger and the rewards are read, only, for the outcome row of a recall whose execution
    // ended without Close (the scan's reconciliation).
    for (const name of ['Messages', 'Rewards']) {
      const actions = scanStatements
        .filter((s) => s.Resource.some((r) => r.startsWith(table(name))))
        .flatMap((s) => s.Action);
      expect(actions.length).toBeGreaterThan(0);
      expect(
        actions.filter(
          (a) =>
            !/^dynamodb:(BatchGetItem|GetItem|Query|Scan|ConditionCheckItem|DescribeTable|GetRecords|GetShardIterator)$/.test(
              a,
            ),
        ),
      ).toEqual([]);
    }

    const summary = statementsOf('scan-summary');
    expect(summary.flatMap((s) => s.Action).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(allowedOn(summary, 'sns:Publish')).toEqual([
      `arn:aws:sns:us-east-1:123456789012:${logicalIdOf('AWS::SNS::Topic', 'winback:topic', 'Operators')}`,
    ]);
  });
});

describe('operators', () => {
  it('get a topic encrypted with a rotating KMS key that refuses plain HTTP', () => {
    const key = new Capture();
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    const keyProps = template.findResources('AWS::KMS::Key')[key.asString()]?.Properties;
    expect(keyProps?.EnableKeyRotation).toBe(true);
    // Alarm actions publish as the CloudWatch service: the key must let it encrypt.
    expect(keyProps?.KeyPolicy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Effect: 'Allow',
        }),
      ]),
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('are alarmed on any failed or timed-out execution of either state machine', () => {
    const topic = logicalIdOf('AWS::SNS::Topic', 'winback:topic', 'Operators');
    // Failed and timed-out executions of each machine (the operations alarms are in test/ops).
    expect(
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
        ['ExecutionsFailed', 'ExecutionsTimedOut'].includes(a.Properties.MetricName),
      ),
    ).toHaveLength(4);
    for (const [workflow, metric] of [
      ['DailyScan', 'ExecutionsFailed'],
      ['Recall', 'ExecutionsFailed'],
      ['DailyScan', 'ExecutionsTimedOut'],
      ['Recall', 'ExecutionsTimedOut'],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId(workflow) } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topic }],
      });
    }
  });
});
