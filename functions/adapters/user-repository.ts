import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Assessment } from '../domain/assessment.ts';
import type { UserRecord } from '../domain/user.ts';

export type ScanCursor = Record<string, unknown>;

export interface UserPage {
  /** Raw items: validation is the caller's, so that an invalid record is reported, not thrown. */
  items: Record<string, unknown>[];
  cursor?: ScanCursor;
}

/** Persisted form of an assessment on the user record; the plan is recomputed when needed, not stored. */
export function storedAssessment(assessment: Assessment, assessedAt: string) {
  return {
    status: assessment.status,
    level: assessment.level,
    score: assessment.score,
    lifecycle: assessment.lifecycle,
    reasons: assessment.reasons,
    assessedAt,
  };
}

const BATCH = 25;

export class UserRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** One page of one parallel-scan segment. */
  async scanPage(segment: number, totalSegments: number, cursor?: ScanCursor, limit?: number): Promise<UserPage> {
    const out = await this.doc.send(
      new ScanCommand({
        TableName: this.tableName,
        Segment: segment,
        TotalSegments: totalSegments,
        ExclusiveStartKey: cursor,
        Limit: limit,
      }),
    );
    return { items: (out.Items ?? []) as Record<string, unknown>[], cursor: out.LastEvaluatedKey };
  }

  async get(userId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { userId }, ConsistentRead: true }));
    return out.Item;
  }

  /**
   * Writes the assessment onto the record in one UpdateItem. The condition keeps a user deleted
   * mid-scan from being recreated as a record holding nothing but an assessment.
   */
  async recordAssessment(assessment: Assessment, assessedAt: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { userId: assessment.userId },
        UpdateExpression: 'SET assessment = :a',
        ConditionExpression: 'attribute_exists(userId)',
        ExpressionAttributeValues: { ':a': storedAssessment(assessment, assessedAt) },
      }),
    );
  }

  /** Bulk load for imports and seeding; retries what DynamoDB hands back unprocessed. */
  async putMany(records: readonly UserRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += BATCH) {
      let requests = records.slice(i, i + BATCH).map((r) => ({ PutRequest: { Item: r } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        if (requests.length > 0) {
          if (attempt >= 8) throw new Error(`${requests.length} user records stayed unprocessed after ${attempt} retries`);
          await new Promise((r) => setTimeout(r, 2 ** attempt * 25));
        }
      }
    }
  }
}

/** Runs `task` over `items` with at most `limit` in flight, failing on the first error. */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
