import { type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { recallStateMachineName } from './recall-workflow.ts';

const ack = (stack: Stack, finding: string, reason: string) =>
  Validations.of(stack).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });

function arnToken(stack: Stack, resource: { node: { defaultChild?: unknown } }): string {
  return `<${stack.getLogicalId(resource.node.defaultChild as CfnElement)}.Arn>`;
}

/**
 * The AWS Solutions findings this stack accepts, each with its reason. Everything else cdk-nag
 * reports fails the synth. Findings are named one by one (per table, per function) rather than by
 * rule, so a new wildcard elsewhere still fails.
 */
export function acknowledgeNagFindings(stack: Stack): void {
  ack(
    stack,
    'COG4',
    'Every API method uses IAM (SigV4) authorization: callers are backend services and operators with IAM roles, not end users.',
  );
  ack(
    stack,
    'APIG2',
    'Request bodies and parameters are validated in the handler with zod, which names each bad field; an API Gateway model would duplicate the schema.',
  );
  ack(
    stack,
    'APIG3',
    'Every method needs IAM authorization and the stage is throttled; attach a WAF web ACL in front if your account policy requires one.',
  );
  ack(
    stack,
    'SF1',
    'State machines log ERROR events without execution data: full logging would copy every execution history (and its user ids) into CloudWatch; the history is in the console.',
  );
  ack(
    stack,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The managed basic-execution policy only lets a function write its own logs.',
  );
  ack(
    stack,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    'API Gateway needs this account-level role to write access logs.',
  );
  ack(
    stack,
    'IAM5[Resource::*]',
    'X-Ray trace upload, Step Functions log delivery and SMS to a phone number (sns:Publish without a topic) have no resource to scope to.',
  );
  ack(
    stack,
    'IAM5[Action::kms:GenerateDataKey*]',
    'Publishing to the KMS-encrypted operator topic needs data keys from its key; the grant is scoped to that key.',
  );
  for (const table of stack.node.findAll().filter((c): c is TableV2 => c instanceof TableV2)) {
    ack(
      stack,
      `IAM5[Resource::${arnToken(stack, table)}/index/*]`,
      'Table data grants include its byUser index, which the functions query.',
    );
  }
  ack(
    stack,
    `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${recallStateMachineName(stack)}:*]`,
    'The daily scan reads the status of recall executions (any execution of that one state machine) to free users whose recall ended without closing.',
  );
  for (const fn of stack.node.findAll().filter((c): c is LambdaFunction => c instanceof LambdaFunction)) {
    ack(
      stack,
      `IAM5[Resource::${arnToken(stack, fn)}:*]`,
      'A state machine may invoke any version of the function it runs.',
    );
  }
}
