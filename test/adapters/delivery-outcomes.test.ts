import { PinpointClient, SendMessagesCommand } from '@aws-sdk/client-pinpoint';
import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { pinpointClient, smsSendClient, smsVoiceClient } from '../../functions/adapters/clients.ts';
import {
  DeliveryInDoubtError,
  DeliveryRefusedError,
  PinpointPushSender,
  SmsVoiceV2Sender,
  SnsSmsSender,
} from '../../functions/adapters/delivery.ts';

// Case 1: a provider error is either a definite refusal (nothing went out) or in doubt (it may have).

const pinpoint = mockClient(PinpointClient);
const sns = mockClient(SNSClient);
const smsVoice = mockClient(PinpointSMSVoiceV2Client);

beforeEach(() => {
  pinpoint.reset();
  sns.reset();
  smsVoice.reset();
});

const ref = { recallId: 'r-20261124-u1', step: 'sms' };
const PHONE = '+8613800138000';

function sdkError(name: string, httpStatusCode: number, attempts = 1): Error {
  return Object.assign(new Error(`${name} for ${PHONE}`), {
    name,
    $metadata: { httpStatusCode, attempts },
  });
}

describe('SnsSmsSender outcomes', () => {
  it.each([
    ['a 5xx answer', sdkError('InternalErrorException', 500)],
    ['a timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
    ['a reset socket', Object.assign(new Error('read ECONNRESET'), { name: 'Error', code: 'ECONNRESET' })],
    ['throttling after SDK retries', sdkError('ThrottledException', 400, 3)],
  ])('reads %s as in doubt, after exactly one Publish', async (_, error) => {
    sns.on(PublishCommand).rejects(error);
    const sender = new SnsSmsSender(new SNSClient({}));

    const failure = await sender.send(PHONE, 'hi').catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(DeliveryInDoubtError);
    expect((failure as Error).message).not.toContain('13800138000');
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      PhoneNumber: PHONE,
      Message: 'hi',
      MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Promotional' } },
    });
  });

  it.each([
    ['throttling answered before acceptance', sdkError('ThrottledException', 400), true],
    ['a validation error', sdkError('InvalidParameterException', 400), false],
    ['an invalid token', sdkError('InvalidClientTokenId', 403), false],
  ])('reads %s as a definite refusal', async (_, error, retryable) => {
    sns.on(PublishCommand).rejects(error);
    const sender = new SnsSmsSender(new SNSClient({}));

    const failure = await sender.send(PHONE, 'hi').catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(DeliveryRefusedError);
    expect(failure).toMatchObject({ retryable });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});

describe('SmsVoiceV2Sender outcomes', () => {
  const sender = () =>
    new SmsVoiceV2Sender(new PinpointSMSVoiceV2Client({}), { originationIdentity: 'pool-1' });

  it('reads an opted-out destination (ConflictException) as a refusal not worth retrying', async () => {
    smsVoice.on(SendTextMessageCommand).rejects(sdkError('ConflictException', 409));
    const failure = await sender()
      .send(PHONE, 'hi', ref)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeliveryRefusedError);
    expect(failure).toMatchObject({ retryable: false });
  });

  it('reads InternalServerException as in doubt after one SendTextMessage', async () => {
    smsVoice.on(SendTextMessageCommand).rejects(sdkError('InternalServerException', 500));
    const failure = await sender()
      .send(PHONE, 'hi', ref)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeliveryInDoubtError);
    expect(smsVoice).toHaveReceivedCommandExactlyOnceWith(SendTextMessageCommand, {
      DestinationPhoneNumber: PHONE,
      OriginationIdentity: 'pool-1',
      MessageBody: 'hi',
      MessageType: 'PROMOTIONAL',
      Context: { recallId: ref.recallId, step: ref.step },
    });
  });
});

describe('PinpointPushSender outcomes', () => {
  const TOKEN = 'fcm-token-abc';
  const answer = (DeliveryStatus: string) => ({
    MessageResponse: { ApplicationId: 'app-1', Result: { [TOKEN]: { DeliveryStatus, StatusCode: 500 } } },
  });
  const send = () =>
    new PinpointPushSender(new PinpointClient({}), 'app-1')
      .send(TOKEN, { title: 't', body: 'b' }, { recallId: 'r-1', step: 'push' })
      .catch((e: unknown) => e);

  it.each(['TIMEOUT', 'UNKNOWN_FAILURE'])('reads DeliveryStatus %s as in doubt', async (status) => {
    pinpoint.on(SendMessagesCommand).resolves(answer(status) as never);
    expect(await send()).toBeInstanceOf(DeliveryInDoubtError);
    expect(pinpoint).toHaveReceivedCommandTimes(SendMessagesCommand, 1);
  });

  it.each(['THROTTLED', 'TEMPORARY_FAILURE'])('reads DeliveryStatus %s as a retryable refusal', async (s) => {
    pinpoint.on(SendMessagesCommand).resolves(answer(s) as never);
    const failure = await send();
    expect(failure).toBeInstanceOf(DeliveryRefusedError);
    expect(failure).toMatchObject({ retryable: true });
  });

  it('reads a 5xx from SendMessages as in doubt', async () => {
    pinpoint.on(SendMessagesCommand).rejects(sdkError('InternalServerErrorException', 500));
    expect(await send()).toBeInstanceOf(DeliveryInDoubtError);
  });
});

describe('send clients', () => {
  it('never let the SDK resend Publish, SendTextMessage or SendMessages on its own', async () => {
    expect(await smsSendClient().config.maxAttempts()).toBe(1);
    expect(await smsVoiceClient().config.maxAttempts()).toBe(1);
    expect(await pinpointClient().config.maxAttempts()).toBe(1);
  });
});
