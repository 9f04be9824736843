import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RecallChannel } from '../domain/assessment.ts';
import type { SlotAnswer, SlotSkip } from '../domain/pacing.ts';

/** Where the slot search keeps its counts: one conditional increment per probe. */
export interface SendSlotStore {
  tryClaim(channel: RecallChannel, second: number, rate: number): Promise<SlotAnswer>;
  skip(channel: RecallChannel, skip: SlotSkip): Promise<void>;
}

/** Counts outlive their second by two days (TTL): long enough for any retry, short enough to stay small. */
const KEEP_SECONDS = 2 * 86_400;

/**
 * Send slots in DynamoDB: item `channel#epochSecond` holds `sends` (claimed so far) and
 * `nextSecond` (where to look once it is full). A claim is `ADD sends 1` on condition
 * `sends < rate`, so concurrent claims never put more than `rate` sends in one second.
 */
export class SendSlots implements SendSlotStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async tryClaim(channel: RecallChannel, second: number, rate: number): Promise<SlotAnswer> {
    const slot = `${channel}#${second}`;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { slot },
          UpdateExpression:
            'ADD sends :one SET nextSecond = if_not_exists(nextSecond, :after), expiresAt = if_not_exists(expiresAt, :expires)',
          ConditionExpression: 'attribute_not_exists(sends) OR sends < :rate',
          ExpressionAttributeValues: {
            ':one': 1,
            ':after': second + 1,
            ':rate': rate,
            ':expires': second + KEEP_SECONDS,
          },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
    const full = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { slot },
        ConsistentRead: true,
        ProjectionExpression: 'nextSecond',
      }),
    );
    const next = full.Item?.nextSecond;
    return typeof next === 'number' ? { claimed: false, next } : { claimed: false };
  }

  /** Points full seconds further on; a pointer only ever moves forward, whoever writes last. */
  async skip(channel: RecallChannel, skip: SlotSkip): Promise<void> {
    await Promise.all(
      skip.seconds.map(async (second) => {
        try {
          await this.doc.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { slot: `${channel}#${second}` },
              UpdateExpression: 'SET nextSecond = :to',
              ConditionExpression: 'attribute_exists(slot) AND nextSecond < :to',
              ExpressionAttributeValues: { ':to': skip.to },
            }),
          );
        } catch (error) {
          if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        }
      }),
    );
  }
}
