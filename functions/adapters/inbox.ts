import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './dynamo.ts';

/** An in-app message as the app shows it. */
export interface InboxMessage {
  userId: string;
  /** Sortable by creation time, so the newest come first in a reverse query. */
  messageId: string;
  recallId?: string;
  title: string;
  body: string;
  createdAt: string;
  openedAt?: string;
}

export interface InboxPage {
  messages: InboxMessage[];
  nextToken?: string;
}

/** A `nextToken` that no page of this API handed out. */
export class InvalidPageTokenError extends Error {
  override readonly name = 'InvalidPageToken';
}

const MESSAGE_ID = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[^#]+#[a-z_]+$/;

/**
 * The message id a page token names. The token must be exactly what `list` wrote (base64url of a
 * message id): anything else would reach DynamoDB as a broken start key and fail as a 500.
 */
export function decodePageToken(token: string): string {
  const id = Buffer.from(token, 'base64url').toString();
  if (Buffer.from(id).toString('base64url') !== token || !MESSAGE_ID.test(id))
    throw new InvalidPageTokenError('not a nextToken from a previous page');
  return id;
}

export function inboxMessageId(createdAt: string, recallId: string, step: string): string {
  return `${createdAt}#${recallId}#${step}`;
}

export class Inbox {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Idempotent: the id derives from the recall step, so a retried send finds the message already there. */
  async deliver(message: InboxMessage): Promise<void> {
    await putIfAbsent(this.doc, this.tableName, { ...message }, 'messageId');
  }

  async list(userId: string, limit = 20, nextToken?: string): Promise<InboxPage> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': userId },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: nextToken ? { userId, messageId: decodePageToken(nextToken) } : undefined,
      }),
    );
    const last = out.LastEvaluatedKey?.messageId as string | undefined;
    return {
      messages: (out.Items ?? []) as InboxMessage[],
      ...(last ? { nextToken: Buffer.from(last).toString('base64url') } : {}),
    };
  }

  /** Marks a message opened once; returns the recall it belongs to, if any. */
  async markOpened(userId: string, messageId: string, at: string): Promise<InboxMessage | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { userId, messageId },
          UpdateExpression: 'SET openedAt = if_not_exists(openedAt, :at)',
          ConditionExpression: 'attribute_exists(messageId)',
          ExpressionAttributeValues: { ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as InboxMessage;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  /** The in-app message of a recall, for the check that counts an opened message as a reply. */
  async forRecall(userId: string, recallId: string): Promise<InboxMessage | undefined> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'userId = :u',
        FilterExpression: 'recallId = :r',
        ExpressionAttributeValues: { ':u': userId, ':r': recallId },
        ScanIndexForward: false,
        ConsistentRead: true,
      }),
    );
    return out.Items?.[0] as InboxMessage | undefined;
  }
}
