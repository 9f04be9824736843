import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../local/dynamo-server.ts';
import { FaultPlan, type FaultRates } from '../../local/faults.ts';
import { LocalOutbox, OUTBOX_TABLE } from '../../local/outbox.ts';
import { useLocalDynamo } from '../support/dynalite.ts';

const NONE: FaultRates = {
  dynamoThrottled: 0,
  dynamoTimeoutBeforeSend: 0,
  dynamoTimeoutAfterApply: 0,
  crashBeforeHandler: 0,
  crashAfterHandler: 0,
  crashAtWrite: 0,
  providerRefused: 0,
  providerInDoubt: 0,
  startThrottled: 0,
  startExecutionLimit: 0,
  scanCallFactor: 1,
};

describe('a fault plan', () => {
  const db = useLocalDynamo();
  const table = `${db.tablePrefix}Items`;
  const outboxTable = `${db.tablePrefix}Outbox`;
  const opened: { destroy(): void }[] = [];
  afterAll(() => {
    for (const client of opened) client.destroy();
  });

  beforeAll(async () => {
    await db.client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await db.client.send(new CreateTableCommand({ ...OUTBOX_TABLE, TableName: outboxTable }));
  });

  /** A plan attached to fresh clients and an outbox, with only the given rates switched on. */
  function planWith(rates: Partial<FaultRates>) {
    const plan = new FaultPlan(7, { ...NONE, ...rates });
    const clients = useClients();
    const outbox = new LocalOutbox(clients.doc, outboxTable, () => new Date('2026-11-24T01:00:00Z'));
    plan.attach({ clients: { client: clients.client }, outbox });
    return { plan, doc: clients.doc, outbox };
  }
  function useClients() {
    // Each plan gets its own client, so one test's middleware does not reach another's.
    const clients = createDynamoClients(db.endpoint);
    opened.push(clients.client);
    return clients;
  }
  const stored = async (id: string) =>
    (await db.doc.send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }))).Item;

  it('draws the same number for the same seed and key, and another for another seed', () => {
    expect(new FaultPlan(7).draw('k')).toBe(new FaultPlan(7).draw('k'));
    expect(new FaultPlan(7).draw('k')).not.toBe(new FaultPlan(8).draw('k'));
  });

  it('injects nothing outside an invocation, and answers a timeout after DynamoDB applied a write', async () => {
    const { plan, doc } = planWith({ dynamoTimeoutAfterApply: 1 });
    await doc.send(new PutCommand({ TableName: table, Item: { id: 'outside' } }));
    await expect(
      plan.invoke('task', 'a', () => doc.send(new PutCommand({ TableName: table, Item: { id: 'after' } }))),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(await stored('after')).toEqual({ id: 'after' });
    expect(plan.counts['dynamo.timeout_after_apply']).toBe(1);
    plan.active = false;
  });

  it('throttles before the request leaves', async () => {
    const { plan, doc } = planWith({ dynamoThrottled: 1 });
    await expect(
      plan.invoke('task', 'b', () =>
        doc.send(new PutCommand({ TableName: table, Item: { id: 'throttled' } })),
      ),
    ).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(await stored('throttled')).toBeUndefined();
    plan.active = false;
  });

  it('ends the invocation in Runtime.ExitError when the process dies at a write, whatever the handler catches', async () => {
    const { plan, doc } = planWith({ crashAtWrite: 1 });
    const handler = async () => {
      try {
        await doc.send(new PutCommand({ TableName: table, Item: { id: 'crashed' } }));
      } catch {
        // A handler that swallows the error still dies: the process is gone.
      }
      return 'done';
    };
    await expect(plan.invoke('task', 'c', handler)).rejects.toMatchObject({ name: 'Runtime.ExitError' });
    expect(await stored('crashed')).toBeUndefined();
    expect(plan.counts['lambda.crash_before_write']).toBe(1);
    plan.active = false;
  });

  it('times a task out before its handler runs', async () => {
    const { plan } = planWith({ crashBeforeHandler: 1 });
    let ran = false;
    await expect(
      plan.invoke('task', 'd', async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ name: 'Sandbox.Timedout' });
    expect(ran).toBe(false);
    plan.active = false;
  });

  it('delivers an in-doubt message once, then answers a timeout, and remembers the step', async () => {
    const { plan, outbox } = planWith({ providerInDoubt: 1, dynamoThrottled: 1 });
    await expect(
      plan.invoke('task', 'e', () =>
        outbox.send('+8613800000000', 'hello', { recallId: 'r-1', step: 'sms' }),
      ),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    const items = [];
    for await (const item of outbox.scanAll()) items.push(item);
    expect(items.filter((i) => i.recallId === 'r-1')).toHaveLength(1);
    expect([...plan.inDoubt.keys()]).toEqual(['r-1|sms']);
    plan.active = false;
  });
});
