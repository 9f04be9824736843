import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

export interface OperatorAlert {
  kind: string;
  subject: string;
  message: string;
  userId?: string;
}

/** Tells operators when something needs a human. */
export interface OperatorNotifier {
  notify(alert: OperatorAlert): Promise<void>;
}

/** SNS subjects are limited to 100 printable ASCII characters. */
function subjectLine(subject: string): string {
  return subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

export class SnsOperatorNotifier implements OperatorNotifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async notify(alert: OperatorAlert): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: subjectLine(`[winback] ${alert.subject}`),
        Message: alert.message,
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: alert.kind },
          ...(alert.userId ? { userId: { DataType: 'String', StringValue: alert.userId } } : {}),
        },
      }),
    );
  }
}
