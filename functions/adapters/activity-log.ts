import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './dynamo.ts';

const KEEP_SECONDS = 90 * 86_400;

/** Event ids already applied, kept 90 days (TTL) so a repeated delivery is applied once. */
export class ActivityLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** True when this call owns the event; false when it was seen before. */
  /** `receivedAt` sets the expiry: a back-dated event must still be remembered for the full 90 days. */
  claim(
    event: { eventId: string; userId: string; type: string; at: string },
    receivedAt: Date,
  ): Promise<boolean> {
    return putIfAbsent(
      this.doc,
      this.tableName,
      {
        eventId: event.eventId,
        userId: event.userId,
        type: event.type,
        at: event.at,
        expiresAt: Math.floor(receivedAt.getTime() / 1000) + KEEP_SECONDS,
      },
      'eventId',
    );
  }

  async release(eventId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { eventId } }));
  }
}
