import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './dynamo.ts';

/** How long an applied event id is remembered, from its arrival (TTL); the dedup window. */
export const EVENT_DEDUP_DAYS = 90;
const KEEP_SECONDS = EVENT_DEDUP_DAYS * 86_400;

/**
 * Event ids already applied, kept 90 days (TTL). An id is written only after its update was applied
 * in full, so a remembered id means "applied", never "claimed by an attempt that may have died".
 */
export class ActivityLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** True when the event was applied before (a repeat is answered `duplicate`). */
  async seen(eventId: string): Promise<boolean> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { eventId }, ConsistentRead: true }),
    );
    return out.Item !== undefined;
  }

  /**
   * Notes an applied event; false when another attempt noted it first. `receivedAt` sets the
   * expiry: a back-dated event must still be remembered for the full window.
   */
  remember(
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
}
