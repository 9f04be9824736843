import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/domain/api-schemas.ts';
import { DEFAULT_API_THROTTLE } from '../../lib/api.ts';
import { WinbackStack } from '../../lib/winback-stack.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new WinbackStack(app, 'Winback'));
  resources = template.toJSON().Resources as Record<string, Resource>;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

function apiFunctionId(): string {
  const found = ofType('AWS::Lambda::Function').filter(([, r]) =>
    (r.Properties.Tags as { Key: string; Value: string }[]).some(
      (t) => t.Key === 'winback:handler' && t.Value === 'api',
    ),
  );
  expect(found).toHaveLength(1);
  return found[0]![0];
}

/** The full resource path of an AWS::ApiGateway::Resource, from its PathPart chain. */
function pathOf(resourceId: string): string {
  const parts: string[] = [];
  let resource = resources[resourceId];
  while (resource?.Type === 'AWS::ApiGateway::Resource') {
    parts.unshift(resource.Properties.PathPart as string);
    // Top-level resources hang off the API's root resource (a GetAtt, not a Ref).
    const parent = (resource.Properties.ParentId as { Ref?: string }).Ref;
    resource = parent ? resources[parent] : undefined;
  }
  return `/${parts.join('/')}`;
}

describe('API construct', () => {
  it('requires IAM authorization on every method', () => {
    const methods = ofType('AWS::ApiGateway::Method');
    expect(methods.length).toBeGreaterThanOrEqual(API_ROUTES.length);
    for (const [id, method] of methods) {
      expect(method.Properties.AuthorizationType, id).toBe('AWS_IAM');
    }
  });

  it('has a method for every route on its own resource, and sends everything else to the function', () => {
    const methods = ofType('AWS::ApiGateway::Method').map(([, m]) => {
      const parent = m.Properties.ResourceId as { Ref?: string };
      return `${m.Properties.HttpMethod} ${parent.Ref ? pathOf(parent.Ref) : '/'}`;
    });
    for (const route of API_ROUTES) expect(methods).toContain(`${route.method} ${route.path}`);
    expect(methods).toContain('ANY /{proxy+}');
    expect(methods).toContain('ANY /users');
    expect(methods).toContain('ANY /users/{userId}');
  });

  it('throttles the stage, logs access as JSON, and never logs bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: DEFAULT_API_THROTTLE.rateLimit,
          ThrottlingBurstLimit: DEFAULT_API_THROTTLE.burstLimit,
          DataTraceEnabled: false,
          LoggingLevel: 'ERROR',
        }),
      ],
    });
    template.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });

  it('lets API Gateway invoke the function with one API-scoped permission', () => {
    const fn = apiFunctionId();
    const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) =>
      JSON.stringify(p.Properties.FunctionName).includes(fn),
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]![1].Properties.Principal).toBe('apigateway.amazonaws.com');
  });

  it('grants the function the tables it writes, starting recalls, and nothing to publish', () => {
    const fn = apiFunctionId();
    const env = (resources[fn]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    for (const name of [
      'USERS_TABLE',
      'RECALLS_TABLE',
      'REWARDS_TABLE',
      'INBOX_TABLE',
      'EVENTS_TABLE',
      'JOBS_TABLE',
    ]) {
      expect(env[name], name).toBeDefined();
    }
    expect(env.RECALL_STATE_MACHINE_ARN).toEqual({ Ref: expect.stringMatching(/^Recall/) });
    expect(env.OPERATOR_TOPIC_ARN).toBeUndefined();
    expect(env.MESSAGES_TABLE).toBeUndefined();

    const role = (resources[fn]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(role))
      .flatMap(
        ([, p]) =>
          (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
            .Statement,
      );
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']),
    );
    expect(actions).toContain('states:StartExecution');
    expect(actions.some((a) => a.startsWith('sns:'))).toBe(false);
    expect(actions).not.toContain('dynamodb:*');
    const start = statements.find((s) => [s.Action].flat().includes('states:StartExecution'))!;
    expect(start.Resource).toEqual({ Ref: expect.stringMatching(/^Recall/) });
    const tableGrants = statements.filter((s) => [s.Action].flat().includes('dynamodb:PutItem'));
    expect(tableGrants).toHaveLength(6);
  });
});
