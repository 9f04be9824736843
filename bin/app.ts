import { existsSync, readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_CONFIG, WinbackStack } from '../lib/winback-stack.ts';

/**
 * The CDK app. Configuration comes from context (`cdk.json` or `-c key=value`):
 *   winback:policyFile      JSON policy overrides (default: policy.json if present)
 *   winback:scanSegments    parallel Scan segments (default 8)
 *   winback:smsProvider      sns (default) or end-user-messaging; winback:smsSenderId, winback:smsOriginationIdentity,
 *                            winback:smsConfigurationSet, winback:pushApplicationId
 *   winback:scanHour / winback:scanMinute / winback:scanTimeZone   daily run time (09:00 Asia/Shanghai)
 */
const app = new App();
const ctx = (key: string): string | undefined => app.node.tryGetContext(`winback:${key}`);

const policyFile = ctx('policyFile') ?? (existsSync('policy.json') ? 'policy.json' : undefined);
const policy = policyFile ? JSON.parse(readFileSync(policyFile, 'utf8')) : {};

// AWS Solutions checks run on every synth; a finding fails it unless acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

new WinbackStack(app, ctx('stackName') ?? 'Winback', {
  description: 'winback: churn early warning and recall',
  config: {
    policy,
    scanSegments: Number(ctx('scanSegments') ?? DEFAULT_CONFIG.scanSegments),
    scanSchedule: {
      hour: Number(ctx('scanHour') ?? DEFAULT_CONFIG.scanSchedule.hour),
      minute: Number(ctx('scanMinute') ?? DEFAULT_CONFIG.scanSchedule.minute),
      timeZone: ctx('scanTimeZone') ?? DEFAULT_CONFIG.scanSchedule.timeZone,
    },
    delivery: {
      smsProvider: ctx('smsProvider') === 'end-user-messaging' ? 'end-user-messaging' : 'sns',
      pushApplicationId: ctx('pushApplicationId'),
      smsSenderId: ctx('smsSenderId'),
      smsOriginationIdentity: ctx('smsOriginationIdentity'),
      smsConfigurationSet: ctx('smsConfigurationSet'),
    },
  },
});
