import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamoClients, startDynamoServer } from '../../local/dynamo-server.ts';
import { ensureTables, type LocalTableDefinition } from '../../local/template.ts';

const table: LocalTableDefinition = {
  logicalId: 'Things',
  name: 'Things',
  input: {
    TableName: 'Things',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  },
};

async function tableNames(endpoint: string): Promise<string[]> {
  const { client } = createDynamoClients(endpoint);
  try {
    return (await client.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    client.destroy();
  }
}

describe('startDynamoServer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'winback-dynalite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs in a child process on 127.0.0.1 and keeps data on disk across restarts', async () => {
    const dataDir = join(dir, 'nested', 'store');
    const first = await startDynamoServer({ dataDir });
    expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { client } = createDynamoClients(first.endpoint);
    await ensureTables(client, [table]);
    client.destroy();
    await first.stop();
    await expect(tableNames(first.endpoint)).rejects.toThrow();

    const second = await startDynamoServer({ dataDir });
    try {
      expect(await tableNames(second.endpoint)).toEqual(['Things']);
    } finally {
      await second.stop();
    }
  });

  it('runs in process, in memory', async () => {
    const server = await startDynamoServer({ inProcess: true });
    try {
      expect(await tableNames(server.endpoint)).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
