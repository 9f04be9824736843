import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  ListTablesCommand,
  type Projection,
} from '@aws-sdk/client-dynamodb';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { TAGS } from '../functions/adapters/environment.ts';

/** A plain Amazon States Language definition (JSONPath), as aws-local-stepfunctions runs it. */
export type AslDefinition = StateMachineDefinition;

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** The parts of a synthesized CloudFormation template this module reads. */
export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export interface LocalTableDefinition {
  logicalId: string;
  /** Local table name: the `winback:table` tag, else the logical id. */
  name: string;
  input: CreateTableCommandInput;
}

export interface LambdaEnvironment {
  logicalId: string;
  handler: string | undefined;
  environment: Record<string, string>;
}

export interface ResolveOptions {
  /** Prepended to every local table name a `Ref` resolves to (tests isolate their tables this way). */
  tablePrefix?: string;
}

export const TABLE_TAG = TAGS.table;
export const WORKFLOW_TAG = TAGS.workflow;
export const PLACEHOLDER_REGION = 'us-east-1';
export const PLACEHOLDER_ACCOUNT = '123456789012';

const TABLE_TYPES = new Set(['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable']);
const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';
const FUNCTION_TYPE = 'AWS::Lambda::Function';

export function tablesFromTemplate(template: CfnTemplate): LocalTableDefinition[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => TABLE_TYPES.has(r.Type))
    .map(([logicalId, resource]) => {
      const name = tableName(logicalId, resource);
      const p = resource.Properties ?? {};
      // Only what dynalite understands: PITR, SSE, TTL, streams, replicas and tags have no local meaning.
      const input: CreateTableCommandInput = {
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: p.AttributeDefinitions as AttributeDefinition[],
        KeySchema: p.KeySchema as KeySchemaElement[],
      };
      const gsis = indexes(p.GlobalSecondaryIndexes);
      if (gsis.length > 0) input.GlobalSecondaryIndexes = gsis;
      const lsis = indexes(p.LocalSecondaryIndexes);
      if (lsis.length > 0) input.LocalSecondaryIndexes = lsis;
      return { logicalId, name, input };
    });
}

/** Creates every table that does not exist yet and waits until each is ACTIVE. Safe to call repeatedly. */
export async function ensureTables(client: DynamoDBClient, defs: LocalTableDefinition[]): Promise<void> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);

  for (const def of defs) {
    const tableName = def.input.TableName ?? def.name;
    if (existing.has(tableName)) continue;
    try {
      await client.send(new CreateTableCommand({ ...def.input, TableName: tableName }));
    } catch (err) {
      // Another process (or test file) created it between our ListTables and CreateTable.
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
    await waitActive(client, tableName);
  }
}

export function stateMachinesFromTemplate(
  template: CfnTemplate,
  opts: ResolveOptions = {},
): Record<string, AslDefinition> {
  const out: Record<string, AslDefinition> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== STATE_MACHINE_TYPE) continue;
    const p = resource.Properties ?? {};
    if (p.DefinitionS3Location !== undefined) {
      throw new Error(
        `State machine ${logicalId} uses DefinitionS3Location; the local runtime needs the definition inline (DefinitionString)`,
      );
    }
    let text: string;
    if (p.DefinitionString !== undefined) {
      const resolved = resolveIntrinsics(p.DefinitionString, template, opts);
      if (typeof resolved !== 'string')
        throw new Error(`State machine ${logicalId}: DefinitionString is not a string`);
      text = resolved;
    } else if (p.Definition !== undefined) {
      text = JSON.stringify(resolveIntrinsics(p.Definition, template, opts));
    } else {
      throw new Error(`State machine ${logicalId} has no DefinitionString`);
    }
    const substitutions = p.DefinitionSubstitutions as Record<string, unknown> | undefined;
    for (const [key, value] of Object.entries(substitutions ?? {})) {
      text = text.split(`\${${key}}`).join(String(resolveIntrinsics(value, template, opts)));
    }
    out[tagValue(p.Tags, WORKFLOW_TAG) ?? logicalId] = JSON.parse(text) as AslDefinition;
  }
  return out;
}

export function lambdaEnvironmentsFromTemplate(
  template: CfnTemplate,
  opts: ResolveOptions = {},
): LambdaEnvironment[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === FUNCTION_TYPE)
    .map(([logicalId, resource]) => {
      const p = resource.Properties ?? {};
      const vars = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
        {}) as Record<string, unknown>;
      const environment: Record<string, string> = {};
      for (const [key, value] of Object.entries(vars)) {
        const resolved = resolveIntrinsics(value, template, opts);
        // AWS::NoValue removes the variable, as CloudFormation does.
        if (resolved !== undefined) environment[key] = String(resolved);
      }
      return { logicalId, handler: typeof p.Handler === 'string' ? p.Handler : undefined, environment };
    });
}

/**
 * Replaces CloudFormation intrinsics with local stand-ins: pseudo parameters with fixed values, `Ref`
 * of a table with its local name, `Ref` of a state machine with an ARN ending in its workflow name, and
 * other `Ref`/`Fn::GetAtt` with syntactically valid placeholder ARNs built from the logical id (so ARN
 * validators accept them). Unsupported intrinsics throw rather than leak an object into a string.
 */
