import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RecallChannel } from '../domain/assessment.ts';
import type { RecallOutcome, RecallRoutePlan, RecallStart } from '../domain/recall.ts';
import type { LifecycleStage } from '../domain/user.ts';
import { getMany, putIfAbsent, queryAll, scanAll } from './dynamo.ts';

export interface RecallStepRecord {
  step: RecallChannel;
  result: string;
  at: string;
  detail?: string;
}

/** A recall episode as stored: what operators read through the API and the exports. */
export interface RecallRecord extends RecallStart {
  reasonCodes: string[];
  note?: string;
  /** An operator's recall: a digest of what the request asked, so its retry is recognised. */
  requestKey?: string;
  executionArn?: string;
  holdout: boolean;
  plan?: RecallRoutePlan;
  steps: RecallStepRecord[];
  rewardId?: string;
  /** Who the user was when Prepare ran: the outcome row reports the recall in the segment it started in. */
  segment?: RecallSegment;
  /** Prepare's decision on the SMS step (`recall.skipSmsWithoutUplift`), with the figures it rested on. */
  smsDecision?: RecallSmsDecision;
  closedAt?: string;
  outcome?: RecallOutcome;
  returnedAt?: string;
  returnedBy?: string;
  winningStep?: RecallChannel;
  error?: string;
}

export interface RecallSegment {
  lifecycle: LifecycleStage;
  /** Acquisition channel. */
  channel: string;
  /** The user's investment total at the start, so Close can tell what was invested during the recall. */
  totalInvestedFenAtStart: number;
}

export interface RecallSmsDecision {
  skipSms: boolean;
  reason: string;
  upliftPoints: number | null;
  ci95: { low: number; high: number } | null;
  recalledN: number;
  holdoutN: number;
}

/** The execution input an episode was (or should have been) started with: ids and codes only. */
export function recallStartOf(recall: RecallRecord): RecallStart {
  const { recallId, userId, trigger, level, startedAt, startAt, strategy, message } = recall;
  return {
    recallId,
    userId,
    trigger,
    level,
    startedAt,
    ...(startAt ? { startAt } : {}),
    ...(strategy ? { strategy } : {}),
    ...(message ? { message } : {}),
  };
}

export class RecallRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Creates the episode once; a second call for the same id leaves the first untouched. */
  async createOnce(recall: RecallRecord): Promise<boolean> {
    return putIfAbsent(this.doc, this.tableName, { ...recall }, 'recallId');
  }

  async get(recallId: string): Promise<RecallRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { recallId }, ConsistentRead: true }),
    );
    return out.Item as RecallRecord | undefined;
  }

  /** Several episodes in one round trip per hundred (the daily scan's check of held locks). */
  async getMany(recallIds: readonly string[]): Promise<Map<string, RecallRecord>> {
    return getMany<RecallRecord>(this.doc, this.tableName, 'recallId', recallIds);
  }

  async setExecution(recallId: string, executionArn: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { recallId },
        UpdateExpression: 'SET executionArn = :arn',
        ExpressionAttributeValues: { ':arn': executionArn },
      }),
    );
  }

  async setPlan(
    recallId: string,
    plan: RecallRoutePlan,
    holdout: boolean,
    rewardId?: string,
    facts: { segment?: RecallSegment; smsDecision?: RecallSmsDecision } = {},
  ): Promise<void> {
    const sets = ['#plan = :p', 'holdout = :h'];
    const values: Record<string, unknown> = { ':p': plan, ':h': holdout };
    if (rewardId) {
      sets.push('rewardId = :r');
      values[':r'] = rewardId;
    }
    if (facts.segment) {
      sets.push('#segment = :s');
      values[':s'] = facts.segment;
    }
    if (facts.smsDecision) {
      sets.push('smsDecision = :d');
      values[':d'] = facts.smsDecision;
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { recallId },
        UpdateExpression: `SET ${sets.join(', ')}`,
        // Both are DynamoDB reserved words.
        ExpressionAttributeNames: { '#plan': 'plan', ...(facts.segment ? { '#segment': 'segment' } : {}) },
        ExpressionAttributeValues: values,
      }),
    );
  }

  async appendStep(recallId: string, step: RecallStepRecord): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { recallId },
        UpdateExpression: 'SET steps = list_append(if_not_exists(steps, :empty), :s)',
        ExpressionAttributeValues: { ':s': [step], ':empty': [] },
      }),
    );
  }

  /** Records the outcome once: a redriven Close does not overwrite what the first one decided. */
  async close(
    recallId: string,
    outcome: {
      outcome: RecallOutcome;
      closedAt: string;
      returnedAt?: string;
      returnedBy?: string;
      winningStep?: RecallChannel;
      error?: string;
    },
  ): Promise<boolean> {
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const [key, value] of Object.entries(outcome)) {
      if (value === undefined) continue;
      sets.push(`#${key} = :${key}`);
      values[`:${key}`] = value;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { recallId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(recallId) AND attribute_not_exists(outcome)',
          ExpressionAttributeNames: Object.fromEntries(
            Object.keys(values).map((k) => [`#${k.slice(1)}`, k.slice(1)]),
          ),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  listForUser(userId: string): Promise<RecallRecord[]> {
    return queryAll<RecallRecord>(this.doc, {
      TableName: this.tableName,
      IndexName: 'byUser',
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': userId },
    });
  }

  scanAll(): AsyncGenerator<RecallRecord> {
    return scanAll<RecallRecord>(this.doc, this.tableName);
  }
}
