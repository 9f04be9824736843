import type { ChannelType } from '@aws-sdk/client-pinpoint';
import {
  documentClient,
  pinpointClient,
  s3Client,
  smsSendClient,
  smsVoiceClient,
  snsClient,
  stepFunctionsClient,
} from '../adapters/clients.ts';
import { PinpointPushSender, type SmsSender, SmsVoiceV2Sender, SnsSmsSender } from '../adapters/delivery.ts';
import { ENV, type Environment, policyFromEnv, requireEnv } from '../adapters/environment.ts';
import { Inbox } from '../adapters/inbox.ts';
import { S3LakeWriter } from '../adapters/lake.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import { MessageLedger } from '../adapters/message-ledger.ts';
import { SnsOperatorNotifier } from '../adapters/operator-notifier.ts';
import { RecallRepository } from '../adapters/recall-repository.ts';
import { S3ReportStore, smsStepFiguresFrom } from '../adapters/report-store.ts';
import { Rewards } from '../adapters/rewards.ts';
import { SendSlots } from '../adapters/send-slots.ts';
import { UserRepository } from '../adapters/user-repository.ts';
import { StepFunctionsStarter } from '../adapters/workflow-starter.ts';
import type { PacingDeps } from '../use-cases/pace-send.ts';
import type { RecallStepDeps } from '../use-cases/recall-steps.ts';
import type { StartRecallDeps } from '../use-cases/start-recall.ts';

/** Builds adapters from the environment the stack sets. Only handlers call this, once per container. */

function smsSenderFromEnv(env: Environment): SmsSender {
  if (env[ENV.smsProvider] === 'end-user-messaging') {
    return new SmsVoiceV2Sender(smsVoiceClient(), {
      originationIdentity: requireEnv(env, ENV.smsOriginationIdentity),
      configurationSetName: env[ENV.smsConfigurationSet] || undefined,
    });
  }
  return new SnsSmsSender(smsSendClient(), { senderId: env[ENV.smsSenderId] || undefined });
}

export function recallStepDepsFromEnv(env: Environment, logger: WinbackLogger): RecallStepDeps {
  const doc = documentClient();
  const pushApp = env[ENV.pushApplicationId];
  return {
    users: new UserRepository(doc, requireEnv(env, ENV.usersTable)),
    recalls: new RecallRepository(doc, requireEnv(env, ENV.recallsTable)),
    ledger: new MessageLedger(doc, requireEnv(env, ENV.messagesTable)),
    inbox: new Inbox(doc, requireEnv(env, ENV.inboxTable)),
    rewards: new Rewards(doc, requireEnv(env, ENV.rewardsTable)),
    ...(pushApp
      ? {
          push: new PinpointPushSender(
            pinpointClient(),
            pushApp,
            (env[ENV.pushChannelType] as ChannelType) || 'GCM',
          ),
        }
      : {}),
    sms: smsSenderFromEnv(env),
    policy: policyFromEnv(env),
    logger,
    now: () => new Date(),
    ...lakeDepsFromEnv(env, logger),
  };
}

/** The outcome rows and the last report's SMS figures, where the stack gave the function the lake bucket. */
function lakeDepsFromEnv(
  env: Environment,
  logger: WinbackLogger,
): Pick<RecallStepDeps, 'lake' | 'smsStepFigures'> {
  const bucket = env[ENV.lakeBucket];
  if (!bucket) return {};
  return {
    lake: new S3LakeWriter(s3Client(), bucket),
    smsStepFigures: smsStepFiguresFrom(new S3ReportStore(s3Client(), bucket), undefined, undefined, (error) =>
      logger.warn('last report unreadable: no SMS step is skipped until it is', { error: String(error) }),
    ),
  };
}

export function startRecallDepsFromEnv(env: Environment, logger: WinbackLogger): StartRecallDeps {
  const doc = documentClient();
  const lakeBucket = env[ENV.lakeBucket];
  const messagesTable = env[ENV.messagesTable];
  const rewardsTable = env[ENV.rewardsTable];
  return {
    users: new UserRepository(doc, requireEnv(env, ENV.usersTable)),
    recalls: new RecallRepository(doc, requireEnv(env, ENV.recallsTable)),
    workflow: new StepFunctionsStarter(stepFunctionsClient(), requireEnv(env, ENV.recallStateMachineArn)),
    notifier: new SnsOperatorNotifier(snsClient(), requireEnv(env, ENV.operatorTopicArn)),
    policy: policyFromEnv(env),
    logger,
    // A recall closed here (a start refused, an execution that ended without Close) leaves its
    // outcome row where the function has the lake; with the ledger where it may read it.
    ...(lakeBucket ? { lake: new S3LakeWriter(s3Client(), lakeBucket) } : {}),
    ...(messagesTable ? { ledger: new MessageLedger(doc, messagesTable) } : {}),
    ...(rewardsTable ? { rewards: new Rewards(doc, rewardsTable) } : {}),
  };
}

/** The slot store and what pacing reads, for the Prepare and Send functions. */
export function pacingDepsFromEnv(env: Environment, logger: WinbackLogger): PacingDeps {
  const doc = documentClient();
  return {
    slots: new SendSlots(doc, requireEnv(env, ENV.sendSlotsTable)),
    users: new UserRepository(doc, requireEnv(env, ENV.usersTable)),
    policy: policyFromEnv(env),
    logger,
  };
}
