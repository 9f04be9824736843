import { ArnFormat, Stack, type StackProps } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ENV } from '../functions/adapters/environment.ts';
import { type Policy, parsePolicy } from '../functions/domain/policy.ts';
import { ContentError, checkContent, DEFAULT_CONTENT } from '../functions/domain/templates.ts';
import { WinbackApi } from './api.ts';
import { DailyScan } from './daily-scan.ts';
import { OperationsDashboard } from './dashboard.ts';
import { Lake } from './lake.ts';
import { acknowledgeNagFindings } from './nag-acknowledgments.ts';
import { Operators } from './operators.ts';
import { OperationsAlarms } from './ops-alarms.ts';
import { type RecallDeliveryConfig, RecallWorkflow, recallStateMachineName } from './recall-workflow.ts';
import { UserStore } from './user-store.ts';

export interface WinbackConfig {
  /** Operators' policy overrides; validated at synth so a bad file never deploys. */
  policy?: unknown;
  scanSegments?: number;
  scanSchedule?: { hour: number; minute: number; timeZone: string };
  delivery?: Partial<RecallDeliveryConfig>;
}

export const DEFAULT_CONFIG = {
  scanSegments: 8,
  scanSchedule: { hour: 9, minute: 0, timeZone: 'Asia/Shanghai' },
} as const;

export interface WinbackStackProps extends StackProps {
  config?: WinbackConfig;
}

/** The whole of winback: one construct per concern, composed here. */
export class WinbackStack extends Stack {
  readonly policy: Policy;
  readonly store: UserStore;
  readonly operators: Operators;
  readonly dailyScan: DailyScan;
  readonly recallWorkflow: RecallWorkflow;
  readonly api: WinbackApi;
  /** History bucket, Glue database and Athena workgroup: what the report step queries. */
  readonly lake: Lake;

  constructor(scope: Construct, id: string, props: WinbackStackProps = {}) {
    super(scope, id, props);
    const config = props.config ?? {};
    this.policy = parsePolicy(config.policy ?? {}, 'policy');
    // The wording is bundled into the Lambdas: an SMS the policy's amounts push past one segment never deploys.
    const contentProblems = checkContent(DEFAULT_CONTENT, this.policy);
    if (contentProblems.length > 0) throw new ContentError(contentProblems, 'config/content.json');
    const policyJson = JSON.stringify(this.policy);

    this.store = new UserStore(this, 'Store');
    this.operators = new Operators(this, 'Operators');
    const t = this.store.tables;
    this.recallWorkflow = new RecallWorkflow(this, 'Recall', {
      tables: {
        users: t.Users,
        recalls: t.Recalls,
        messages: t.Messages,
        inbox: t.Inbox,
        rewards: t.Rewards,
        sendSlots: t.SendSlots,
      },
      policyJson,
      delivery: { smsProvider: 'sns', ...config.delivery },
    });
    this.lake = new Lake(this, 'Lake');
    this.dailyScan = new DailyScan(this, 'DailyScan', {
      report: {
        lake: {
          bucket: this.lake.bucket,
          workgroupName: this.lake.workgroupName,
          databaseName: this.lake.databaseName,
          grantQuery: (grantee) => this.lake.grantQuery(grantee),
        },
      },
      users: this.store.tables.Users,
      operatorTopic: this.operators.topic,
      policyJson,
      segments: config.scanSegments ?? DEFAULT_CONFIG.scanSegments,
      schedule: config.scanSchedule ?? DEFAULT_CONFIG.scanSchedule,
    });
    // The scan starts recalls: it needs the workflow, the episodes table and the operator topic.
    const scan = this.dailyScan.scanFunction;
    scan.addEnvironment(ENV.recallStateMachineArn, this.recallWorkflow.stateMachine.stateMachineArn);
    this.recallWorkflow.stateMachine.grantStartExecution(scan);
    // To find recalls whose execution ended without closing them (see ScheduledRecalls.reconcile).
    scan.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          this.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${recallStateMachineName(this)}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    scan.bindTable(ENV.recallsTable, t.Recalls, 'RW').bindTopic(ENV.operatorTopicArn, this.operators.topic);

    this.api = new WinbackApi(this, 'Api', {
      tables: {
        users: t.Users,
        recalls: t.Recalls,
        rewards: t.Rewards,
        inbox: t.Inbox,
        events: t.Events,
        jobs: t.Jobs,
      },
      recallStateMachine: this.recallWorkflow.stateMachine,
      policyJson,
      lakeBucket: this.lake.bucket,
    });

    this.lake.bindSnapshotWriter(this.dailyScan.scanFunction);
    this.lake.bindFeedbackWriter(this.api.handler);
    this.lake.bindRecallOutcomeWriter(this.recallWorkflow.prepareFunction);
    this.lake.bindRecallOutcomeWriter(this.recallWorkflow.closeFunction);
    // Recalls closed outside their workflow leave their rows too: a manual start refused (API), an
    // execution that ended without Close (the scan's reconciliation, which reads the ledger and the
    // reward for the row).
    this.lake.bindRecallOutcomeWriter(this.api.handler);
    this.lake.bindRecallOutcomeWriter(scan);
    scan.bindTable(ENV.messagesTable, t.Messages, 'RO').bindTable(ENV.rewardsTable, t.Rewards, 'RO');
    this.lake.grantLatestReportRead(this.recallWorkflow.prepareFunction);

    this.operators.alarmOnFailedExecutions('DailyScanFailed', 'DailyScan', this.dailyScan.stateMachine);
    this.operators.alarmOnFailedExecutions('RecallFailed', 'Recall', this.recallWorkflow.stateMachine);
    this.operators.alarmOnDeadLetters(
      'DailyScanNotStarted',
      'The daily scan did not start (EventBridge Scheduler gave up)',
      this.dailyScan.deadLetters,
    );
    // Created after every function so that both cover all of them (see winbackFunctions).
    const workflows = [this.dailyScan, this.recallWorkflow].map((w) => ({
      name: w.node.id,
      stateMachine: w.stateMachine,
    }));
    new OperationsDashboard(this, 'Dashboard', { workflows, api: this.api.api, tables: t });
    new OperationsAlarms(this, 'OperationsAlarms', {
      topic: this.operators.topic,
      dailyScan: this.dailyScan.stateMachine,
      api: this.api.api,
      sendFunction: this.recallWorkflow.sendFunction,
    });
    acknowledgeNagFindings(this);
  }
}
