import { Duration, Stack, Tags, TimeZone, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  LogLevel,
  Map as MapState,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ENV, TAGS } from '../functions/adapters/environment.ts';
import { REPORT_ENV, REPORTS_PREFIX } from '../functions/adapters/report-store.ts';
import { WinbackFunction } from './function.ts';
import { workflowRole } from './iam.ts';
import { grantAthenaQueries, grantLatestReportRead } from './lake.ts';
import { RETRY_POLICY, retryTransient } from './retries.ts';

export const WORKFLOW_TAG = TAGS.workflow;

/** What the report step needs of the lake; lib/lake.ts provides it (bucket, Athena workgroup, Glue database). */
export interface LakeForReports {
  bucket: IBucket;
  workgroupName: string;
  databaseName: string;
  /**
   * Read of the lake's tables, Athena's results prefix and the catalog (lib/lake.ts). Without it the
   * report function gets the whole bucket and the workgroup, which only a stand-in lake should need.
   */
  grantQuery?(grantee: IGrantable): void;
}

export interface DailyReportProps {
  lake: LakeForReports;
  /** Labels of the HTML report (default zh-CN). */
  locale?: 'zh-CN' | 'en';
  /** Backtest horizon in days (default 30). */
  horizonDays?: number;
}

export interface DailyScanProps {
  users: ITableV2;
  operatorTopic: ITopic;
  policyJson: string;
  /** Parallel Scan segments; each is one Map iteration and one Lambda at a time. */
  segments: number;
  /** Local wall-clock time of the daily run. */
  schedule: { hour: number; minute: number; timeZone: string };
  /** Extra environment the scan function needs (the recall workflow adds its ARN here). */
  environment?: Record<string, string>;
  /** When given, the run ends by writing the day's report from the lake (Athena). */
  report?: DailyReportProps;
}

/**
 * The daily assessment: a scheduled state machine that fans out over parallel Scan segments.
 * A segment that nears its Lambda timeout returns a cursor and the loop picks it up again.
 */
export class DailyScan extends Construct {
  readonly stateMachine: StateMachine;
  readonly scanFunction: WinbackFunction;
  readonly summaryFunction: WinbackFunction;
  /** Scheduled starts of the daily scan that failed after every retry: each one is a day not assessed. */
  readonly deadLetters: Queue;
  readonly reportFunction: WinbackFunction | undefined;

