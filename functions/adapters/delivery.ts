import { type ChannelType, type PinpointClient, SendMessagesCommand } from '@aws-sdk/client-pinpoint';
import {
  DescribeOptedOutNumbersCommand,
  type PinpointSMSVoiceV2Client,
  SendTextMessageCommand,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { CheckIfPhoneNumberIsOptedOutCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { classifyProviderFailure, classifyPushStatus, type ProviderVerdict } from '../domain/delivery.ts';
import type { RenderedMessage } from '../domain/templates.ts';
import { redactNumbers } from '../domain/user.ts';

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

/** The provider definitely did not take the message: nothing went out. */
export class DeliveryRefusedError extends Error {
  override readonly name = 'DeliveryRefused';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The request left and the answer does not say whether the message went out: never send it again. */
export class DeliveryInDoubtError extends Error {
  override readonly name = 'DeliveryInDoubt';
}

/** Provider errors quote the number they refused; the reason keeps the error's name and no digits. */
function reasonOf(error: unknown): string {
  const e = error as Error;
  return redactNumbers(`${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`).slice(0, 300);
}

function verdictError(verdict: ProviderVerdict, reason: string): Error {
  return verdict.kind === 'refused'
    ? new DeliveryRefusedError(reason, verdict.retryable)
    : new DeliveryInDoubtError(reason);
}

/**
 * Runs one send call and turns any failure into a refusal or an in-doubt error. The clients that
 * make these calls have SDK retries off (clients.ts): a resend after a 5xx could deliver twice.
 */
async function sendCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const meta = (error as { $metadata?: { httpStatusCode?: number; attempts?: number } }).$metadata;
    const verdict = classifyProviderFailure({
      name: (error as Error)?.name ?? 'Error',
      httpStatus: meta?.httpStatusCode,
      attempts: meta?.attempts,
    });
    throw verdictError(verdict, reasonOf(error));
  }
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
    const out = await sendCall(() =>
      this.client.send(
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
      ),
    );
    const result = out.MessageResponse?.Result?.[token];
    const status = result?.DeliveryStatus;
    const detail = `${status ?? 'UNKNOWN'}: ${result?.StatusMessage ?? 'no detail'}`;
    const verdict = classifyPushStatus(status);
    if (verdict.kind === 'sent') return { kind: 'sent', providerMessageId: result?.MessageId };
    if (verdict.kind === 'invalid_address') return { kind: 'invalid_address', detail };
    throw verdictError(verdict, `push ${redactNumbers(detail)}`);
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
    const out = await sendCall(() =>
      this.sns.send(
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
      ),
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
    const out = await sendCall(() =>
      this.client.send(
        new SendTextMessageCommand({
          DestinationPhoneNumber: phone,
          OriginationIdentity: this.options.originationIdentity,
          MessageBody: text,
          MessageType: 'PROMOTIONAL',
          ConfigurationSetName: this.options.configurationSetName,
          Context: { recallId: ref.recallId, step: ref.step },
        }),
      ),
    );
    return { providerMessageId: out.MessageId };
  }
}
