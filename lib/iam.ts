import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import {
  type AddToPrincipalPolicyResult,
  Effect,
  type IPrincipal,
  Policy,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** The cdk-nag finding for an allowed action on `Resource: *`. */
export const WILDCARD_RESOURCE_FINDING = 'AwsSolutions::AwsSolutions-IAM5[Resource::*]';

/**
 * Grants that AWS authorizes only on `Resource: *`: there is no ARN to scope them to. Each lives
 * in a policy of its own, named here, and only that policy carries the cdk-nag acknowledgment,
 * with this reason. A wildcard grant of anything else lands in the role's default policy, which
 * carries none, so the synth fails.
 */
export const UNSCOPABLE_GRANTS = {
  Tracing: {
    actions: [
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ],
    reason: 'X-Ray accepts trace segments and sampling-rule reads only on "*"; traces carry no user data.',
  },
  LogDelivery: {
    actions: [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
    reason:
      'Step Functions sets up its vended log delivery with CloudWatch Logs delivery APIs that are authorized only on "*".',
  },
  SmsToPhoneNumbers: {
    actions: ['sns:Publish', 'sns:CheckIfPhoneNumberIsOptedOut'],
    reason:
      'SMS to a phone number (sns:Publish with PhoneNumber) and the opt-out lookup have no resource ARN; publishing to any topic is denied in the same role.',
  },
} as const;

export type UnscopableGrant = keyof typeof UNSCOPABLE_GRANTS;

/** Which unscopable grant a statement is, if it is exactly one: allowed, on `*` alone, actions all from the list. */
function unscopableKind(
  statement: PolicyStatement,
  accepted: readonly UnscopableGrant[],
): UnscopableGrant | undefined {
  const json = statement.toStatementJson() as {
    Effect?: string;
    Action?: string | string[];
    Resource?: string | string[];
    Condition?: unknown;
    NotAction?: unknown;
    NotResource?: unknown;
    Principal?: unknown;
  };
  if (json.Effect !== Effect.ALLOW || json.NotAction || json.NotResource || json.Principal || json.Condition)
    return undefined;
  const resources = [json.Resource ?? []].flat();
  if (resources.length !== 1 || resources[0] !== '*') return undefined;
  const actions = [json.Action ?? []].flat();
  return accepted.find((kind) =>
    actions.every((a) => (UNSCOPABLE_GRANTS[kind].actions as readonly string[]).includes(a)),
  );
}

export interface WinbackRoleProps {
  assumedBy: IPrincipal;
  description?: string;
  /**
   * The unscopable grants constructs may add on their own (X-Ray when tracing is on, log delivery
   * for a state machine). They are moved to their acknowledged policy; anything else on `*` is not.
   */
  accepts: readonly UnscopableGrant[];
}

/**
 * A role that keeps wildcard-resource grants apart: the accepted unscopable ones go to a policy
 * per kind, acknowledged there with its reason; every other statement goes to the default policy,
 * where cdk-nag still sees it. No managed policy is attached.
 */
export class WinbackRole extends Role {
  private readonly accepts: readonly UnscopableGrant[];
  private readonly unscopable = new Map<UnscopableGrant, Policy>();

  constructor(scope: Construct, id: string, props: WinbackRoleProps) {
    super(scope, id, { assumedBy: props.assumedBy, description: props.description });
    this.accepts = props.accepts;
  }

  override addToPrincipalPolicy(statement: PolicyStatement): AddToPrincipalPolicyResult {
    const kind = this.accepts ? unscopableKind(statement, this.accepts) : undefined;
    if (!kind) return super.addToPrincipalPolicy(statement);
    const policy = this.grantUnscopable(
      kind,
      [...(statement.toStatementJson().Action as string[] | string[])].flat(),
    );
    return { statementAdded: true, policyDependable: policy };
  }

  /** Allows these actions of one unscopable grant on `*`, in that grant's own acknowledged policy. */
  grantUnscopable(
    kind: UnscopableGrant,
    actions: readonly string[] = UNSCOPABLE_GRANTS[kind].actions,
  ): Policy {
    const allowed = UNSCOPABLE_GRANTS[kind].actions as readonly string[];
    const stray = actions.filter((a) => !allowed.includes(a));
    if (stray.length > 0) throw new Error(`${stray.join(', ')} is not part of the ${kind} grant`);
    let policy = this.unscopable.get(kind);
    if (!policy) {
      policy = new Policy(this, kind, { roles: [this] });
      Validations.of(policy).acknowledge({
        id: WILDCARD_RESOURCE_FINDING,
        reason: UNSCOPABLE_GRANTS[kind].reason,
      });
      this.unscopable.set(kind, policy);
    }
    policy.addStatements(new PolicyStatement({ actions: [...actions], resources: ['*'] }));
    return policy;
  }

  /** Acknowledges a cdk-nag finding on this role's default policy (where grants land), with its reason. */
  acknowledge(finding: string, reason: string): void {
    Validations.of(this).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });
  }
}

/**
 * The role of a state machine that invokes these functions: tracing and log delivery are its
 * unscopable grants; invoking "any version of" each of its own functions is acknowledged by name.
 */
export function workflowRole(scope: Construct, functions: readonly IFunction[]): WinbackRole {
  const role = new WinbackRole(scope, 'WorkflowRole', {
    assumedBy: new ServicePrincipal('states.amazonaws.com'),
    accepts: ['Tracing', 'LogDelivery'],
  });
  const stack = Stack.of(scope);
  for (const fn of functions) {
    role.acknowledge(
      `IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      'A Lambda task may invoke any version of the one function it runs (the function ARN with ":*").',
    );
  }
  return role;
}
