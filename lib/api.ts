import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../functions/adapters/environment.ts';
import { REPORT_ENV, REPORTS_PREFIX } from '../functions/adapters/report-store.ts';
import { API_ROUTES } from '../functions/domain/api-schemas.ts';
import { WinbackFunction } from './function.ts';

export interface WinbackApiProps {
  readonly tables: {
    readonly users: ITableV2;
    readonly recalls: ITableV2;
    readonly rewards: ITableV2;
    readonly inbox: ITableV2;
    readonly events: ITableV2;
    readonly jobs: ITableV2;
  };
  readonly recallStateMachine: IStateMachine;
  readonly policyJson: string;
  /** The lake bucket: GET /reports/latest reads reports/latest.json from it (lib/lake.ts). */
  readonly lakeBucket?: IBucket;
  /** Requests per second across the stage, and the burst above it. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

export const DEFAULT_API_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * The HTTP API: a REST API whose every method needs IAM (SigV4) authorization, in front of one
 * Lambda that routes, validates and answers. Each route is an explicit resource (visible in the
 * console, signable per path in IAM policies); an ANY method on each, and a catch-all proxy, send
 * wrong methods and unknown paths to the function too, so it answers 405/404 as it does locally
 * instead of API Gateway's "Missing Authentication Token".
 */
export class WinbackApi extends Construct {
  readonly api: RestApi;
  readonly handler: WinbackFunction;

  constructor(scope: Construct, id: string, props: WinbackApiProps) {
    super(scope, id);
    const t = props.tables;
    this.handler = new WinbackFunction(this, 'Handler', {
      handler: 'api',
      description: 'winback HTTP API: users, events, recalls, segments, assessments, feedback, inbox',
      // API Gateway gives up at 29 s; the function's own budget for segment pages ends at 20 s.
      timeout: Duration.seconds(29),
      environment: {
        [ENV.policy]: props.policyJson,
        [ENV.recallStateMachineArn]: props.recallStateMachine.stateMachineArn,
      },
    })
      .bindTable(ENV.usersTable, t.users, 'RW')
      .bindTable(ENV.recallsTable, t.recalls, 'RW')
      .bindTable(ENV.rewardsTable, t.rewards, 'RW')
      .bindTable(ENV.inboxTable, t.inbox, 'RW')
      // A claimed event is released (DeleteItem) when applying it fails, so the sender's retry applies it.
      .bindTable(ENV.eventsTable, t.events, 'RWD')
      .bindTable(ENV.jobsTable, t.jobs, 'RW');
    props.recallStateMachine.grantStartExecution(this.handler);
    if (props.lakeBucket) {
      this.handler.addEnvironment(REPORT_ENV.lakeBucket, props.lakeBucket.bucketName);
      props.lakeBucket.grantRead(this.handler, `${REPORTS_PREFIX}*`);
    }

    const throttle = props.throttle ?? DEFAULT_API_THROTTLE;
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'winback: churn early warning and recall',
      endpointTypes: [EndpointType.REGIONAL],
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      // Access logging needs the account-level CloudWatch role; the construct creates and keeps it.
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        // Errors only: INFO logs would write request bodies (phone numbers) to CloudWatch.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });

    // One resource policy statement for the whole API instead of one per method.
    const integration = new LambdaIntegration(this.handler, { scopePermissionToMethod: false });
    for (const route of API_ROUTES) {
      this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, integration, { operationName: route.operationId });
      // Every resource on the way gets ANY too, or `/users` alone would be API Gateway's 403.
      const segments = route.path.split('/').filter(Boolean);
      for (let depth = 1; depth <= segments.length; depth++) {
        const resource = this.api.root.resourceForPath(segments.slice(0, depth).join('/'));
        if (!resource.node.tryFindChild('ANY')) resource.addMethod('ANY', integration);
      }
    }
    this.api.root.addMethod('ANY', integration);
    this.api.root.addProxy({ defaultIntegration: integration, anyMethod: true });

    new CfnOutput(Stack.of(this), 'ApiUrl', {
      value: this.api.url,
      description: 'winback API base URL (IAM/SigV4 authorization, service execute-api)',
    });
  }
}
