import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MissingConfigurationError } from '../../functions/adapters/environment.ts';
import { aUser, daysBefore } from '../support/fixtures.ts';

// The Lambda entry point as AWS runs it: deps from the environment, SDK calls mocked.
const sfn = mockClient(SFNClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const MACHINE = 'arn:aws:states:ap-east-1:123456789012:stateMachine:Recall';
const ENVIRONMENT = {
  USERS_TABLE: 'Users',
  RECALLS_TABLE: 'Recalls',
  REWARDS_TABLE: 'Rewards',
  INBOX_TABLE: 'Inbox',
  EVENTS_TABLE: 'Events',
  JOBS_TABLE: 'Jobs',
  RECALL_STATE_MACHINE_ARN: MACHINE,
  AWS_REGION: 'ap-east-1',
};

const context = { getRemainingTimeInMillis: () => 29_000 } as Context;

function event(method: string, path: string, body?: unknown): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    resource: '/{proxy+}',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

/** The handler with its environment set (it builds its deps on the first configured call). */
async function configuredHandler() {
  for (const [name, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(name, value);
  return (await import('../../functions/handlers/api.ts')).handler;
}

beforeEach(() => {
  sfn.reset();
  dynamo.reset();
});
afterAll(() => vi.unstubAllEnvs());

describe('api Lambda handler', () => {
  it('fails loudly without its configuration, and builds its deps once it has it', async () => {
    const { handler } = await import('../../functions/handlers/api.ts');
    await expect(handler(event('GET', '/openapi.json'), context)).rejects.toThrow(MissingConfigurationError);
    const reply = await (await configuredHandler())(event('GET', '/openapi.json'), context);
    expect(reply.statusCode).toBe(200);
    expect(JSON.parse(reply.body).openapi).toBe('3.1.0');
  });

  it('starts a manual recall on Step Functions under the recall id', async () => {
    const handler = await configuredHandler();
    const user = aUser({ userId: 'u42', lastLoginAt: daysBefore(new Date(), 12) });
    dynamo.on(GetCommand).resolves({ Item: user });
    dynamo.on(UpdateCommand).resolves({});
    dynamo.on(PutCommand).resolves({});
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`,
    }));

    const reply = await handler(event('POST', '/recalls', { userId: 'u42', strategy: 'care' }), context);
    expect(reply.statusCode).toBe(202);
    const body = JSON.parse(reply.body);
    expect(body.recallId).toMatch(/^m-\d{8}-u42-/);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: MACHINE,
      name: body.recallId,
    });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input).toMatchObject({
      recallId: body.recallId,
      userId: 'u42',
      trigger: 'manual',
      strategy: 'care',
    });
    // No PII in workflow state: the execution carries ids and codes only.
    expect(JSON.stringify(input)).not.toContain(user.phone);
    expect(body.consoleUrl).toContain('console.aws.amazon.com/states');
  });

  it('routes by resource and path parameters, so a custom domain base path does not matter', async () => {
    const handler = await configuredHandler();
    dynamo.on(GetCommand).resolves({});
    const reply = await handler(
      {
        ...event('GET', '/winback/users/u42/assessment'),
        resource: '/users/{userId}/assessment',
        pathParameters: { userId: 'u42' },
      },
      context,
    );
    expect(JSON.parse(reply.body).error).toBe('user_not_found');
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { TableName: 'Users', Key: { userId: 'u42' } });
  });

  it('answers bad input without touching AWS', async () => {
    const handler = await configuredHandler();
    const reply = await handler({ ...event('POST', '/recalls'), body: '{"userId": ' }, context);
    expect(reply.statusCode).toBe(400);
    expect(dynamo.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });
});
