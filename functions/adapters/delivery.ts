import { type ChannelType, type PinpointClient, SendMessagesCommand } from '@aws-sdk/client-pinpoint';
import {
  DescribeOptedOutNumbersCommand,
  type PinpointSMSVoiceV2Client,
  SendTextMessageCommand,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { CheckIfPhoneNumberIsOptedOutCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { RenderedMessage } from '../domain/templates.ts';

/** Which recall step a delivery belongs to; providers get it as context, never as content. */
export interface DeliveryRef {
  recallId: string;
  step: string;
}

export type PushResult =
  | { kind: 'sent'; providerMessageId?: string }
  | { kind: 'invalid_address'; detail: string };

export interface PushSender {
  send(token: string, message: RenderedMessage, ref: DeliveryRef): Promise<PushResult>;
}

export interface SmsSender {
  isOptedOut(phone: string): Promise<boolean>;
  send(phone: string, text: string, ref: DeliveryRef): Promise<{ providerMessageId?: string }>;
}

/** A delivery the provider did not take this time; Step Functions retries the step on this name. */
export class DeliveryFailedError extends Error {
  override readonly name = 'DeliveryFailed';
}

/**
 * Push through the End User Messaging push API (Pinpoint `SendMessages`), addressed by device
 * token. No Pinpoint endpoints, segments or journeys: those features are retired.
 */
export class PinpointPushSender implements PushSender {
  constructor(
    private readonly client: PinpointClient,
    private readonly applicationId: string,
    private readonly channelType: ChannelType = 'GCM',
  ) {}

  async send(token: string, message: RenderedMessage, ref: DeliveryRef): Promise<PushResult> {
    const out = await this.client.send(
      new SendMessagesCommand({
        ApplicationId: this.applicationId,
        MessageRequest: {
          Addresses: { [token]: { ChannelType: this.channelType } },
          Context: { recallId: ref.recallId, step: ref.step },
          MessageConfiguration: {
            [this.channelType === 'APNS' || this.channelType === 'APNS_SANDBOX'
              ? 'APNSMessage'
              : this.channelType === 'BAIDU'
                ? 'BaiduMessage'
                : 'GCMMessage']: {
              Action: 'OPEN_APP',
              Title: message.title,
              Body: message.body,
            },
          },
        },
      }),
    );
    const result = out.MessageResponse?.Result?.[token];
    const status = result?.DeliveryStatus;
    if (status === 'SUCCESSFUL') return { kind: 'sent', providerMessageId: result?.MessageId };
    if (status === 'PERMANENT_FAILURE' || status === 'OPT_OUT') {
      return { kind: 'invalid_address', detail: `${status}: ${result?.StatusMessage ?? 'no detail'}` };
    }
    throw new DeliveryFailedError(`push ${status ?? 'UNKNOWN'}: ${result?.StatusMessage ?? 'no detail'}`);
  }
}

export interface SnsSmsOptions {
  senderId?: string;
  smsType?: 'Promotional' | 'Transactional';
}

/** SMS through SNS `Publish` to a phone number, delivered by End User Messaging behind it. */
export class SnsSmsSender implements SmsSender {
  constructor(
    private readonly sns: SNSClient,
    private readonly options: SnsSmsOptions = {},
  ) {}

  async isOptedOut(phone: string): Promise<boolean> {
    const out = await this.sns.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: phone }));
    return out.isOptedOut === true;
  }

  async send(phone: string, text: string): Promise<{ providerMessageId?: string }> {
    const out = await this.sns.send(
      new PublishCommand({
        PhoneNumber: phone,
        Message: text,
        MessageAttributes: {
          'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: this.options.smsType ?? 'Promotional' },
          ...(this.options.senderId
            ? { 'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: this.options.senderId } }
            : {}),
        },
      }),
    );
    return { providerMessageId: out.MessageId };
  }
}

export interface SmsVoiceV2Options {
  originationIdentity: string;
  configurationSetName?: string;
  optOutListName?: string;
}

/** The alternative SMS provider: End User Messaging `SendTextMessage`, chosen by configuration. */
export class SmsVoiceV2Sender implements SmsSender {
  constructor(
    private readonly client: PinpointSMSVoiceV2Client,
    private readonly options: SmsVoiceV2Options,
  ) {}

  async isOptedOut(phone: string): Promise<boolean> {
    const out = await this.client.send(
      new DescribeOptedOutNumbersCommand({
        OptOutListName: this.options.optOutListName ?? 'Default',
        OptedOutNumbers: [phone],
      }),
    );
    return (out.OptedOutNumbers ?? []).some((n) => n.OptedOutNumber === phone);
  }

  async send(phone: string, text: string, ref: DeliveryRef): Promise<{ providerMessageId?: string }> {
    const out = await this.client.send(
      new SendTextMessageCommand({
        DestinationPhoneNumber: phone,
        OriginationIdentity: this.options.originationIdentity,
        MessageBody: text,
        MessageType: 'PROMOTIONAL',
        ConfigurationSetName: this.options.configurationSetName,
        Context: { recallId: ref.recallId, step: ref.step },
      }),
    );
    return { providerMessageId: out.MessageId };
  }
}
