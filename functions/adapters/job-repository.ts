import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SegmentFilter } from '../domain/api-schemas.ts';
import type { RecallChannel, StrategyKind } from '../domain/assessment.ts';
import type { MessageTexts } from '../domain/templates.ts';
import { putIfAbsent } from './dynamo.ts';

export type JobStatus = 'running' | 'paused' | 'done';
export type JobCursor = Record<string, unknown>;

export interface SegmentJobCounts {
  /** Users read. */
  processed: number;
  matched: number;
  started: number;
  /** Matched users not started, by reason (already_active, cooldown, invalid_record, ...). */
  skipped: Record<string, number>;
}

/** A segment recall job: enough to continue it from any process after any interruption. */
export interface SegmentJob {
  jobId: string;
  kind: 'segment_recall';
  status: JobStatus;
  filter: SegmentFilter;
  strategy?: StrategyKind;
  startAt?: RecallChannel;
  reason?: string;
  note?: string;
  /** The segment's own wording for every recall it starts. */
  message?: MessageTexts;
  pageSize: number;
  /** Where the next page begins; absent before the first page and once done. */
  cursor?: JobCursor;
  counts: SegmentJobCounts;
  pages: number;
  /** Bumped by every write: a run that lost a race to another run sees its write refused and stops. */
  version: number;
  createdAt: string;
  updatedAt: string;
  lastError?: string;
}

export interface JobCheckpoint {
  status: JobStatus;
  cursor?: JobCursor;
  counts: SegmentJobCounts;
  pages: number;
  updatedAt: string;
  lastError?: string;
}

export class JobRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  create(job: SegmentJob): Promise<boolean> {
    return putIfAbsent(this.doc, this.tableName, { ...job }, 'jobId');
  }

  async get(jobId: string): Promise<SegmentJob | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { jobId }, ConsistentRead: true }),
    );
    return out.Item as SegmentJob | undefined;
  }

  /**
   * Records progress if the job is still at `version` (optimistic concurrency) and answers whether
   * it did. The cursor and the counts move together in one write, so they never disagree.
   */
  async checkpoint(jobId: string, version: number, next: JobCheckpoint): Promise<boolean> {
    const sets = [
      '#status = :status',
      'counts = :counts',
      'pages = :pages',
      'updatedAt = :at',
      'version = :next',
    ];
    const removes: string[] = [];
    if (next.cursor) sets.push('#cursor = :cursor');
    else removes.push('#cursor');
    if (next.lastError) sets.push('lastError = :err');
    else removes.push('lastError');
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'version = :version',
          ExpressionAttributeNames: { '#status': 'status', '#cursor': 'cursor' },
          ExpressionAttributeValues: {
            ':status': next.status,
            ':counts': next.counts,
            ':pages': next.pages,
            ':at': next.updatedAt,
            ':version': version,
            ':next': version + 1,
            ...(next.cursor ? { ':cursor': next.cursor } : {}),
            ...(next.lastError ? { ':err': next.lastError } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
