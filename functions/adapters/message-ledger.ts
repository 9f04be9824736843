import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RecallChannel } from '../domain/assessment.ts';
import type { SentMessage } from '../domain/recall.ts';
import { queryAll, scanAll } from './dynamo.ts';

/** One escalation step's delivery, keyed by (recall, step) so no step is ever sent twice. */
export interface MessageRecord {
  recallId: string;
  step: RecallChannel;
  userId: string;
  channel: RecallChannel;
  /**
   * `sending`: claimed, outcome not recorded yet. `sent`: the provider took it. `failed`: the
   * provider definitely refused it (may be claimed again). `unknown`: it may have gone out; never resent.
   */
  status: 'sending' | 'sent' | 'failed' | 'unknown';
  attempts: number;
  claimedAt: string;
  /**
   * Only sent and unknown messages carry it, so the byUser index holds exactly what may have reached
   * the user: a message in doubt counts against the frequency cap like a sent one.
   */
  sentAt?: string;
  localTime?: string;
  title?: string;
  text?: string;
  address?: string;
  providerMessageId?: string;
  lastError?: string;
}

/**
 * `claimed`: this attempt may send. `taken`: an earlier attempt sent the step, or claimed it and
 * may have sent it before failing to record that: either way it is not sent again.
 */
export type Claim =
  | { kind: 'claimed'; attempt: number; claimedAt: string }
  | { kind: 'taken'; record: MessageRecord };

export class MessageLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Takes the step for sending. Only a new step, or one whose earlier attempt is known to have
   * failed (the provider refused it), may be taken again: a step left `sending` by a crash is in
   * doubt, and a message in doubt is not sent twice.
   */
  async claim(recallId: string, step: RecallChannel, userId: string, at: string): Promise<Claim> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { recallId, step },
          UpdateExpression:
            'SET userId = :u, channel = :c, #status = :sending, claimedAt = if_not_exists(claimedAt, :at) ADD attempts :one',
          ConditionExpression: 'attribute_not_exists(#status) OR #status = :failed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':u': userId,
            ':c': step,
            ':sending': 'sending',
            ':failed': 'failed',
            ':at': at,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return {
        kind: 'claimed',
        attempt: Number(out.Attributes?.attempts ?? 1),
        claimedAt: String(out.Attributes?.claimedAt ?? at),
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const record = await this.get(recallId, step);
      if (!record) throw error;
      return { kind: 'taken', record };
    }
  }

  async markSent(
    recallId: string,
    step: RecallChannel,
    sent: {
      sentAt: string;
      localTime: string;
      title: string;
      text: string;
      address?: string;
      providerMessageId?: string;
    },
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { recallId, step },
        UpdateExpression:
          'SET #status = :sent, #sentAt = :sentAt, #localTime = :lt, #title = :title, #text = :text, #address = :addr, #pid = :pid',
        // Several of these names are DynamoDB reserved words; aliasing all of them keeps that from biting later.
        ExpressionAttributeNames: {
          '#status': 'status',
          '#sentAt': 'sentAt',
          '#localTime': 'localTime',
          '#title': 'title',
          '#text': 'text',
          '#address': 'address',
          '#pid': 'providerMessageId',
        },
        ExpressionAttributeValues: {
          ':sent': 'sent',
          ':sentAt': sent.sentAt,
          ':lt': sent.localTime,
          ':title': sent.title,
          ':text': sent.text,
          ':addr': sent.address ?? null,
          ':pid': sent.providerMessageId ?? null,
        },
      }),
    );
  }

  /**
   * The send is in doubt: the request left and the answer does not tell whether it went out. Kept
   * apart from `failed` so it is never claimed again. A step already recorded as sent stays sent.
   */
  async markUnknown(recallId: string, step: RecallChannel, at: string, reason: string): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { recallId, step },
          UpdateExpression: 'SET #status = :unknown, #sentAt = if_not_exists(#sentAt, :at), lastError = :e',
          ConditionExpression: '#status = :sending OR #status = :unknown',
          ExpressionAttributeNames: { '#status': 'status', '#sentAt': 'sentAt' },
          ExpressionAttributeValues: {
            ':unknown': 'unknown',
            ':sending': 'sending',
            ':at': at,
            ':e': reason.slice(0, 500),
          },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  async markFailed(recallId: string, step: RecallChannel, error: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { recallId, step },
        UpdateExpression: 'SET #status = :failed, lastError = :e',
        // Only this attempt's own claim may be marked failed: never a send recorded as sent or in doubt.
        ConditionExpression: '#status = :sending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'failed', ':sending': 'sending', ':e': error.slice(0, 500) },
      }),
    );
  }

  async get(recallId: string, step: RecallChannel): Promise<MessageRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { recallId, step }, ConsistentRead: true }),
    );
    return out.Item as MessageRecord | undefined;
  }

  async forRecall(recallId: string): Promise<MessageRecord[]> {
    return queryAll<MessageRecord>(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'recallId = :r',
      ExpressionAttributeValues: { ':r': recallId },
      ConsistentRead: true,
    });
  }

  /** Messages sent to the user since `from`, for the frequency cap. */
  async sentToUserSince(userId: string, from: string): Promise<SentMessage[]> {
    const items = await queryAll<MessageRecord>(this.doc, {
      TableName: this.tableName,
      IndexName: 'byUser',
      KeyConditionExpression: 'userId = :u AND sentAt >= :from',
      ExpressionAttributeValues: { ':u': userId, ':from': from },
    });
    return items.map((m) => ({ channel: m.channel, sentAt: m.sentAt! }));
  }

  scanAll(): AsyncGenerator<MessageRecord> {
    return scanAll<MessageRecord>(this.doc, this.tableName);
  }
}
