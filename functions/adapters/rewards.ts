import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent, queryAll, scanAll, updateIf } from './dynamo.ts';

/**
 * A conditional reward: interest that unlocks when the user invests enough again before it expires.
 * `pending`: planned, its message not sent yet (cannot unlock). `open`: announced, may unlock.
 * `refused`: past the day's budget. `cancelled`: the recall ended without announcing it.
 */
export interface RewardRecord {
  rewardId: string;
  recallId: string;
  userId: string;
  amountFen: number;
  unlockInvestFen: number;
  issuedAt: string;
  expiresAt: string;
  status: 'pending' | 'open' | 'unlocked' | 'refused' | 'cancelled';
  /** The UTC day whose budget holds this reward's amount, once reserved. */
  budgetDay?: string;
  unlockedAt?: string;
  unlockedBy?: string;
}

/** A day's reward budget, kept in the rewards table beside the rewards (no userId: not in byUser). */
export interface RewardBudget {
  day: string;
  spentFen: number;
  refused: number;
}

/** One reward per recall: the id derives from the recall. */
export function rewardIdFor(recallId: string): string {
  return `rw-${recallId}`;
}

const budgetKey = (day: string) => `budget#${day}`;

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

  /** The user's rewards that are still live (pending or open, unexpired) at `at`. */
  async liveFor(userId: string, at: string): Promise<RewardRecord[]> {
    return (await this.forUser(userId)).filter(
      (r) => (r.status === 'pending' || r.status === 'open') && at <= r.expiresAt,
    );
  }

  /**
   * Holds `amountFen` in the day's budget; false when it does not fit, and the refusal is counted.
   * Then notes the day on the reward, so a retried Prepare does not reserve twice.
   */
  async reserveBudget(reward: RewardRecord, day: string, budgetFen: number): Promise<boolean> {
    const fits = await updateIf(this.doc, {
      TableName: this.tableName,
      Key: { rewardId: budgetKey(day) },
      UpdateExpression: 'SET kind = :kind, #day = :day ADD spentFen :amt',
      ConditionExpression: 'attribute_not_exists(spentFen) OR spentFen <= :room',
      ExpressionAttributeNames: { '#day': 'day' },
      ExpressionAttributeValues: {
        ':kind': 'budget',
        ':day': day,
        ':amt': reward.amountFen,
        ':room': budgetFen - reward.amountFen,
      },
    });
    if (!fits) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { rewardId: budgetKey(day) },
          UpdateExpression: 'SET kind = :kind, #day = :day ADD refused :one',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: { ':kind': 'budget', ':day': day, ':one': 1 },
        }),
      );
      await this.setStatus(reward.rewardId, 'pending', 'refused');
      return false;
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { rewardId: reward.rewardId },
        UpdateExpression: 'SET budgetDay = :day',
        ExpressionAttributeValues: { ':day': day },
      }),
    );
    return true;
  }

  async budgetOf(day: string): Promise<RewardBudget> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { rewardId: budgetKey(day) }, ConsistentRead: true }),
    );
    return { day, spentFen: Number(out.Item?.spentFen ?? 0), refused: Number(out.Item?.refused ?? 0) };
  }

  /** Its message went out: the reward is issued now and may unlock from this time on. */
  async announce(rewardId: string, at: string): Promise<boolean> {
    return updateIf(this.doc, {
      TableName: this.tableName,
      Key: { rewardId },
      UpdateExpression: 'SET #status = :open, issuedAt = :at',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':open': 'open', ':pending': 'pending', ':at': at },
    });
  }

  /** The recall ended without announcing it: cancelled, and its amount goes back to the day's budget. */
  async cancelPending(rewardId: string): Promise<void> {
    const reward = await this.get(rewardId);
    if (reward?.status !== 'pending') return;
    if (!(await this.setStatus(rewardId, 'pending', 'cancelled')) || !reward.budgetDay) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { rewardId: budgetKey(reward.budgetDay) },
        UpdateExpression: 'ADD spentFen :back',
        ExpressionAttributeValues: { ':back': -reward.amountFen },
      }),
    );
  }

  private setStatus(rewardId: string, from: RewardRecord['status'], to: RewardRecord['status']) {
    return updateIf(this.doc, {
      TableName: this.tableName,
      Key: { rewardId },
      UpdateExpression: 'SET #status = :to',
      ConditionExpression: '#status = :from',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':to': to, ':from': from },
    });
  }

  /**
   * Unlocks one open, unexpired reward whose condition this investment meets, the oldest first: one
   * investment earns one reward. A retried event finds the reward it unlocked before and unlocks no other.
   */
  async unlockFor(userId: string, investFen: number, at: string, eventId: string): Promise<RewardRecord[]> {
    const rewards = await this.forUser(userId);
    const before = rewards.filter((r) => r.unlockedBy === eventId);
    if (before.length > 0) return before;
    const eligible = rewards
      .filter(
        (r) => r.status === 'open' && investFen >= r.unlockInvestFen && at <= r.expiresAt && at >= r.issuedAt,
      )
      .sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.rewardId.localeCompare(b.rewardId));
    for (const reward of eligible) {
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
        return [out.Attributes as RewardRecord];
      } catch (error) {
        // Another investment took this one at the same moment: try the next oldest.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return [];
  }

  /** Every reward (the day budgets kept beside them are left out). */
  async *scanAll(): AsyncGenerator<RewardRecord> {
    for await (const item of scanAll<RewardRecord & { kind?: string }>(this.doc, this.tableName)) {
      if (item.kind !== 'budget') yield item;
    }
  }
}
