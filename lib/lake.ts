import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../functions/adapters/environment.ts';

/** Glue column types of the lake contract; `day` is the partition, not a column (Hive forbids both). */
const SNAPSHOT_COLUMNS: CfnTable.ColumnProperty[] = [
  { name: 'daynumber', type: 'int' },
  { name: 'userid', type: 'string' },
  { name: 'status', type: 'string' },
  { name: 'level', type: 'string' },
  { name: 'score', type: 'int' },
  { name: 'lifecycle', type: 'string' },
  { name: 'channel', type: 'string' },
  { name: 'reasoncodes', type: 'array<string>' },
  { name: 'registeredmonth', type: 'string' },
  { name: 'investcount', type: 'int' },
  { name: 'maxinvestfen', type: 'bigint' },
  { name: 'totalinvestedfen', type: 'bigint' },
  { name: 'balancefen', type: 'bigint' },
  { name: 'heldbonusproduct', type: 'boolean' },
  { name: 'dayssincelogin', type: 'int' },
  { name: 'dayssinceinvest', type: 'int' },
  { name: 'churnreason', type: 'string' },
];

const FEEDBACK_COLUMNS: CfnTable.ColumnProperty[] = [
  { name: 'daynumber', type: 'int' },
  { name: 'userid', type: 'string' },
  { name: 'feedbackid', type: 'string' },
  { name: 'churnreason', type: 'string' },
  { name: 'issues', type: 'array<string>' },
  { name: 'at', type: 'string' },
];

/** One row per recall or holdout draw (functions/domain/effectiveness.ts RecallOutcomeRow); `day` is its start day. */
const RECALL_COLUMNS: CfnTable.ColumnProperty[] = [
  { name: 'recallid', type: 'string' },
  { name: 'userid', type: 'string' },
  { name: 'trigger', type: 'string' },
  { name: 'startedday', type: 'string' },
  { name: 'starteddaynumber', type: 'int' },
  { name: 'closedday', type: 'string' },
  { name: 'closeddaynumber', type: 'int' },
  { name: 'outcome', type: 'string' },
  { name: 'winningstep', type: 'string' },
  { name: 'holdout', type: 'boolean' },
  { name: 'level', type: 'string' },
  { name: 'lifecycle', type: 'string' },
  { name: 'channel', type: 'string' },
  { name: 'strategies', type: 'array<string>' },
  { name: 'strategy', type: 'string' },
  { name: 'stepssent', type: 'array<string>' },
  { name: 'smscount', type: 'int' },
  { name: 'pushcount', type: 'int' },
  { name: 'inappcount', type: 'int' },
  { name: 'smsdaynumber', type: 'int' },
  { name: 'smsskipped', type: 'boolean' },
  { name: 'rewardfen', type: 'bigint' },
  { name: 'rewardunlocked', type: 'boolean' },
  { name: 'reinvestedfen', type: 'bigint' },
  { name: 'relapsedwithin30days', type: 'boolean' },
];

export const LAKE_TABLES = ['snapshots', 'feedback', 'recalls'] as const;
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

export interface LakeProps {
  /** Athena cancels a query that would scan more than this (default 10 GB, about 300 M snapshot rows). */
  bytesScannedCutoffPerQuery?: number;
  /** Partition projection starts here (YYYY-MM-DD); backfilled days before it are not queried. */
  firstDay?: string;
  /** History is the product's memory: kept by default when the stack goes. */
  removalPolicy?: RemovalPolicy;
}

/**
 * The history: an S3 bucket of gzip JSON lines in Hive-style `day=` partitions, a Glue database with
 * the `snapshots` and `feedback` tables (partition projection, so no crawler and no MSCK REPAIR),
 * and an Athena workgroup with its own results location and a per-query scan limit.
 */
export class Lake extends Construct {
  readonly bucket: Bucket;
  readonly databaseName: string;
  readonly workgroupName: string;
  /** `s3://bucket/athena-results/`: the workgroup enforces it. */
  readonly resultsLocation: string;
  readonly database: CfnDatabase;
  readonly tables: Record<(typeof LAKE_TABLES)[number], CfnTable>;
  readonly workgroup: CfnWorkGroup;