export function resolveIntrinsics(value: unknown, template: CfnTemplate, opts: ResolveOptions = {}): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, template, opts));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  const key = keys.length === 1 ? keys[0]! : undefined;
  const arg = key === undefined ? undefined : obj[key];
  const r = (v: unknown) => resolveIntrinsics(v, template, opts);

  switch (key) {
    case 'Ref':
      return refValue(String(arg), template, opts);
    case 'Fn::GetAtt': {
      const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
      return getAttValue(id ?? '', attr ?? 'Arn', template, opts);
    }
    case 'Fn::Join': {
      const [sep, parts] = arg as [string, unknown];
      const list = r(parts);
      if (!Array.isArray(list)) throw new Error('Fn::Join expects a list');
      return list.map(String).join(sep);
    }
    case 'Fn::Sub': {
      const [text, vars] = Array.isArray(arg)
        ? (arg as [string, Record<string, unknown>])
        : [String(arg), {}];
      return text.replace(/\$\{(!?)([^}]+)\}/g, (whole, bang: string, name: string) => {
        if (bang) return `\${${name}}`;
        if (name in vars) return String(r(vars[name]));
        const [id, attr] = name.split(/\.(.*)/s);
        if (attr !== undefined) return String(getAttValue(id ?? '', attr, template, opts));
        return String(refValue(name, template, opts) ?? whole);
      });
    }
    case 'Fn::Select': {
      const [index, list] = arg as [unknown, unknown];
      const items = r(list);
      if (!Array.isArray(items)) throw new Error('Fn::Select expects a list');
      return items[Number(r(index))];
    }
    case 'Fn::Split': {
      const [sep, text] = arg as [string, unknown];
      return String(r(text)).split(sep);
    }
    case 'Fn::GetAZs':
      return [`${PLACEHOLDER_REGION}a`, `${PLACEHOLDER_REGION}b`];
    case 'Fn::ImportValue':
      return `imported-${String(r(arg))}`;
    default:
      if (key?.startsWith('Fn::'))
        throw new Error(`Intrinsic ${key} is not supported by the local template reader`);
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, r(v)]));
  }
}

function refValue(id: string, template: CfnTemplate, opts: ResolveOptions): unknown {
  switch (id) {
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::Region':
      return PLACEHOLDER_REGION;
    case 'AWS::AccountId':
      return PLACEHOLDER_ACCOUNT;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return 'local';
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}:stack/local/local`;
    case 'AWS::NoValue':
      return undefined;
    case 'AWS::NotificationARNs':
      return [];
  }
  const resource = template.Resources?.[id];
  if (!resource) {
    const param = template.Parameters?.[id];
    if (param) return param.Default ?? id;
    throw new Error(`Ref to unknown logical id ${id}`);
  }
  if (TABLE_TYPES.has(resource.Type)) return (opts.tablePrefix ?? '') + tableName(id, resource);
  if (resource.Type === FUNCTION_TYPE) return id;
  if (resource.Type === 'AWS::SQS::Queue')
    return `https://sqs.${PLACEHOLDER_REGION}.amazonaws.com/${PLACEHOLDER_ACCOUNT}/${id}`;
  return placeholderArn(id, resource, opts);
}

function getAttValue(id: string, attr: string, template: CfnTemplate, opts: ResolveOptions): unknown {
  const resource = template.Resources?.[id];
  if (!resource) throw new Error(`Fn::GetAtt on unknown logical id ${id}`);
  if (attr === 'Name' || attr === 'TableName' || attr === 'QueueName' || attr === 'TopicName') {
    return resource.Type === STATE_MACHINE_TYPE ? workflowName(id, resource) : refValue(id, template, opts);
  }
  if (attr === 'StreamArn' || attr === 'LatestStreamArn')
    return `${placeholderArn(id, resource, opts)}/stream/local`;
  return placeholderArn(id, resource, opts);
}

/** A valid-looking ARN for a resource: service from its type, resource part from its logical id. */
export function placeholderArn(id: string, resource: CfnResource, opts: ResolveOptions = {}): string {
  const prefix = (service: string) => `arn:aws:${service}:${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}`;
  if (TABLE_TYPES.has(resource.Type))
    return `${prefix('dynamodb')}:table/${opts.tablePrefix ?? ''}${tableName(id, resource)}`;
  switch (resource.Type) {
    case FUNCTION_TYPE:
      return `${prefix('lambda')}:function:${id}`;
    case STATE_MACHINE_TYPE:
      return `${prefix('states')}:stateMachine:${workflowName(id, resource)}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:role/${id}`;
  }
  const service = (resource.Type.split('::')[1] ?? 'unknown').toLowerCase();
  return `${prefix(service === 'stepfunctions' ? 'states' : service)}:${id}`;
}

function tableName(logicalId: string, resource: CfnResource): string {
  const p = resource.Properties ?? {};
  const replicas = p.Replicas as Array<{ Tags?: unknown }> | undefined;
  // GlobalTable (what TableV2 synthesizes to) keeps tags per replica.
  const tags = resource.Type === 'AWS::DynamoDB::GlobalTable' ? replicas?.[0]?.Tags : p.Tags;
  return tagValue(tags, TABLE_TAG) ?? logicalId;
}

function workflowName(logicalId: string, resource: CfnResource): string {
  return tagValue(resource.Properties?.Tags, WORKFLOW_TAG) ?? logicalId;
}

function tagValue(tags: unknown, key: string): string | undefined {
  if (!Array.isArray(tags)) return undefined;
  const tag = (tags as Array<{ Key?: unknown; Value?: unknown }>).find((t) => t.Key === key);
  return typeof tag?.Value === 'string' ? tag.Value : undefined;
}

interface CfnIndex {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection?: Projection;
}

function indexes(value: unknown): Array<Required<CfnIndex>> {
  if (!Array.isArray(value)) return [];
  return (value as CfnIndex[]).map((i) => ({
    IndexName: i.IndexName,
    KeySchema: i.KeySchema,
    Projection: i.Projection ?? { ProjectionType: 'ALL' },
  }));
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  // dynalite with createTableMs 0 flips to ACTIVE on its next tick; real DynamoDB Local may take longer.
  for (let attempt = 0; attempt < 200; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Table ${tableName} did not become ACTIVE`);
}
