import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Assessment } from '../domain/assessment.ts';
import { addDays as addDaysIso } from '../domain/time.ts';
import type { UserRecord } from '../domain/user.ts';
import { updateIf } from './dynamo.ts';

/** An amount that would carry a running sum past the safe integer range: refused, never stored. */
export class SumOverflowError extends Error {
  override readonly name = 'SumOverflow';
}

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
  async scanPage(
    segment: number,
    totalSegments: number,
    cursor?: ScanCursor,
    limit?: number,
  ): Promise<UserPage> {
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
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { userId }, ConsistentRead: true }),
    );
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

  /**
   * Marks the user as being in this recall. One conditional write keeps one active recall per user
   * and honours the cool-down; repeating it for the same recall id succeeds, so a re-run is harmless.
   */
  async openRecall(
    userId: string,
    recallId: string,
    cooldownStartsAfter?: string,
  ): Promise<'opened' | 'conflict'> {
    return (await updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'SET activeRecallId = :r',
      ConditionExpression: cooldownStartsAfter
        ? 'attribute_exists(userId) AND (attribute_not_exists(activeRecallId) OR activeRecallId = :r) AND (attribute_not_exists(lastRecallClosedAt) OR lastRecallClosedAt < :c)'
        : 'attribute_exists(userId) AND (attribute_not_exists(activeRecallId) OR activeRecallId = :r)',
      ExpressionAttributeValues: {
        ':r': recallId,
        ...(cooldownStartsAfter ? { ':c': cooldownStartsAfter } : {}),
      },
    }))
      ? 'opened'
      : 'conflict';
  }

  /**
   * Ends the user's active recall if it is this one (a repeat of the same Close finds it already
   * ended); starts the relapse watch for a returned user.
   */
  async closeRecall(
    userId: string,
    recallId: string,
    closedAt: string,
    outcome: string,
    relapseWatchUntil?: string,
  ): Promise<void> {
    const released = await updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: `REMOVE activeRecallId SET lastRecallClosedAt = :t, lastRecallOutcome = :o${relapseWatchUntil ? ', relapseWatchUntil = :w' : ''}`,
      ConditionExpression: 'activeRecallId = :r',
      ExpressionAttributeValues: {
        ':r': recallId,
        ':t': closedAt,
        ':o': outcome,
        ...(relapseWatchUntil ? { ':w': relapseWatchUntil } : {}),
      },
    });
    if (released) return;
    // This recall no longer holds the lock (a repeat of the same Close, or an episode that ran
    // beside another): its end still starts the cool-down, unless a later close already did.
    await updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'SET lastRecallClosedAt = :t, lastRecallOutcome = :o',
      ConditionExpression:
        'attribute_exists(userId) AND (attribute_not_exists(lastRecallClosedAt) OR lastRecallClosedAt < :t)',
      ExpressionAttributeValues: { ':t': closedAt, ':o': outcome },
    });
  }

  /** Releases a recall that could not be started, so tomorrow's scan may try again. */
  async releaseRecall(userId: string, recallId: string): Promise<void> {
    await updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'REMOVE activeRecallId',
      ConditionExpression: 'activeRecallId = :r',
      ExpressionAttributeValues: { ':r': recallId },
    });
  }

  async endRelapseWatch(userId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { userId },
        UpdateExpression: 'REMOVE relapseWatchUntil',
      }),
    );
  }

  /** The provider said this token is dead: forget it, unless the app already registered a new one. */
  async clearPushAddress(userId: string, token: string): Promise<void> {
    await updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'REMOVE pushAddress',
      ConditionExpression: 'pushAddress = :t',
      ExpressionAttributeValues: { ':t': token },
    });
  }

  /** Moves a timestamp forward only: an event older than the stored value never moves it back. */
  async advanceTime(userId: string, attribute: 'lastLoginAt' | 'lastInvestAt', at: string): Promise<boolean> {
    return updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'SET #a = :at',
      ConditionExpression: 'attribute_exists(userId) AND (attribute_not_exists(#a) OR #a < :at)',
      ExpressionAttributeNames: { '#a': attribute },
      ExpressionAttributeValues: { ':at': at },
    });
  }

  /**
   * Counts an investment atomically and once: the counters and the event id go in one update whose
   * condition refuses an id already counted, so neither concurrent events nor a retried event can
   * lose or double an amount. Answers false for an event counted before. Each id is also logged with
   * its arrival day (`investEventLog`, oldest first), and ids older than the dedup window are dropped
   * from both, so the item does not grow without limit (the activity log covers that window too).
   */
  async addInvestment(
    userId: string,
    amountFen: number,
    bonusProduct: boolean,
    eventId: string,
    receivedAt: string = new Date(0).toISOString(),
    windowDays = 90,
  ): Promise<boolean> {
    let log: string[];
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { userId },
          UpdateExpression: `ADD investCount :one, totalInvestedFen :amt, investEventIds :ids SET investEventLog = list_append(if_not_exists(investEventLog, :empty), :entry)${bonusProduct ? ', heldBonusProduct = :true' : ''}`,
          // The running sum stays a safe integer: past it, the stored number would read back as a BigInt.
          ConditionExpression:
            'attribute_exists(userId) AND NOT contains(investEventIds, :id) AND (attribute_not_exists(totalInvestedFen) OR totalInvestedFen <= :room)',
          ExpressionAttributeValues: {
            ':one': 1,
            ':amt': amountFen,
            ':room': Number.MAX_SAFE_INTEGER - amountFen,
            ':ids': new Set([eventId]),
            ':id': eventId,
            ':empty': [],
            ':entry': [`${receivedAt.slice(0, 10)}|${eventId}`],
            ...(bonusProduct ? { ':true': true } : {}),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      log = (out.Attributes?.investEventLog as string[] | undefined) ?? [];
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const exists = await this.get(userId);
      if (!exists) throw error;
      const seen = exists.investEventIds;
      if (seen instanceof Set && seen.has(eventId)) return false;
      throw new SumOverflowError(`user ${userId}: adding ${amountFen} fen would overflow totalInvestedFen`);
    }
    await updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'SET maxInvestFen = :amt',
      ConditionExpression:
        'attribute_exists(userId) AND (attribute_not_exists(maxInvestFen) OR maxInvestFen < :amt)',
      ExpressionAttributeValues: { ':amt': amountFen },
    });
    await this.pruneInvestEvents(userId, log, addDaysIso(receivedAt, -windowDays).slice(0, 10));
    return true;
  }

  /**
   * Drops the logged ids that arrived before `oldestDay`: they are a prefix of the log (appended in
   * arrival order). The condition on the prefix's last entry keeps a concurrent prune from making
   * this one remove the wrong entries; a prune that loses the race is simply left to the next event.
   */
  private async pruneInvestEvents(userId: string, log: readonly string[], oldestDay: string): Promise<void> {
    let n = 0;
    while (n < log.length && n < 100 && log[n]!.slice(0, 10) < oldestDay) n++;
    if (n === 0) return;
    const old = log.slice(0, n);
    await updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: `DELETE investEventIds :old REMOVE ${old.map((_, i) => `investEventLog[${i}]`).join(', ')}`,
      ConditionExpression: `investEventLog[${n - 1}] = :last`,
      ExpressionAttributeValues: {
        ':old': new Set(old.map((entry) => entry.slice(11))),
        ':last': old[n - 1],
      },
    });
  }

  /** A balance snapshot applies only if newer than the last one applied. */
  async setBalance(userId: string, balanceFen: number, at: string): Promise<boolean> {
    return updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'SET balanceFen = :b, balanceAt = :at',
      ConditionExpression:
        'attribute_exists(userId) AND (attribute_not_exists(balanceAt) OR balanceAt < :at)',
      ExpressionAttributeValues: { ':b': balanceFen, ':at': at },
    });
  }

  /**
   * Creates the record or replaces the given profile attributes in one UpdateItem, removing the
   * `remove` ones; every other attribute (assessment, activeRecallId, ...) is left as it is.
   */
  async writeProfile(
    userId: string,
    fields: Record<string, unknown>,
    remove: readonly string[],
    createOnly: Record<string, unknown> = {},
  ): Promise<{ result: 'created' | 'updated'; previous?: Record<string, unknown> }> {
    const entries = Object.entries(fields).filter(([key, value]) => key !== 'userId' && value !== undefined);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = entries.map(([key, value], i) => {
      names[`#s${i}`] = key;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    // What events maintain is set here only when the record is new; see advanceCounters.
    Object.entries(createOnly).forEach(([key, value], i) => {
      names[`#c${i}`] = key;
      values[`:c${i}`] = value;
      sets.push(`#c${i} = if_not_exists(#c${i}, :c${i})`);
    });
    const removes = remove.map((key, i) => {
      names[`#r${i}`] = key;
      return `#r${i}`;
    });
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { userId },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes ? { result: 'updated', previous: out.Attributes } : { result: 'created' };
  }

  /** Raises a counter events maintain, never lowers it: an older snapshot cannot undo an event. */
  async advanceCounter(
    userId: string,
    attribute: 'investCount' | 'totalInvestedFen' | 'maxInvestFen',
    value: number,
  ): Promise<boolean> {
    return updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'SET #a = :v',
      ConditionExpression: 'attribute_exists(userId) AND (attribute_not_exists(#a) OR #a < :v)',
      ExpressionAttributeNames: { '#a': attribute },
      ExpressionAttributeValues: { ':v': value },
    });
  }

  /** Stores a callback or survey answer and the churn reason it gives; false when there is no such user. */
  async recordFeedback(
    userId: string,
    churnReason: string,
    feedback: Record<string, unknown>,
    at: string,
  ): Promise<boolean> {
    return updateIf(this.doc, {
      TableName: this.tableName,
      Key: { userId },
      UpdateExpression: 'SET churnReason = :r, lastFeedback = :f, updatedAt = :at',
      ConditionExpression: 'attribute_exists(userId)',
      ExpressionAttributeValues: { ':r': churnReason, ':f': feedback, ':at': at },
    });
  }

  async put(record: UserRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: record }));
  }

  /** Bulk load for imports and seeding; retries what DynamoDB hands back unprocessed. */
  async putMany(records: readonly UserRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += BATCH) {
      let requests = records.slice(i, i + BATCH).map((r) => ({ PutRequest: { Item: r } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const out = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        if (requests.length > 0) {
          if (attempt >= 8)
            throw new Error(`${requests.length} user records stayed unprocessed after ${attempt} retries`);
          await new Promise((r) => setTimeout(r, 2 ** attempt * 25));
        }
      }
    }
  }
}

/** Runs `task` over `items` with at most `limit` in flight, failing on the first error. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  // After the first failure no worker takes more items: nothing keeps running once the caller has
  // its error (a frozen Lambda container would otherwise race the retry of the same page).
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  // Settle every worker before answering, so no task is still in flight when the caller returns.
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
