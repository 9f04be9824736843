import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createDynamoClients,
  LOCAL_STORE_SOCKETS,
  localSigner,
  startDynamoServer,
} from '../../local/dynamo-server.ts';
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

  it('runs on a worker thread: clients of this process skip HTTP, others still reach it over loopback, data survives a restart', async () => {
    const dataDir = join(dir, 'worker-store');
    const first = await startDynamoServer({ dataDir, worker: true });
    expect(first.requestHandler).toBeDefined();
    const fast = createDynamoClients(first.endpoint, { requestHandler: first.requestHandler });
    await ensureTables(fast.client, [table]);
    await fast.doc.send(new PutCommand({ TableName: 'Things', Item: { id: 'a', n: 1 } }));
    // A failed condition comes back as the SDK's own typed error, as over HTTP.
    await expect(
      fast.doc.send(
        new PutCommand({
          TableName: 'Things',
          Item: { id: 'a', n: 2 },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(await tableNames(first.endpoint)).toEqual(['Things']);
    fast.client.destroy();
    await first.stop();

    const second = await startDynamoServer({ dataDir, worker: true });
    const again = createDynamoClients(second.endpoint, { requestHandler: second.requestHandler });
    try {
      const out = await again.doc.send(new GetCommand({ TableName: 'Things', Key: { id: 'a' } }));
      expect(out.Item).toEqual({ id: 'a', n: 1 });
    } finally {
      again.client.destroy();
      await second.stop();
    }
    await expect(again.doc.send(new GetCommand({ TableName: 'Things', Key: { id: 'a' } }))).rejects.toThrow(
      /local store stopped/,
    );
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

describe('createDynamoClients', () => {
  it('sends a fixed, well-formed SigV4 header instead of signing (the store checks form, not signature)', async () => {
    const request = { headers: { host: '127.0.0.1' } as Record<string, string> };
    const signed = await localSigner.sign(request);
    expect(signed.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/dynamodb\/aws4_request, SignedHeaders=host, Signature=\w+$/,
    );
    expect(signed.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('talks to dynalite through one keep-alive agent sized for the runtime', async () => {
    const server = await startDynamoServer({});
    const { client } = createDynamoClients(server.endpoint);
    try {
      const handler = client.config.requestHandler as { httpHandlerConfigs?: () => { httpAgent?: unknown } };
      await client.send(new ListTablesCommand({}));
      const agent = handler.httpHandlerConfigs?.().httpAgent as { maxSockets: number; keepAlive: boolean };
      expect(agent.maxSockets).toBe(LOCAL_STORE_SOCKETS);
      expect(agent.keepAlive).toBe(true);
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});