  constructor(scope: Construct, id: string, props: DailyScanProps) {
    super(scope, id);
    if (!Number.isInteger(props.segments) || props.segments < 1 || props.segments > 1000) {
      throw new Error(`scan segments must be a whole number from 1 to 1000, got ${props.segments}`);
    }

    this.scanFunction = new WinbackFunction(this, 'ScanSegment', {
      handler: 'scan-segment',
      description: 'Assesses the users of one parallel-scan segment and starts their recalls',
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: { [ENV.policy]: props.policyJson, ...props.environment },
    }).bindTable(ENV.usersTable, props.users, 'RW');

    this.summaryFunction = new WinbackFunction(this, 'ScanSummary', {
      handler: 'scan-summary',
      description: 'Adds up the segments of a daily scan and sends operators the digest',
    }).bindTopic(ENV.operatorTopicArn, props.operatorTopic);

    const segments = Array.from({ length: props.segments }, (_, i) => i);

    const assessSegment = retryTransient(
      new LambdaInvoke(this, 'Assess users in the segment', {
        lambdaFunction: this.scanFunction,
        outputPath: '$.Payload',
        retryOnServiceExceptions: false,
      }),
    );
    // A failed segment must not cost the other segments their digest: it is noted, the run goes on,
    // and the summary reports it and then fails the execution so the alarm fires.
    assessSegment.addCatch(
      new Pass(this, 'Note the failed segment', {
        parameters: { 'segment.$': '$.segment', failed: true, 'error.$': '$.error' },
      }),
      { resultPath: '$.error' },
    );
    const segmentLoop = assessSegment.next(
      new Choice(this, 'Is the segment finished?')
        .when(Condition.booleanEquals('$.done', false), assessSegment)
        .otherwise(new Succeed(this, 'Segment finished')),
    );

    const everySegment = new MapState(this, 'Assess every segment', {
      itemsPath: '$.segments',
      itemSelector: { 'asOf.$': '$.asOf', 'segment.$': '$$.Map.Item.Value', totalSegments: props.segments },
      maxConcurrency: props.segments,
      resultPath: '$.segmentResults',
    }).itemProcessor(segmentLoop);
    everySegment.addCatch(new Fail(this, 'Daily scan failed', { error: 'DailyScanFailed' }), {
      resultPath: '$.error',
    });

    const summarize = retryTransient(
      new LambdaInvoke(this, 'Summarize the run and tell operators', {
        lambdaFunction: this.summaryFunction,
        payload: TaskInput.fromObject({
          'asOf.$': '$.asOf',
          'segments.$': '$.segmentResults',
          // For the scan's duration metric: the run's own start, whatever day it assesses.
          'startedAt.$': '$$.Execution.StartTime',
        }),
        outputPath: '$.Payload',
        retryOnServiceExceptions: false,
      }),
      4,
    );
    summarize.addCatch(
      new Fail(this, 'Some segments failed', { error: 'SegmentsFailed', cause: 'see the digest' }),
      {
        errors: ['SegmentsFailed'],
        resultPath: '$.error',
      },
    );
    summarize.addCatch(new Fail(this, 'Digest failed', { error: 'DigestFailed' }), { resultPath: '$.error' });

    const split = new Pass(this, 'Split the user table into segments', {
      result: Result.fromArray(segments),
      resultPath: '$.segments',
    });
    const chain = new Choice(this, 'Was a day given?')
      .when(Condition.isPresent('$.asOf'), split)
      .otherwise(
        new Pass(this, 'Assess as of now', { parameters: { 'asOf.$': '$$.Execution.StartTime' } }).next(
          split,
        ),
      )
      .afterwards();
    split.next(everySegment).next(summarize);
    if (props.report) {
      this.reportFunction = this.reportStep(props.report, props);
      // The digest names where the report will be, and carries the recall figures of the last one:
      // the summary may read reports/latest.json and nothing else of the bucket.
      this.summaryFunction.addEnvironment(REPORT_ENV.lakeBucket, props.report.lake.bucket.bucketName);
      grantLatestReportRead(this.summaryFunction, props.report.lake.bucket);
      const writeReport = retryTransient(
        new LambdaInvoke(this, 'Write the daily report', {
          lambdaFunction: this.reportFunction,
          payload: TaskInput.fromObject({ 'asOf.$': '$.asOf' }),
          resultSelector: {
            'day.$': '$.Payload.day',
            'html.$': '$.Payload.html',
            'json.$': '$.Payload.json',
          },
          resultPath: '$.report',
          retryOnServiceExceptions: false,
        }),
        2,
      );
      // The digest has gone out; a failed report fails the run so the alarm fires.
      writeReport.addCatch(new Fail(this, 'Report failed', { error: 'ReportFailed' }), {
        resultPath: '$.error',
      });
      summarize.next(writeReport);
    }

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      role: workflowRole(this, [
        this.scanFunction,
        this.summaryFunction,
        ...(this.reportFunction ? [this.reportFunction] : []),
      ]),
      stateMachineName: `${Stack.of(this).stackName}-DailyScan`,
      stateMachineType: StateMachineType.STANDARD,
      comment: 'winback daily assessment of every user',
      definitionBody: DefinitionBody.fromChainable(chain),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH }),
        level: LogLevel.ERROR,
        includeExecutionData: false,
      },
    });
    Tags.of(this.stateMachine).add(WORKFLOW_TAG, 'DailyScan');

    this.deadLetters = new Queue(this, 'ScheduleDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Long enough for an operator back from a holiday to see which day was missed.
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the daily scan schedule; its alarm pages operators.',
    });

    this.scheduleRun(props);
  }

  /** The report function: Athena over the lake, the report written back to the lake bucket. */
  private reportStep(report: DailyReportProps, props: DailyScanProps): WinbackFunction {
    const { lake } = report;
    const fn = new WinbackFunction(this, 'Report', {
      handler: 'report',
      description: 'Runs the report queries on Athena and writes the daily report to the lake bucket',
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: {
        [ENV.policy]: props.policyJson,
        [REPORT_ENV.lakeBucket]: lake.bucket.bucketName,
        [REPORT_ENV.workgroup]: lake.workgroupName,
        [REPORT_ENV.database]: lake.databaseName,
        [REPORT_ENV.locale]: report.locale ?? 'zh-CN',
        [REPORT_ENV.horizonDays]: String(report.horizonDays ?? 30),
      },
      bundleFiles: [
        { from: 'queries/*.sql', to: 'queries' },
        { from: 'node_modules/@fontsource/noto-sans-sc/unicode.json', to: 'fonts/noto-sans-sc' },
        {
          from: 'node_modules/@fontsource/noto-sans-sc/files/*-400-normal.woff2',
          to: 'fonts/noto-sans-sc/files',
        },
      ],
    }).bindTopic(ENV.operatorTopicArn, props.operatorTopic);
    // Reads the lake, writes Athena's results (the workgroup's location in the lake bucket) and the report.
    // Writes the report under reports/ only; reads what the queries need (the lake grants it).
    lake.bucket.grantReadWrite(fn, `${REPORTS_PREFIX}*`);
    if (lake.grantQuery) {
      lake.grantQuery(fn);
      return fn;
    }
    lake.bucket.grantReadWrite(fn);
    grantAthenaQueries(fn, this, {
      workgroupName: lake.workgroupName,
      databaseName: lake.databaseName,
      tables: ['*'],
    });
    return fn;
  }

  private scheduleRun(props: DailyScanProps): void {
    new Schedule(this, 'Schedule', {
      description: 'Starts the daily assessment',
      schedule: ScheduleExpression.cron({
        hour: String(props.schedule.hour),
        minute: String(props.schedule.minute),
        timeZone: TimeZone.of(props.schedule.timeZone),
      }),
      target: new StepFunctionsStartExecution(this.stateMachine, {
        input: ScheduleTargetInput.fromObject({ asOf: ContextAttribute.scheduledTime }),
        retryAttempts: RETRY_POLICY.scheduler.retryAttempts,
        maxEventAge: Duration.hours(RETRY_POLICY.scheduler.maxEventAgeHours),
        deadLetterQueue: this.deadLetters,
      }),
    });
  }
}
