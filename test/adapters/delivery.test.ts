import { type DeliveryStatus, PinpointClient, SendMessagesCommand } from '@aws-sdk/client-pinpoint';
import {
  DescribeOptedOutNumbersCommand,
  PinpointSMSVoiceV2Client,
  SendTextMessageCommand,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { CheckIfPhoneNumberIsOptedOutCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DeliveryInDoubtError,
  DeliveryRefusedError,
  PinpointPushSender,
  type SmsSender,
  SmsVoiceV2Sender,
  SnsSmsSender,
} from '../../functions/adapters/delivery.ts';

const pinpoint = mockClient(PinpointClient);
const sns = mockClient(SNSClient);
const smsVoice = mockClient(PinpointSMSVoiceV2Client);

beforeEach(() => {
  pinpoint.reset();
  sns.reset();
  smsVoice.reset();
});

const ref = { recallId: 'rc-u1-20261124', step: 'push' };
const message = { title: '您的专属加息券', body: '回来看看，3 天内有效' };
const TOKEN = 'fcm-token-abc';

function pushResult(status: DeliveryStatus, statusMessage?: string, messageId?: string) {
  return {
    MessageResponse: {
      ApplicationId: 'app-1',
      Result: {
        [TOKEN]: {
          DeliveryStatus: status,
          StatusCode: status === 'SUCCESSFUL' ? 200 : 400,
          ...(statusMessage ? { StatusMessage: statusMessage } : {}),
          ...(messageId ? { MessageId: messageId } : {}),
        },
      },
    },
  };
}

describe('PinpointPushSender', () => {
  it('sends one SendMessages addressed by device token, with the step as context', async () => {
    pinpoint.on(SendMessagesCommand).resolves(pushResult('SUCCESSFUL', undefined, 'pm-1'));
    const sender = new PinpointPushSender(new PinpointClient({}), 'app-1');

    const result = await sender.send(TOKEN, message, ref);

    expect(result).toEqual({ kind: 'sent', providerMessageId: 'pm-1' });
    expect(pinpoint).toHaveReceivedCommandTimes(SendMessagesCommand, 1);
    expect(pinpoint.commandCalls(SendMessagesCommand)[0]!.args[0].input).toStrictEqual({
      ApplicationId: 'app-1',
      MessageRequest: {
        Addresses: { [TOKEN]: { ChannelType: 'GCM' } },
        Context: { recallId: 'rc-u1-20261124', step: 'push' },
        MessageConfiguration: {
          GCMMessage: { Action: 'OPEN_APP', Title: '您的专属加息券', Body: '回来看看，3 天内有效' },
        },
      },
    });
  });

  it.each(['APNS', 'APNS_SANDBOX'] as const)('uses APNSMessage for the %s channel', async (channel) => {
    pinpoint.on(SendMessagesCommand).resolves(pushResult('SUCCESSFUL'));
    const sender = new PinpointPushSender(new PinpointClient({}), 'app-ios', channel);

    await sender.send(TOKEN, message, ref);

    expect(pinpoint).toHaveReceivedCommandExactlyOnceWith(SendMessagesCommand, {
      ApplicationId: 'app-ios',
      MessageRequest: {
        Addresses: { [TOKEN]: { ChannelType: channel } },
        Context: { recallId: 'rc-u1-20261124', step: 'push' },
        MessageConfiguration: {
          APNSMessage: { Action: 'OPEN_APP', Title: message.title, Body: message.body },
        },
      },
    });
  });

  it('uses BaiduMessage for the BAIDU channel (Android in mainland China has no GCM)', async () => {
    pinpoint.on(SendMessagesCommand).resolves(pushResult('SUCCESSFUL'));
    const sender = new PinpointPushSender(new PinpointClient({}), 'app-cn', 'BAIDU');

    await sender.send(TOKEN, message, ref);

    expect(pinpoint).toHaveReceivedCommandExactlyOnceWith(SendMessagesCommand, {
      ApplicationId: 'app-cn',
      MessageRequest: {
        Addresses: { [TOKEN]: { ChannelType: 'BAIDU' } },
        Context: { recallId: 'rc-u1-20261124', step: 'push' },
        MessageConfiguration: {
          BaiduMessage: { Action: 'OPEN_APP', Title: message.title, Body: message.body },
        },
      },
    });
  });

  it.each([
    ['PERMANENT_FAILURE', 'Token not registered', 'PERMANENT_FAILURE: Token not registered'],
    ['OPT_OUT', undefined, 'OPT_OUT: no detail'],
  ] as const)('maps %s to invalid_address', async (status, statusMessage, detail) => {
    pinpoint.on(SendMessagesCommand).resolves(pushResult(status, statusMessage));
    const sender = new PinpointPushSender(new PinpointClient({}), 'app-1');

    await expect(sender.send(TOKEN, message, ref)).resolves.toEqual({ kind: 'invalid_address', detail });
  });

  it.each([
    ['THROTTLED', 'Rate exceeded', 'push THROTTLED: Rate exceeded'],
    ['TEMPORARY_FAILURE', 'Service unavailable', 'push TEMPORARY_FAILURE: Service unavailable'],
  ] as const)('refuses %s as retryable, so the workflow tries again', async (status, statusMessage, text) => {
    pinpoint.on(SendMessagesCommand).resolves(pushResult(status, statusMessage));
    const sender = new PinpointPushSender(new PinpointClient({}), 'app-1');

    const error = await sender.send(TOKEN, message, ref).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeliveryRefusedError);
    expect(error).toMatchObject({ retryable: true, message: text });
  });

  it('reads a response with no result for the token as in doubt', async () => {
    pinpoint.on(SendMessagesCommand).resolves({ MessageResponse: { ApplicationId: 'app-1', Result: {} } });
    const sender = new PinpointPushSender(new PinpointClient({}), 'app-1');

    await expect(sender.send(TOKEN, message, ref)).rejects.toThrow(
      new DeliveryInDoubtError('push UNKNOWN: no detail'),
    );
  });

  it('reads a refused SDK call (ForbiddenException) as a final refusal', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'ForbiddenException' });
    pinpoint.on(SendMessagesCommand).rejects(denied);
    const sender = new PinpointPushSender(new PinpointClient({}), 'app-1');

    await expect(sender.send(TOKEN, message, ref)).rejects.toMatchObject({
      name: 'DeliveryRefused',
      retryable: false,
      message: 'ForbiddenException: not authorized',
    });
  });
});

