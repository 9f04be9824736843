import { type CfnElement, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { recallStateMachineName } from './recall-workflow.ts';
import type { WinbackStack } from './winback-stack.ts';

const ack = (resource: IConstruct, finding: string, reason: string) =>
  Validations.of(resource).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });

/**
 * The AWS Solutions findings that are design decisions, each acknowledged on the one resource it
 * concerns, with its reason. Grants acknowledge their own findings where they are made (see
 * WinbackRole, WinbackFunction.bindTable/bindTopic, workflowRole). Nothing is acknowledged for the
 * whole stack, so a finding on any other resource, or a new wildcard anywhere, fails the synth.
 */
export function acknowledgeNagFindings(stack: WinbackStack): void {
  const api = stack.api.api;
  ack(
    api,
    'COG4',
    'Every API method uses IAM (SigV4) authorization: callers are backend services and operators with IAM roles, not end users.',
  );
  ack(
    api,
    'APIG2',
    'Request bodies and parameters are validated in the handler with zod, which names each bad field; an API Gateway model would duplicate the schema.',
  );
  ack(
    api,
    'APIG3',
    'Every method needs IAM authorization and the stage is throttled; attach a WAF web ACL in front if your account policy requires one.',
  );
  ack(
    api.node.findChild('CloudWatchRole'),
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    'API Gateway needs this account-level role to write access logs.',
  );
  for (const machine of [stack.dailyScan.stateMachine, stack.recallWorkflow.stateMachine]) {
    ack(
      machine,
      'SF1',
      'State machines log ERROR events without execution data: full logging would copy every execution history (and its user ids) into CloudWatch; the history is in the console.',
    );
  }
  stack.dailyScan.scanFunction.role.acknowledge(
    `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${recallStateMachineName(stack)}:*]`,
    'The daily scan reads the status of recall executions (any execution of that one state machine) to free users whose recall ended without closing.',
  );
  // The report: reads the lake through Athena and writes reports/ (lib/daily-scan.ts, lib/lake.ts).
  const bucket = `<${stack.getLogicalId(stack.lake.bucket.node.defaultChild as CfnElement)}.Arn>`;
  const s3Reads =
    'grantRead/grantReadWrite on one prefix of the lake bucket: S3 names its object actions with wildcards (GetObject*, List*, GetBucket*).';
  const report = stack.dailyScan.reportFunction;
  if (report) {
    for (const action of ['GetObject*', 'List*', 'GetBucket*', 'DeleteObject*'])
      report.role.acknowledge(`IAM5[Action::s3:${action}]`, s3Reads);
    report.role.acknowledge(
      `IAM5[Resource::${bucket}/athena-results/*]`,
      'Athena writes each query result as a new object of its own name under the workgroup results prefix.',
    );
    report.role.acknowledge(
      `IAM5[Resource::${bucket}/reports/*]`,
      'The report writes reports/<day>/report.html, report.json and reports/latest.json: one object per day.',
    );
  }
  for (const action of ['GetObject*', 'List*', 'GetBucket*'])
    stack.api.handler.role.acknowledge(`IAM5[Action::s3:${action}]`, s3Reads);
  stack.api.handler.role.acknowledge(
    `IAM5[Resource::${bucket}/reports/*]`,
    'GET /reports/latest reads reports/latest.json and the day it names; nothing outside reports/.',
  );
}
