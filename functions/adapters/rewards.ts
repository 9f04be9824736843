import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent, queryAll, scanAll } from './dynamo.ts';

/** A conditional reward: interest that unlocks when the user invests enough again before it expires. */
export interface RewardRecord {
  rewardId: string;
  recallId: string;
  userId: string;
  amountFen: number;
  unlockInvestFen: number;
  issuedAt: string;
  expiresAt: string;
  status: 'open' | 'unlocked';
  unlockedAt?: string;
  unlockedBy?: string;
}

/** One reward per recall: the id derives from the recall. */
export function rewardIdFor(recallId: string): string {
  return `rw-${recallId}`;
}

export class Rewards {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Written exactly once per recall; a retried Prepare gets the reward that already exists. */
  async issueOnce(reward: RewardRecord): Promise<RewardRecord> {
    if (await putIfAbsent(this.doc, this.tableName, { ...reward }, 'rewardId')) return reward;
    const existing = await this.get(reward.rewardId);
    if (!existing) throw new Error(`reward ${reward.rewardId} vanished after a conflicting write`);
    return existing;
  }

  async get(rewardId: string): Promise<RewardRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { rewardId }, ConsistentRead: true }),
    );
    return out.Item as RewardRecord | undefined;
  }

  forUser(userId: string): Promise<RewardRecord[]> {
    return queryAll<RewardRecord>(this.doc, {
      TableName: this.tableName,
      IndexName: 'byUser',
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': userId },
    });
  }

  /** Unlocks every open, unexpired reward whose condition this investment meets. */
  async unlockFor(userId: string, investFen: number, at: string, eventId: string): Promise<RewardRecord[]> {
    const unlocked: RewardRecord[] = [];
    for (const reward of await this.forUser(userId)) {
      if (
        reward.status !== 'open' ||
        investFen < reward.unlockInvestFen ||
        at > reward.expiresAt ||
        at < reward.issuedAt
      )
        continue;
      try {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { rewardId: reward.rewardId },
            UpdateExpression: 'SET #status = :unlocked, unlockedAt = :at, unlockedBy = :e',
            ConditionExpression: '#status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':unlocked': 'unlocked', ':open': 'open', ':at': at, ':e': eventId },
            ReturnValues: 'ALL_NEW',
          }),
        );
        unlocked.push(out.Attributes as RewardRecord);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return unlocked;
  }

  scanAll(): AsyncGenerator<RewardRecord> {
    return scanAll<RewardRecord>(this.doc, this.tableName);
  }
}
