import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { App, Duration, Stack, Tags } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../local/clock.ts';
import {
  type CfnTemplate,
  ensureTables,
  lambdaEnvironmentsFromTemplate,
  resolveIntrinsics,
  stateMachinesFromTemplate,
  tablesFromTemplate,
} from '../../local/template.ts';
import { countTaskInvocations, LocalWorkflow } from '../../local/workflow-engine.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';

function synthDemo(): CfnTemplate {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'TemplateDemo');
  const users = new dynamodb.TableV2(stack, 'UsersTable', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    globalSecondaryIndexes: [
      {
        indexName: 'byEmail',
        partitionKey: { name: 'email', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      },
    ],
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: 'expiresAt',
  });
  Tags.of(users).add('winback:table', 'Users');
  const events = new dynamodb.Table(stack, 'EventsTable', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'at', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  });
  events.addLocalSecondaryIndex({
    indexName: 'byKind',
    sortKey: { name: 'kind', type: dynamodb.AttributeType.STRING },
  });
  // No tag: falls back to the logical id.

  const fn = new lambda.Function(stack, 'StepFn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async (e) => e;'),
  });
  const first = new tasks.LambdaInvoke(stack, 'Score', { lambdaFunction: fn, outputPath: '$.Payload' });
  const pause = new sfn.Wait(stack, 'Pause', { time: sfn.WaitTime.secondsPath('$.delaySeconds') });
  const second = new tasks.LambdaInvoke(stack, 'Recheck', { lambdaFunction: fn, outputPath: '$.Payload' });
  const each = new sfn.Map(stack, 'NotifyEach', { itemsPath: '$.channels', resultPath: '$.sent' });
  each.itemProcessor(
    new tasks.LambdaInvoke(stack, 'Notify', { lambdaFunction: fn, outputPath: '$.Payload' }),
  );
  const definition = first
    .next(pause)
    .next(second)
    .next(
      new sfn.Choice(stack, 'StillAtRisk')
        .when(sfn.Condition.booleanEquals('$.atRisk', true), each)
        .otherwise(new sfn.Succeed(stack, 'Recovered')),
    );
  const machine = new sfn.StateMachine(stack, 'Recall', {
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    timeout: Duration.days(30),
  });
  Tags.of(machine).add('winback:workflow', 'Demo');

  new lambda.Function(stack, 'ApiFn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'api.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    environment: {
      USERS_TABLE: users.tableName,
      USERS_TABLE_ARN: users.tableArn,
      EVENTS_TABLE: events.tableName,
      RECALL_ARN: machine.stateMachineArn,
      STEP_FN_ARN: fn.functionArn,
      LITERAL: 'x',
    },
  });
  return app.synth().getStackByName('TemplateDemo').template as CfnTemplate;
}

