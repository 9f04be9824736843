import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CfnElement, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { TAGS } from '../functions/adapters/environment.ts';
import { WinbackRole } from './iam.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Lambda runs the same Node major the tests run on (the `node` devDependency). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

export interface WinbackFunctionProps {
  /** File under functions/handlers, without extension. */
  handler: string;
  description: string;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
  /**
   * Files the handler reads at run time, copied next to the bundle: `from` is a path or glob under
   * the project root, `to` a folder in the bundle (the report function's .sql files and font).
   */
  bundleFiles?: { from: string; to: string }[];
}

function copyIntoBundle(files: { from: string; to: string }[]) {
  return {
    beforeBundling: (): string[] => [],
    beforeInstall: (): string[] => [],
    afterBundling: (inputDir: string, outputDir: string): string[] =>
      files.flatMap(({ from, to }) => [
        `mkdir -p "${path.posix.join(outputDir, to)}"`,
        `cp -R ${path.posix.join(inputDir, from)} "${path.posix.join(outputDir, to)}/"`,
      ]),
  };
}

/** Tag naming the handler file of a function. */
export const HANDLER_TAG = TAGS.handler;

/**
 * `RW` reads and writes single items (PutItem, UpdateItem): what every step needs. `RWD` also
 * deletes and batch-writes; only a function whose use case calls DeleteItem or BatchWriteItem gets it.
 */
export type AccessMode = 'RO' | 'RW' | 'RWD' | 'NONE';

/** The single-item writes of `RW`: no DeleteItem, no BatchWriteItem. */
export const ITEM_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/**
 * One place for the defaults every winback function shares: runtime, arm64, tracing, JSON logs
 * with retention, ESM bundles with source maps. `bind…` helpers pair the env var with the grant.
 */
export class WinbackFunction extends NodejsFunction {
  declare readonly role: WinbackRole;

  constructor(scope: Construct, id: string, props: WinbackFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole (which may create and write any log
    // group): the function writes to its own log group only, and X-Ray is its only grant on "*".
    const role = new WinbackRole(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `winback ${props.handler} function`,
      accepts: ['Tracing'],
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: path.join(root, 'functions', 'handlers', `${props.handler}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      role,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'winback',
        ...props.environment,
      },
      depsLockFilePath: path.join(root, 'package-lock.json'),
      projectRoot: root,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // Some SDK dependencies still call require(); ESM bundles need it defined.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        ...(props.bundleFiles?.length ? { commandHooks: copyIntoBundle(props.bundleFiles) } : {}),
      },
    });
    // The embedded runtime finds the handler behind each workflow task by this tag.
    Tags.of(this).add(HANDLER_TAG, props.handler);
  }

  /**
   * `NONE` passes only the name: the shared wiring builds every repository, but a function gets
   * access only to the tables it really reads or writes.
   */
  bindTable(envName: string, table: ITableV2, accessMode: AccessMode): this {
    this.addEnvironment(envName, table.tableName);
    if (accessMode === 'NONE') return this;
    table.grantReadData(this);
    if (accessMode === 'RW') table.grant(this, ...ITEM_WRITE_ACTIONS);
    else if (accessMode === 'RWD') table.grantWriteData(this);
    // Table grants include the table's indexes ("<table>/index/*"); the byUser index is queried.
    this.role.acknowledge(
      `IAM5[Resource::<${Stack.of(this).getLogicalId(table.node.defaultChild as CfnElement)}.Arn>/index/*]`,
      'Table grants include its byUser index, which the function queries; the wildcard names indexes of this one table.',
    );
    return this;
  }

  bindTopic(envName: string, topic: ITopic): this {
    this.addEnvironment(envName, topic.topicArn);
    topic.grantPublish(this);
    // Publishing to a KMS-encrypted topic needs data keys of its key; the grant names that key alone.
    this.role.acknowledge(
      'IAM5[Action::kms:GenerateDataKey*]',
      'Publishing to the KMS-encrypted operator topic needs data keys from its key; the grant is scoped to that key.',
    );
    return this;
  }
}
