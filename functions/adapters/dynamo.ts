import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
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
