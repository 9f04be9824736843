import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PinpointClient } from '@aws-sdk/client-pinpoint';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients for Lambda, created once per container on first use. Only handlers call these;
 * everything below a handler receives its client as a parameter.
 */
let doc: DynamoDBDocumentClient | undefined;
let sns: SNSClient | undefined;
let sfn: SFNClient | undefined;
let pinpoint: PinpointClient | undefined;
let smsVoice: PinpointSMSVoiceV2Client | undefined;
let smsSns: SNSClient | undefined;

/**
 * Clients that send to people make one attempt per call: the SDK would resend after a 5xx or a
 * timeout, when the provider may already have delivered. Only definite refusals are retried, by us.
 */
const SEND_ONCE = { maxAttempts: 1 } as const;

export function documentClient(): DynamoDBDocumentClient {
  doc ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return doc;
}

export function snsClient(): SNSClient {
  sns ??= new SNSClient({});
  return sns;
}

/** SNS for SMS `Publish` only: no SDK retries. Opt-out lookups and operator alerts use `snsClient()`. */
export function smsSendClient(): SNSClient {
  smsSns ??= new SNSClient(SEND_ONCE);
  return smsSns;
}

export function stepFunctionsClient(): SFNClient {
  sfn ??= new SFNClient({});
  return sfn;
}

export function pinpointClient(): PinpointClient {
  pinpoint ??= new PinpointClient(SEND_ONCE);
  return pinpoint;
}

export function smsVoiceClient(): PinpointSMSVoiceV2Client {
  smsVoice ??= new PinpointSMSVoiceV2Client(SEND_ONCE);
  return smsVoice;
}

let s3: S3Client | undefined;

/** The lake's writes are whole-object puts that may be retried safely, so the SDK's adaptive retries apply. */
export function s3Client(): S3Client {
  s3 ??= new S3Client({ maxAttempts: 5, retryMode: 'adaptive' });
  return s3;
}

let athena: AthenaClient | undefined;

/** Starting, polling and reading queries are all safe to repeat, so the SDK's adaptive retries apply. */
export function athenaClient(): AthenaClient {
  athena ??= new AthenaClient({ maxAttempts: 5, retryMode: 'adaptive' });
  return athena;
}
