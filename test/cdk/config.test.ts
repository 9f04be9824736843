import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type WinbackConfig, WinbackStack } from '../../lib/winback-stack.ts';
import {
  type AslDefinition,
  type CfnTemplate,
  resolveIntrinsics,
  stateMachinesFromTemplate,
} from '../../local/template.ts';

// The stack with every operator setting changed from its default, synthesized once for the file.
const CONFIG: WinbackConfig = {
  policy: { churn: { inactiveDays: 21 }, recall: { cooldownDays: 45 } },
  scanSegments: 4,
  scanSchedule: { hour: 7, minute: 30, timeZone: 'Asia/Hong_Kong' },
  delivery: {
    pushApplicationId: 'abc123',
    pushChannelType: 'APNS',
    smsProvider: 'end-user-messaging',
    smsOriginationIdentity: 'pool-0123',
    smsConfigurationSet: 'winback-sms',
  },
};

let template: Template;
let json: CfnTemplate;
let machines: Record<string, AslDefinition>;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new WinbackStack(app, 'Winback', { config: CONFIG }));
  json = template.toJSON() as CfnTemplate;
  machines = stateMachinesFromTemplate(json);
});

function newApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function functionByHandler(handler: string): [string, Record<string, unknown>] {
  const found = Object.entries(template.findResources('AWS::Lambda::Function') as Resources).filter(([, r]) =>
    (r.Properties.Tags as { Key: string; Value: string }[]).some(
      (t) => t.Key === 'winback:handler' && t.Value === handler,
    ),
  );
  expect(found).toHaveLength(1);
  return [found[0]![0], found[0]![1].Properties];
}

/** Every allowed (action, resource) pair of the function's role, intrinsics resolved. */
function grantsOf(handler: string): { action: string; resource: string }[] {
  const role = (functionByHandler(handler)[1].Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy') as Resources)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: unknown[] }).Statement)
    .map(
      (s) =>
        resolveIntrinsics(s, json) as {
          Effect: string;
          Action: string | string[];
          Resource: string | string[];
        },
    )
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      [s.Action].flat().flatMap((action) => [s.Resource].flat().map((resource) => ({ action, resource }))),
    );
}

const HANDLERS = [
  'recall-prepare',
  'recall-send',
  'recall-check',
  'recall-close',
  'scan-segment',
  'scan-summary',
];

describe('configured stack', () => {
  it('scans in as many segments as configured', () => {
    const states = (machines.DailyScan as unknown as { States: Record<string, Record<string, unknown>> })
      .States;
    expect(states['Split the user table into segments']?.Result).toEqual([0, 1, 2, 3]);
    expect(states['Assess every segment']).toMatchObject({
      MaxConcurrency: 4,
      ItemSelector: { totalSegments: 4 },
    });
  });

  it('runs the daily scan at the configured local time', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 7 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Hong_Kong',
    });
  });

  it('validates the policy once and hands every function the same complete JSON', () => {
    const policyOf = (h: string) =>
      (functionByHandler(h)[1].Environment as { Variables: Record<string, unknown> }).Variables
        .WINBACK_POLICY;
    // The summary only adds up counts; every other function decides by the policy.
    expect(policyOf('scan-summary')).toBeUndefined();
    const policies = new Set(HANDLERS.filter((h) => h !== 'scan-summary').map(policyOf));
    expect(policies.size).toBe(1);
    const policy = JSON.parse([...policies][0] as string);
    expect(policy.churn).toEqual({ inactiveDays: 21 });
    expect(policy.recall.cooldownDays).toBe(45);
    // Defaults are filled in, so a function never needs to know them.
    expect(policy.recall.holdoutShare).toBe(0.05);
  });

  it('with a push application, the send function may send push messages to that application only', () => {
    const push = grantsOf('recall-send').filter((g) => g.action.startsWith('mobiletargeting:'));
    expect(push).toEqual([
      {
        action: 'mobiletargeting:SendMessages',
        resource: 'arn:aws:mobiletargeting:us-east-1:123456789012:apps/abc123/messages',
      },
    ]);
    for (const handler of HANDLERS.filter((h) => h !== 'recall-send')) {
      expect(
        grantsOf(handler).filter((g) => g.action.startsWith('mobiletargeting:')),
        handler,
      ).toEqual([]);
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ PUSH_APPLICATION_ID: 'abc123', PUSH_CHANNEL_TYPE: 'APNS' }),
      },
    });
  });

  it('with End User Messaging SMS, the send function gets sms-voice and no SNS SMS', () => {
    const send = grantsOf('recall-send');
    expect(
      send
        .filter((g) => g.action.startsWith('sms-voice:'))
        .map((g) => g.action)
        .sort(),
    ).toEqual(['sms-voice:DescribeOptedOutNumbers', 'sms-voice:SendTextMessage']);
    expect(
      send.filter((g) => g.action === 'sns:Publish' || g.action === 'sns:CheckIfPhoneNumberIsOptedOut'),
    ).toEqual([]);
    expect(
      (functionByHandler('recall-send')[1].Environment as { Variables: Record<string, unknown> }).Variables,
    ).toMatchObject({
      SMS_PROVIDER: 'end-user-messaging',
      SMS_ORIGINATION_IDENTITY: 'pool-0123',
      SMS_CONFIGURATION_SET: 'winback-sms',
    });
  });
});

describe('configuration refused at synth', () => {
  it('an invalid policy throws, naming the field', () => {
    expect(
      () => new WinbackStack(newApp(), 'Bad', { config: { policy: { churn: { inactiveDays: 'thirty' } } } }),
    ).toThrow(/invalid policy: churn\.inactiveDays: /);
  });

  it('an unknown policy field throws, naming it', () => {
    expect(
      () => new WinbackStack(newApp(), 'Bad', { config: { policy: { recall: { coolDownDays: 10 } } } }),
    ).toThrow(/recall\.coolDownDays: unknown field/);
  });

  it('End User Messaging SMS without an origination identity throws', () => {
    expect(
      () =>
        new WinbackStack(newApp(), 'Bad', { config: { delivery: { smsProvider: 'end-user-messaging' } } }),
    ).toThrow('smsOriginationIdentity is required for the end-user-messaging SMS provider');
  });

  it.each([0, 2.5, 1001])('scanSegments %s throws', (segments) => {
    expect(() => new WinbackStack(newApp(), 'Bad', { config: { scanSegments: segments } })).toThrow(
      `scan segments must be a whole number from 1 to 1000, got ${segments}`,
    );
  });
});
