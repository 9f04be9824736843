import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../functions/adapters/activity-log.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';

const dynamo = useLocalDynamo();
let log: ActivityLog;

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => d.name === 'Events');
  expect(defs).toHaveLength(1);
  const [table] = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  log = new ActivityLog(dynamo.doc, table!.name);
});

const event = { eventId: 'ev-1', userId: 'u-1', type: 'login', at: '2026-11-24T01:00:00.000Z' };

describe('ActivityLog', () => {
  it('claims an event once and keeps it 90 days through the TTL attribute', async () => {
    expect(await log.claim(event)).toBe(true);
    expect(await log.claim({ ...event, at: '2026-11-25T01:00:00.000Z' })).toBe(false);

    const out = await dynamo.doc.send(new GetCommand({ TableName: log.tableName, Key: { eventId: 'ev-1' } }));
    expect(out.Item).toEqual({
      ...event,
      // 2026-11-24T01:00:00Z is 1795482000 s; plus 90 days.
      expiresAt: 1_795_482_000 + 90 * 86_400,
    });
  });

  it('lets a released event be claimed again', async () => {
    const e = { ...event, eventId: 'ev-2' };
    expect(await log.claim(e)).toBe(true);

    await log.release('ev-2');

    expect(await log.claim(e)).toBe(true);
    expect(await log.claim(e)).toBe(false);
  });

  it('gives exactly one of many concurrent claims the event', async () => {
    const e = { ...event, eventId: 'ev-race' };
    const results = await Promise.all(Array.from({ length: 10 }, () => log.claim(e)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('releasing an unknown event is harmless', async () => {
    await expect(log.release('ev-never')).resolves.toBeUndefined();
  });
});