describe('template', () => {
  let template: CfnTemplate;
  beforeAll(() => {
    template = synthDemo();
  });

  it('turns TableV2 (GlobalTable) and Table into dynalite CreateTable inputs', () => {
    const tables = tablesFromTemplate(template);
    const types = Object.values(template.Resources ?? {}).map((r) => r.Type);
    expect(types).toContain('AWS::DynamoDB::GlobalTable');
    const users = tables.find((t) => t.name === 'Users');
    expect(users?.input).toEqual({
      TableName: 'Users',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'email', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byEmail',
          KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
    const events = tables.find((t) => t.name !== 'Users');
    expect(events?.name).toBe(events?.logicalId);
    expect(events?.name).toMatch(/^EventsTable/);
    expect(events?.input.LocalSecondaryIndexes?.[0]?.IndexName).toBe('byKind');
  });

  it('extracts state machines by workflow tag with placeholder ARNs for intrinsics', () => {
    const machines = stateMachinesFromTemplate(template);
    expect(Object.keys(machines)).toEqual(['Demo']);
    const demo = machines.Demo!;
    expect(demo.StartAt).toBe('Score');
    expect(demo.TimeoutSeconds).toBe(30 * 24 * 3600);
    const score = demo.States.Score as unknown as { Resource: string; Parameters: { FunctionName: string } };
    expect(score.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(score.Parameters.FunctionName).toMatch(
      /^arn:aws:lambda:us-east-1:123456789012:function:StepFn[0-9A-F]+$/,
    );
    expect(demo.States.Pause).toMatchObject({ Type: 'Wait', SecondsPath: '$.delaySeconds' });
  });

  it('rejects DefinitionS3Location clearly', () => {
    const t: CfnTemplate = {
      Resources: {
        Sm: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionS3Location: {} } },
      },
    };
    expect(() => stateMachinesFromTemplate(t)).toThrow(/Sm uses DefinitionS3Location/);
  });

  it('resolves Lambda environments to local names and placeholder ARNs', () => {
    const envs = lambdaEnvironmentsFromTemplate(template, { tablePrefix: 'p_' });
    const api = envs.find((e) => e.logicalId.startsWith('ApiFn'));
    expect(api?.handler).toBe('api.handler');
    const env = api?.environment ?? {};
    expect(env.USERS_TABLE).toBe('p_Users');
    expect(env.USERS_TABLE_ARN).toBe('arn:aws:dynamodb:us-east-1:123456789012:table/p_Users');
    expect(env.EVENTS_TABLE).toMatch(/^p_EventsTable/);
    expect(env.RECALL_ARN).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:Demo');
    expect(env.STEP_FN_ARN).toMatch(/^arn:aws:lambda:us-east-1:123456789012:function:StepFn/);
    expect(env.LITERAL).toBe('x');
  });

  it('resolves Fn::Sub, pseudo parameters and nested joins', () => {
    const t: CfnTemplate = { Resources: { Topic: { Type: 'AWS::SNS::Topic' } } };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template
    const sub = 'arn:${AWS::Partition}:x:${AWS::Region}:${Topic}:${!Lit}';
    expect(resolveIntrinsics({ 'Fn::Sub': sub }, t)).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the escaped ${!Lit} comes back as a literal
      'arn:aws:x:us-east-1:arn:aws:sns:us-east-1:123456789012:Topic:${Lit}',
    );
    expect(
      resolveIntrinsics(
        { 'Fn::Join': ['/', ['a', { 'Fn::Join': ['', [{ Ref: 'AWS::AccountId' }, '!']] }]] },
        t,
      ),
    ).toBe('a/123456789012!');
    expect(() => resolveIntrinsics({ 'Fn::If': ['c', 1, 2] }, t)).toThrow(/Fn::If/);
  });

  describe('against dynalite', () => {
    const dynamo = useLocalDynamo();

    it('creates tables idempotently and they are usable at once', async () => {
      const defs = await createTablesForTest(tablesFromTemplate(template), dynamo.tablePrefix, dynamo.client);
      await ensureTables(dynamo.client, defs);
      for (const def of defs) {
        const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: def.name }));
        expect(Table?.TableStatus).toBe('ACTIVE');
      }
      const users = defs.find((d) => d.logicalId.startsWith('UsersTable'))!;
      await dynamo.doc.send(
        new PutCommand({ TableName: users.name, Item: { pk: 'u1', sk: 'profile', email: undefined } }),
      );
      const got = await dynamo.doc.send(
        new GetCommand({ TableName: users.name, Key: { pk: 'u1', sk: 'profile' } }),
      );
      expect(got.Item).toEqual({ pk: 'u1', sk: 'profile' });
    });
  });

  it('runs the synthesized definition in the local engine', async () => {
    const clock = new SimulatedClock(new Date('2026-05-01T00:00:00Z'));
    const seen: string[] = [];
    const workflow = new LocalWorkflow({
      definition: stateMachinesFromTemplate(template).Demo!,
      clock,
      tasks: {
        Score: async (p) => ({ ...(p as object), delaySeconds: 3600 }),
        Recheck: async (p) => {
          seen.push(`Recheck@${clock.nowIso()}`);
          return { ...(p as object), atRisk: true };
        },
        Notify: async (channel) => ({ channel, ok: true }),
      },
    });
    const execution = workflow.start('u1', { user: 'u1', channels: ['push', 'sms'] });
    await clock.advanceBy(24 * 3600 * 1000);
    await execution.done;
    expect(seen).toEqual(['Recheck@2026-05-01T01:00:00.000Z']);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toMatchObject({
      sent: [
        { channel: 'push', ok: true },
        { channel: 'sms', ok: true },
      ],
    });
    expect(countTaskInvocations(execution.history, 'Notify')).toBe(2);
  });
});
