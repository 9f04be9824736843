import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import { AttributeType, Billing, type ITableV2, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TAGS } from '../functions/adapters/environment.ts';

/** Tag read by the embedded runtime to name its local copy of each table. */
export const TABLE_TAG = TAGS.table;

interface TableSpec {
  partitionKey: string;
  sortKey?: string;
  byUser?: { sortKey: string };
  timeToLive?: string;
  /** Operational data that can be rebuilt may go with the stack; user data never does. */
  retain: boolean;
}

/**
 * Every table winback keeps. The stack deploys these and the embedded runtime creates its local
 * tables from the synthesized template, so this is the only definition of keys and indexes.
 */
export const TABLES = {
  Users: { partitionKey: 'userId', retain: true },
  Recalls: { partitionKey: 'recallId', byUser: { sortKey: 'startedAt' }, retain: true },
  Messages: { partitionKey: 'recallId', sortKey: 'step', byUser: { sortKey: 'sentAt' }, retain: true },
  Inbox: { partitionKey: 'userId', sortKey: 'messageId', retain: true },
  Rewards: { partitionKey: 'rewardId', byUser: { sortKey: 'issuedAt' }, retain: true },
  Events: { partitionKey: 'eventId', timeToLive: 'expiresAt', retain: false },
  Jobs: { partitionKey: 'jobId', retain: false },
  /** Sends claimed per channel and second (`sms#1764118800`), for pacing; expire two days on. */
  SendSlots: { partitionKey: 'slot', timeToLive: 'expiresAt', retain: false },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;
export const BY_USER_INDEX = 'byUser';

export class UserStore extends Construct {
  readonly tables: Record<TableName, ITableV2>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const tables = {} as Record<TableName, ITableV2>;
    for (const [name, spec] of Object.entries(TABLES) as [TableName, TableSpec][]) {
      const table = new TableV2(this, name, {
        partitionKey: { name: spec.partitionKey, type: AttributeType.STRING },
        sortKey: spec.sortKey ? { name: spec.sortKey, type: AttributeType.STRING } : undefined,
        billing: Billing.onDemand(),
        encryption: TableEncryptionV2.awsManagedKey(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: spec.retain,
        removalPolicy: spec.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        timeToLiveAttribute: spec.timeToLive,
        globalSecondaryIndexes: spec.byUser
          ? [
              {
                indexName: BY_USER_INDEX,
                partitionKey: { name: 'userId', type: AttributeType.STRING },
                sortKey: { name: spec.byUser.sortKey, type: AttributeType.STRING },
              },
            ]
          : undefined,
      });
      Tags.of(table).add(TABLE_TAG, name);
      tables[name] = table;
    }
    this.tables = tables;
  }
}
