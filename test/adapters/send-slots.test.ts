import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { SendSlots } from '../../functions/adapters/send-slots.ts';
import { epochSecond } from '../../functions/domain/pacing.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../functions/domain/policy.ts';
import { claimSendSecond } from '../../functions/use-cases/pace-send.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';

// The slot table as the stack defines it, against dynalite.
const dynamo = useLocalDynamo();
let slots: SendSlots;
let tableName: string;

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => d.name === 'SendSlots');
  expect(defs).toHaveLength(1);
  expect(defs[0]!.input.KeySchema).toEqual([{ AttributeName: 'slot', KeyType: 'HASH' }]);
  const [table] = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  tableName = table!.name;
  slots = new SendSlots(dynamo.doc, tableName);
});

const item = async (slot: string) =>
  (await dynamo.doc.send(new GetCommand({ TableName: tableName, Key: { slot }, ConsistentRead: true }))).Item;

describe('SendSlots', () => {
  it('grants a second up to the rate, then answers full with where to look next', async () => {
    const second = 1_764_118_800;
    expect(await slots.tryClaim('sms', second, 2)).toEqual({ claimed: true });
    expect(await slots.tryClaim('sms', second, 2)).toEqual({ claimed: true });
    expect(await slots.tryClaim('sms', second, 2)).toEqual({ claimed: false, next: second + 1 });
    expect(await item(`sms#${second}`)).toEqual({
      slot: `sms#${second}`,
      sends: 2,
      nextSecond: second + 1,
      expiresAt: second + 2 * 86_400,
    });
    // Another channel's count of the same second is its own.
    expect(await slots.tryClaim('push', second, 1)).toEqual({ claimed: true });
  });

  it('moves a pointer only forward', async () => {
    const second = 1_764_118_900;
    await slots.tryClaim('sms', second, 1);
    await slots.skip('sms', { seconds: [second], to: second + 50 });
    await slots.skip('sms', { seconds: [second], to: second + 10 });
    expect((await item(`sms#${second}`))?.nextSecond).toBe(second + 50);
  });

  it('under 60 concurrent claims at 10 a second, fills 6 seconds exactly, none over', async () => {
    const policy = parsePolicy({ recall: { sendRatePerSecond: { sms: 10 } } });
    const due = Date.parse('2026-11-26T02:00:00Z'); // 10:00 in Shanghai
    const allowed = { timeZone: 'Asia/Shanghai', quiet: DEFAULT_POLICY.recall.quietHours };
    const seconds = await Promise.all(
      Array.from({ length: 60 }, () => claimSendSecond('sms', due, allowed, { slots, policy })),
    );
    const perSecond = new Map<number, number>();
    for (const s of seconds) perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    const first = epochSecond(due);
    expect([...perSecond.keys()].sort()).toEqual(Array.from({ length: 6 }, (_, i) => first + i));
    expect([...perSecond.values()].every((n) => n === 10)).toBe(true);
    for (let s = first; s < first + 6; s++) expect((await item(`sms#${s}`))?.sends).toBe(10);
  });
});
