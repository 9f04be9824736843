import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsOperatorNotifier } from '../../functions/adapters/operator-notifier.ts';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:ap-east-1:123456789012:winback-operators';

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

function publishedInput() {
  const calls = sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  return calls[0]!.args[0].input;
}

describe('SnsOperatorNotifier', () => {
  it('publishes to the topic with a prefixed subject, the message and the kind and user attributes', async () => {
    const notifier = new SnsOperatorNotifier(new SNSClient({}), TOPIC);

    await notifier.notify({
      kind: 'recall_start_failed',
      subject: 'recall for u-7 could not start',
      message: 'StartExecution failed: AccessDenied',
      userId: 'u-7',
    });

    expect(publishedInput()).toStrictEqual({
      TopicArn: TOPIC,
      Subject: '[winback] recall for u-7 could not start',
      Message: 'StartExecution failed: AccessDenied',
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'recall_start_failed' },
        userId: { DataType: 'String', StringValue: 'u-7' },
      },
    });
  });

  it('leaves the userId attribute out when the alert is about no user', async () => {
    const notifier = new SnsOperatorNotifier(new SNSClient({}), TOPIC);

    await notifier.notify({ kind: 'daily_digest', subject: 'daily digest 2026-11-24', message: 'totals' });

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[winback] daily digest 2026-11-24',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'daily_digest' } },
    });
  });

  it('keeps the subject to 100 printable ASCII characters: no CJK, no line breaks', async () => {
    const notifier = new SnsOperatorNotifier(new SNSClient({}), TOPIC);

    await notifier.notify({
      kind: 'x',
      subject: `用户 u-1 召回失败\nline two ${'a'.repeat(200)}`,
      message: '完整的中文消息可以放在正文里',
    });

    const { Subject, Message } = publishedInput();
    expect(Subject).toHaveLength(100);
    expect(Subject).toMatch(/^[\x20-\x7e]{100}$/);
    expect(Subject).toBe(`[winback] ?? u-1 ?????line two ${'a'.repeat(69)}`);
    // The body is not an SNS subject: it keeps its text.
    expect(Message).toBe('完整的中文消息可以放在正文里');
  });

  it('propagates a failed Publish', async () => {
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' }));
    const notifier = new SnsOperatorNotifier(new SNSClient({}), TOPIC);

    await expect(notifier.notify({ kind: 'k', subject: 's', message: 'm' })).rejects.toThrow(
      'KMS key disabled',
    );
  });
});
