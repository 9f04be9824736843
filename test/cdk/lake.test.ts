import { App, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { Lake } from '../../lib/lake.ts';
import { WinbackStack } from '../../lib/winback-stack.ts';

let template: Template;
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
let resources: Resources;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new WinbackStack(app, 'Winback'));
  resources = template.toJSON().Resources as Resources;
});

const bucketId = () => Object.keys(template.findResources('AWS::S3::Bucket'))[0]!;

/** The S3 actions and object ARNs a function's role may use on the lake bucket. */
function lakeGrants(handlerTag: string): { actions: string[]; resource: string }[] {
  const fnId = Object.entries(resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      ((r.Properties.Tags ?? []) as { Key: string; Value: string }[]).some(
        (t) => t.Key === 'winback:handler' && t.Value === handlerTag,
      ),
  )![0];
  const roleId = (resources[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  const out: { actions: string[]; resource: string }[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    if (!(r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleId)) continue;
    const doc = r.Properties.PolicyDocument as {
      Statement: { Action: string | string[]; Resource: unknown }[];
    };
    for (const st of doc.Statement) {
      const text = JSON.stringify(st.Resource);
      if (!text.includes(bucketId())) continue;
      const path = /"\/([a-z-]+\/\*)"/.exec(text)?.[1] ?? text;
      out.push({ actions: [st.Action].flat(), resource: path });
    }
  }
  return out;
}

describe('the lake on AWS', () => {
  it('keeps history in an encrypted, private, TLS-only bucket that moves to infrequent access after 90 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'snapshots/',
            Status: 'Enabled',
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
          }),
          Match.objectLike({ Prefix: 'athena-results/', ExpirationInDays: 30 }),
        ]),
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('describes snapshots and feedback as Glue tables partitioned by day with date projection and the JSON SerDe', () => {
    const columns = new Capture();
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'snapshots',
        TableType: 'EXTERNAL_TABLE',
        PartitionKeys: [{ Name: 'day', Type: 'string' }],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy-MM-dd',
          'projection.day.range': '2024-01-01,NOW',
          'storage.location.template': Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        }),
        StorageDescriptor: Match.objectLike({
          Columns: columns,
          SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' }),
        }),
      }),
    });
    const names = (columns.asArray() as { Name: string; Type: string }[]).map((c) => `${c.Name}:${c.Type}`);
    expect(names).toContain('reasoncodes:array<string>');
    expect(names).toContain('dayssinceinvest:int');
    expect(names).toContain('balancefen:bigint');
    // The partition supplies `day`; a column of the same name would be refused by Glue.
    expect(names.some((n) => n.startsWith('day:'))).toBe(false);
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: 'feedback', PartitionKeys: [{ Name: 'day', Type: 'string' }] }),
    });
    template.resourceCountIs('AWS::Glue::Database', 1);
  });

  it('describes the recall outcomes as a Glue table partitioned by start day', () => {
    const columns = new Capture();
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'recalls',
        PartitionKeys: [{ Name: 'day', Type: 'string' }],
        Parameters: Match.objectLike({ 'projection.enabled': 'true', 'projection.day.type': 'date' }),
        StorageDescriptor: Match.objectLike({ Columns: columns }),
      }),
    });
    const names = (columns.asArray() as { Name: string; Type: string }[]).map((c) => `${c.Name}:${c.Type}`);
    for (const column of [
      'recallid:string',
      'trigger:string',
      'starteddaynumber:int',
      'holdout:boolean',
      'strategies:array<string>',
      'stepssent:array<string>',
      'smscount:int',
      'rewardfen:bigint',
      'reinvestedfen:bigint',
      'relapsedwithin30days:boolean',
    ])
      expect(names).toContain(column);
  });

  it('lets Prepare and Close put recall outcomes only, and Prepare read the latest report only', () => {
    expect(lakeGrants('recall-close')).toEqual([
      { actions: expect.arrayContaining(['s3:PutObject']), resource: 'recalls/*' },
    ]);
    const prepare = lakeGrants('recall-prepare');
    expect(prepare).toHaveLength(2);
    expect(prepare).toContainEqual({
      actions: expect.arrayContaining(['s3:PutObject']),
      resource: 'recalls/*',
    });
    const read = prepare.find((g) => g.resource !== 'recalls/*')!;
    expect(read.actions).toEqual(['s3:GetObject']);
    expect(read.resource).toContain('/reports/latest.json');
    for (const tag of ['recall-prepare', 'recall-close'])
      template.hasResourceProperties('AWS::Lambda::Function', {
        Tags: Match.arrayWith([{ Key: 'winback:handler', Value: tag }]),
        Environment: { Variables: Match.objectLike({ LAKE_BUCKET: { Ref: bucketId() } }) },
      });
    // Send and Check write nothing to the lake.
    expect(lakeGrants('recall-send')).toEqual([]);
    expect(lakeGrants('recall-check')).toEqual([]);
  });

  it('gives Athena a workgroup with its own result location and a bytes-scanned limit', () => {
    const output = new Capture();
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'Winback-lake',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        ResultConfiguration: {
          OutputLocation: output,
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      }),
    });
    expect(JSON.stringify(output.asObject())).toContain('/athena-results/');
  });

  it('lets the scan put snapshots only, and the API put feedback only', () => {
    expect(lakeGrants('scan-segment')).toEqual([
      { actions: expect.arrayContaining(['s3:PutObject']), resource: 'snapshots/*' },
      // The outcome row of a recall whose execution ended without Close (reconciliation).
      { actions: expect.arrayContaining(['s3:PutObject']), resource: 'recalls/*' },
    ]);
    // The API also reads the daily report for GET /reports/latest, and nothing else of the lake.
    expect(lakeGrants('api')).toEqual(
      expect.arrayContaining([
        { actions: expect.arrayContaining(['s3:PutObject']), resource: 'feedback/*' },
        { actions: expect.arrayContaining(['s3:GetObject*']), resource: 'reports/*' },
        // The outcome row of a manual recall whose start was refused.
        { actions: expect.arrayContaining(['s3:PutObject']), resource: 'recalls/*' },
      ]),
    );
    expect(lakeGrants('api')).toHaveLength(3);
    const writes = [...lakeGrants('scan-segment'), ...lakeGrants('api')].filter(
      (g) => g.resource !== 'reports/*',
    );
    for (const grant of writes)
      expect(grant.actions.some((a) => a.startsWith('s3:Get') || a === 's3:DeleteObject*')).toBe(false);
    const reportRead = lakeGrants('api').find((g) => g.resource === 'reports/*')!;
    expect(reportRead.actions.some((a) => a.startsWith('s3:Put') || a.startsWith('s3:Delete'))).toBe(false);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([{ Key: 'winback:handler', Value: 'scan-segment' }]),
      Environment: { Variables: Match.objectLike({ LAKE_BUCKET: { Ref: bucketId() } }) },
    });
  });

  it('grants the report step reading the history, the workgroup and the Glue tables', () => {
    const stack = new Stack(new App(), 'Reports');
    const lake = new Lake(stack, 'Lake');
    lake.grantQuery(
      new Role(stack, 'ReportRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }),
    );
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['athena:StartQueryExecution', 'athena:GetQueryResults']),
          }),
          Match.objectLike({ Action: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'] }),
        ]),
      },
    });
    expect(lake.databaseName).toBe('reports_lake');
    expect(lake.workgroupName).toBe('Reports-lake');
  });
});
