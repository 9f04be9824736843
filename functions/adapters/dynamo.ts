import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';

/** Writes the item only if no item has its key; answers whether it wrote. */
export async function putIfAbsent(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  keyAttribute: string,
): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: `attribute_not_exists(${keyAttribute})`,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Every item of a table, page by page; for exports and reports, never on a request path. */
export async function* scanAll<T>(doc: DynamoDBDocumentClient, tableName: string): AsyncGenerator<T> {
  let cursor: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: cursor }));
    for (const item of out.Items ?? []) yield item as T;
    cursor = out.LastEvaluatedKey;
  } while (cursor);
}

/** All pages of a query. */
export async function queryAll<T>(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<T[]> {
  const items: T[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: cursor }));
    items.push(...((out.Items ?? []) as T[]));
    cursor = out.LastEvaluatedKey;
  } while (cursor);
  return items;
}

/**
 * An update guarded by its condition: answers false when the condition did not hold, which for
 * winback's writes means "already done" or "not ours to change", never an error.
 */
export async function updateIf(doc: DynamoDBDocumentClient, input: UpdateCommandInput): Promise<boolean> {
  try {
    await doc.send(new UpdateCommand(input));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

const BATCH_GET_LIMIT = 100;
const MAX_UNPROCESSED_RETRIES = 8;

/**
 * Items by their string key, a hundred to a BatchGetItem (consistent reads), retrying the keys the
 * service hands back unprocessed. One round trip where a loop of GetItems would make a hundred;
 * absent keys are absent from the map.
 */
export async function getMany<T>(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keyAttribute: string,
  ids: readonly string[],
): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
    let keys: Record<string, unknown>[] = unique
      .slice(i, i + BATCH_GET_LIMIT)
      .map((id) => ({ [keyAttribute]: id }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      const out = await doc.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[tableName] ?? []) found.set(String(item[keyAttribute]), item as T);
      keys = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (keys.length > 0) {
        if (attempt >= MAX_UNPROCESSED_RETRIES)
          throw new Error(`${keys.length} keys of ${tableName} stayed unprocessed after ${attempt} retries`);
        await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 25));
      }
    }
  }
  return found;
}
