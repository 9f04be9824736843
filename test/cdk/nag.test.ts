import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { WinbackRole } from '../../lib/iam.ts';
import { type WinbackConfig, WinbackStack } from '../../lib/winback-stack.ts';
import { useTempDir } from '../support/temp-dir.ts';

/**
 * The cdk-nag gate as `cdk synth` runs it (bin/app.ts): the AWS Solutions checks as a validation
 * plugin, with cdk.json's context, so a finding fails the synth. Bundling is skipped: the checks
 * read the construct tree, not the code.
 */
const cdkContext = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;
const out = useTempDir('winback-nag-');

function synthWithGate(config: WinbackConfig, change: (stack: WinbackStack) => void = () => {}): () => void {
  const app = new App({
    outdir: `${out.path()}/${Math.random().toString(36).slice(2)}`,
    context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  change(new WinbackStack(app, 'Winback', { config }));
  return () => app.synth();
}

const WITH_EVERY_CHANNEL: WinbackConfig = {
  delivery: {
    pushApplicationId: 'abc123',
    smsProvider: 'end-user-messaging',
    smsOriginationIdentity: 'pool-0123',
  },
};

describe('cdk-nag gate', () => {
  // A synth with the checks takes seconds on a busy machine.
  const SLOW = { timeout: 120_000 };

  it('passes the stack as shipped, with SNS SMS', SLOW, () => {
    expect(synthWithGate({})).not.toThrow();
  });

  it('passes the stack with End User Messaging SMS and push', SLOW, () => {
    expect(synthWithGate(WITH_EVERY_CHANNEL)).not.toThrow();
  });

  it('fails the synth for a stray wildcard grant on any role, naming each role', SLOW, () => {
    const synth = synthWithGate({}, (stack) => {
      // The three the issue names, on a function role, another function role and a state machine role...
      stack.recallWorkflow.sendFunction.addToRolePolicy(
        new PolicyStatement({ actions: ['kms:Decrypt'], resources: ['*'] }),
      );
      stack.dailyScan.scanFunction.addToRolePolicy(
        new PolicyStatement({ actions: ['dynamodb:DeleteTable'], resources: ['*'] }),
      );
      stack.recallWorkflow.stateMachine.addToRolePolicy(
        new PolicyStatement({ actions: ['iam:PassRole'], resources: ['*'] }),
      );
      // ...and one hidden beside an accepted unscopable action, which must not ride along with it.
      stack.api.handler.addToRolePolicy(
        new PolicyStatement({ actions: ['xray:PutTraceSegments', 'kms:Decrypt'], resources: ['*'] }),
      );
    });
    let message = '';
    try {
      synth();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('AwsSolutions-IAM5[Resource::*]');
    for (const policy of [
      'Winback/Recall/SendRole/DefaultPolicy/Resource',
      'Winback/DailyScan/ScanSegmentRole/DefaultPolicy/Resource',
      'Winback/Recall/WorkflowRole/DefaultPolicy/Resource',
      'Winback/Api/HandlerRole/DefaultPolicy/Resource',
    ]) {
      expect(message, policy).toContain(policy);
    }
  });
});

describe('WinbackRole', () => {
  it('refuses to file an action under an unscopable grant it does not belong to', () => {
    const role = new WinbackRole(new Stack(new App(), 'Roles'), 'Probe', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      accepts: ['Tracing'],
    });
    expect(() => role.grantUnscopable('Tracing', ['kms:Decrypt'])).toThrow(
      'kms:Decrypt is not part of the Tracing grant',
    );
  });
});