describe('SnsSmsSender', () => {
  it('publishes to the phone number as a promotional SMS by default, without a sender id', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    const sender: SmsSender = new SnsSmsSender(new SNSClient({}));

    const out = await sender.send('+8613800138000', '【winback】回来看看 回T退订', ref);

    expect(out).toEqual({ providerMessageId: 'sns-1' });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input).toStrictEqual({
      PhoneNumber: '+8613800138000',
      Message: '【winback】回来看看 回T退订',
      MessageAttributes: {
        'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Promotional' },
      },
    });
  });

  it('sets the sender id and SMS type from its options', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'sns-2' });
    const sender: SmsSender = new SnsSmsSender(new SNSClient({}), {
      senderId: 'WINBACK',
      smsType: 'Transactional',
    });

    await sender.send('+85291234567', 'Come back', ref);

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      PhoneNumber: '+85291234567',
      Message: 'Come back',
      MessageAttributes: {
        'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
        'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'WINBACK' },
      },
    });
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input).not.toHaveProperty('TopicArn');
  });

  it.each([
    [true, true],
    [false, false],
    [undefined, false],
  ])('CheckIfPhoneNumberIsOptedOut answering isOptedOut=%s reads as %s', async (answer, expected) => {
    sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves(answer === undefined ? {} : { isOptedOut: answer });
    const sender: SmsSender = new SnsSmsSender(new SNSClient({}));

    await expect(sender.isOptedOut('+8613800138000')).resolves.toBe(expected);
    expect(sns).toHaveReceivedCommandExactlyOnceWith(CheckIfPhoneNumberIsOptedOutCommand, {
      phoneNumber: '+8613800138000',
    });
  });

  it('refuses a throttled Publish as retryable, so the step is retried', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' }));
    const sender: SmsSender = new SnsSmsSender(new SNSClient({}));

    await expect(sender.send('+8613800138000', 'hi', ref)).rejects.toMatchObject({
      name: 'DeliveryRefused',
      retryable: true,
    });
  });
});

describe('SmsVoiceV2Sender', () => {
  it('sends SendTextMessage from the origination identity with the configuration set and context', async () => {
    smsVoice.on(SendTextMessageCommand).resolves({ MessageId: 'eum-1' });
    const sender = new SmsVoiceV2Sender(new PinpointSMSVoiceV2Client({}), {
      originationIdentity: 'pool-abc',
      configurationSetName: 'winback-sms',
    });

    const out = await sender.send('+8613800138000', 'text body', { recallId: 'rc-9', step: 'sms' });

    expect(out).toEqual({ providerMessageId: 'eum-1' });
    expect(smsVoice.commandCalls(SendTextMessageCommand)).toHaveLength(1);
    expect(smsVoice.commandCalls(SendTextMessageCommand)[0]!.args[0].input).toStrictEqual({
      DestinationPhoneNumber: '+8613800138000',
      OriginationIdentity: 'pool-abc',
      MessageBody: 'text body',
      MessageType: 'PROMOTIONAL',
      ConfigurationSetName: 'winback-sms',
      Context: { recallId: 'rc-9', step: 'sms' },
    });
  });

  it('asks the Default opt-out list unless another is configured', async () => {
    smsVoice.on(DescribeOptedOutNumbersCommand).resolves({
      OptOutListName: 'Default',
      OptedOutNumbers: [
        { OptedOutNumber: '+8613800138000', OptedOutTimestamp: new Date(), EndUserOptedOut: true },
      ],
    });
    const sender = new SmsVoiceV2Sender(new PinpointSMSVoiceV2Client({}), {
      originationIdentity: 'pool-abc',
    });

    await expect(sender.isOptedOut('+8613800138000')).resolves.toBe(true);
    expect(smsVoice).toHaveReceivedCommandExactlyOnceWith(DescribeOptedOutNumbersCommand, {
      OptOutListName: 'Default',
      OptedOutNumbers: ['+8613800138000'],
    });
  });

  it('is not opted out when the list answers with another number or none', async () => {
    smsVoice
      .on(DescribeOptedOutNumbersCommand)
      .resolvesOnce({
        OptedOutNumbers: [
          { OptedOutNumber: '+8613900000000', OptedOutTimestamp: new Date(), EndUserOptedOut: true },
        ],
      })
      .resolvesOnce({});
    const sender = new SmsVoiceV2Sender(new PinpointSMSVoiceV2Client({}), {
      originationIdentity: 'pool-abc',
      optOutListName: 'winback-optouts',
    });

    await expect(sender.isOptedOut('+8613800138000')).resolves.toBe(false);
    await expect(sender.isOptedOut('+8613800138000')).resolves.toBe(false);
    expect(smsVoice).toHaveReceivedNthCommandWith(DescribeOptedOutNumbersCommand, 1, {
      OptOutListName: 'winback-optouts',
      OptedOutNumbers: ['+8613800138000'],
    });
  });
});
