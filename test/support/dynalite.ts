import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, inject } from 'vitest';
import { createDynamoClients } from '../../local/dynamo-server.ts';
import { ensureTables, type LocalTableDefinition } from '../../local/template.ts';

export interface LocalDynamo {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  endpoint: string;
  /** Unique per call (call once per test file): prefix every table name with it. */
  tablePrefix: string;
}

/** Clients for the run-wide dynalite server (started in test/global-setup.ts); destroyed after the file. */
export function useLocalDynamo(): LocalDynamo {
  const endpoint = inject('dynamoEndpoint');
  const { client, doc } = createDynamoClients(endpoint);
  afterAll(() => client.destroy());
  return { client, doc, endpoint, tablePrefix: newTablePrefix() };
}

/** A short random prefix: dynalite table names allow [a-zA-Z0-9_.-]. */
export function newTablePrefix(): string {
  return `t${randomBytes(4).toString('hex')}_`;
}

/** Creates the tables under `prefix + name` and returns the definitions with their prefixed names. */
export async function createTablesForTest(
  defs: LocalTableDefinition[],
  prefix: string,
  client?: DynamoDBClient,
): Promise<LocalTableDefinition[]> {
  const prefixed = defs.map((def) => ({
    ...def,
    name: prefix + def.name,
    input: { ...def.input, TableName: prefix + def.name },
  }));
  const own = client ? undefined : createDynamoClients(inject('dynamoEndpoint')).client;
  try {
    await ensureTables(client ?? own!, prefixed);
  } finally {
    own?.destroy();
  }
  return prefixed;
}