  constructor(scope: Construct, id: string, props: LakeProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        // Reports read the last few months; older history is read rarely and costs less in IA.
        ...LAKE_TABLES.map((table) => ({
          id: `${table}-to-infrequent-access`,
          prefix: `${table}/`,
          transitions: [{ storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) }],
        })),
        { id: 'athena-results-expire', prefix: ATHENA_RESULTS_PREFIX, expiration: Duration.days(30) },
      ],
    });
    const bucketArn = `<${stack.getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>`;
    for (const table of LAKE_TABLES) {
      Validations.of(stack).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${bucketArn}/${table}/*]`,
        reason: `A writer puts objects of any name under ${table}/ (one per day and unit) and nowhere else.`,
      });
    }
    Validations.of(stack).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::s3:Abort*]',
      reason: 'grantPut includes aborting its own multipart uploads; scoped to the lake prefixes.',
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'The lake is written only by the scan and API functions (CloudTrail records their calls); server access logs would need a second bucket for no reader.',
    });

    // Glue names: lower case, letters, digits and underscores.
    this.databaseName = `${stack.stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_lake`;
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: 'winback assessment history and feedback' },
    });
    const firstDay = props.firstDay ?? '2024-01-01';
    const table = (name: (typeof LAKE_TABLES)[number], columns: CfnTable.ColumnProperty[]) => {
      const location = `s3://${this.bucket.bucketName}/${name}/`;
      const t = new CfnTable(this, `${name[0]!.toUpperCase()}${name.slice(1)}Table`, {
        catalogId: stack.account,
        databaseName: this.databaseName,
        tableInput: {
          name,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys: [{ name: 'day', type: 'string' }],
          parameters: {
            classification: 'json',
            compressionType: 'gzip',
            'projection.enabled': 'true',
            'projection.day.type': 'date',
            'projection.day.format': 'yyyy-MM-dd',
            'projection.day.range': `${firstDay},NOW`,
            'projection.day.interval': '1',
            'projection.day.interval.unit': 'DAYS',
            'storage.location.template': `${location}day=\${day}/`,
          },
          storageDescriptor: {
            location,
            columns,
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
              // The rows are camelCase; Glue columns are lower case.
              parameters: { 'case.insensitive': 'true', 'ignore.malformed.json': 'false' },
            },
          },
        },
      });
      t.node.addDependency(this.database);
      return t;
    };
    this.tables = {
      snapshots: table('snapshots', SNAPSHOT_COLUMNS),
      feedback: table('feedback', FEEDBACK_COLUMNS),
      recalls: table('recalls', RECALL_COLUMNS),
    };

    this.workgroupName = `${stack.stackName}-lake`;
    this.resultsLocation = `s3://${this.bucket.bucketName}/${ATHENA_RESULTS_PREFIX}`;
    this.workgroup = new CfnWorkGroup(this, 'Workgroup', {
      name: this.workgroupName,
      description: 'winback reports over the assessment history',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.resultsLocation,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }

  /** The daily scan appends snapshot parts: put to `snapshots/` and nothing else. */
  bindSnapshotWriter(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.lakeBucket, this.bucket.bucketName);
    this.bucket.grantPut(fn, 'snapshots/*');
  }

  /** Prepare and Close keep each recall's outcome row: put to `recalls/` and nothing else. */
  bindRecallOutcomeWriter(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.lakeBucket, this.bucket.bucketName);
    this.bucket.grantPut(fn, 'recalls/*');
  }

  /** Prepare reads the last report's SMS-step figures (`recall.skipSmsWithoutUplift`). */
  grantLatestReportRead(fn: IGrantable): void {
    grantLatestReportRead(fn, this.bucket);
  }

  /** The API keeps each feedback answer: put to `feedback/` and nothing else. */
  bindFeedbackWriter(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.lakeBucket, this.bucket.bucketName);
    this.bucket.grantPut(fn, 'feedback/*');
  }

  /** For the report step: read the history, run queries in the workgroup, keep their results. */
  grantQuery(grantee: IGrantable): void {
    for (const table of LAKE_TABLES) this.bucket.grantRead(grantee, `${table}/*`);
    this.bucket.grantReadWrite(grantee, `${ATHENA_RESULTS_PREFIX}*`);
    grantAthenaQueries(grantee, this, {
      workgroupName: this.workgroupName,
      databaseName: this.databaseName,
      tables: LAKE_TABLES,
    });
  }
}

/**
 * Athena queries in one workgroup over a Glue database's tables (`['*']` for all of them): the
 * report function's rights besides reading the objects, for the lake and for a stand-in lake.
 */
export function grantAthenaQueries(
  grantee: IGrantable,
  scope: Construct,
  lake: { workgroupName: string; databaseName: string; tables: readonly string[] },
): void {
  const stack = Stack.of(scope);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
      ],
      resources: [
        stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: lake.workgroupName }),
      ],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
      resources: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: lake.databaseName }),
        ...lake.tables.map((t) =>
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${lake.databaseName}/${t}` }),
        ),
      ],
    }),
  );
}

/** `reports/latest.json` and nothing else: one object, one action (grantRead would add GetObject*, List*, GetBucket*). */
export function grantLatestReportRead(grantee: IGrantable, bucket: IBucket): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects('reports/latest.json')],
    }),
  );
}
