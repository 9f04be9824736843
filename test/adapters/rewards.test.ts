import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RewardRecord, Rewards, rewardIdFor } from '../../functions/adapters/rewards.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';

const dynamo = useLocalDynamo();
let rewards: Rewards;

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => d.name === 'Rewards');
  expect(defs).toHaveLength(1);
  const [table] = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  rewards = new Rewards(dynamo.doc, table!.name);
});

const ISSUED = '2026-11-24T01:00:00.000Z';
const EXPIRES = '2026-12-08T01:00:00.000Z';

function reward(recallId: string, userId: string, overrides: Partial<RewardRecord> = {}): RewardRecord {
  return {
    rewardId: rewardIdFor(recallId),
    recallId,
    userId,
    amountFen: 5_000,
    unlockInvestFen: 100_000,
    issuedAt: ISSUED,
    expiresAt: EXPIRES,
    status: 'open',
    ...overrides,
  };
}

describe('Rewards', () => {
  it('issues one reward per recall: a retried Prepare gets the first one back', async () => {
    const first = reward('rc-once', 'u-once');
    expect(rewardIdFor('rc-once')).toBe('rw-rc-once');

    await expect(rewards.issueOnce(first)).resolves.toEqual(first);
    await expect(rewards.issueOnce({ ...first, amountFen: 99_999, issuedAt: EXPIRES })).resolves.toEqual(first);

    const out = await dynamo.doc.send(
      new ScanCommand({
        TableName: rewards.tableName,
        FilterExpression: 'recallId = :r',
        ExpressionAttributeValues: { ':r': 'rc-once' },
      }),
    );
    expect(out.Items).toEqual([first]);
  });

  describe('unlockFor', () => {
    it('unlocks an open reward whose amount is met before it expires, once', async () => {
      await rewards.issueOnce(reward('rc-u1', 'u-unlock'));

      const unlocked = await rewards.unlockFor('u-unlock', 100_000, '2026-12-01T00:00:00.000Z', 'ev-1');

      const expected = {
        ...reward('rc-u1', 'u-unlock'),
        status: 'unlocked',
        unlockedAt: '2026-12-01T00:00:00.000Z',
        unlockedBy: 'ev-1',
      };
      expect(unlocked).toEqual([expected]);
      expect(await rewards.get('rw-rc-u1')).toEqual(expected);

      // Already unlocked: a second qualifying investment unlocks nothing and changes nothing.
      expect(await rewards.unlockFor('u-unlock', 500_000, '2026-12-02T00:00:00.000Z', 'ev-2')).toEqual([]);
      expect((await rewards.get('rw-rc-u1'))?.unlockedBy).toBe('ev-1');
    });

    it.each([
      ['the amount is below the condition', 99_999, '2026-12-01T00:00:00.000Z'],
      ['the reward has expired', 100_000, '2026-12-08T01:00:00.001Z'],
      ['the investment predates the reward', 100_000, '2026-11-24T00:59:59.999Z'],
    ])('leaves the reward open when %s', async (_label, investFen, at) => {
      const recallId = `rc-no-${investFen}-${at}`;
      const userId = `u-no-${at}`;
      await rewards.issueOnce(reward(recallId, userId));

      expect(await rewards.unlockFor(userId, investFen, at, 'ev-x')).toEqual([]);
      expect((await rewards.get(rewardIdFor(recallId)))?.status).toBe('open');
    });

    it('unlocks at the expiry instant itself', async () => {
      await rewards.issueOnce(reward('rc-edge', 'u-edge'));
      const unlocked = await rewards.unlockFor('u-edge', 100_000, EXPIRES, 'ev-edge');
      expect(unlocked.map((r) => r.rewardId)).toEqual(['rw-rc-edge']);
    });

    it('unlocks only the rewards of that user whose conditions this investment meets', async () => {
      await rewards.issueOnce(reward('rc-m1', 'u-multi', { unlockInvestFen: 50_000 }));
      await rewards.issueOnce(reward('rc-m2', 'u-multi', { unlockInvestFen: 1_000_000 }));
      await rewards.issueOnce(reward('rc-m3', 'u-other', { unlockInvestFen: 10 }));

      const unlocked = await rewards.unlockFor('u-multi', 200_000, '2026-11-30T00:00:00.000Z', 'ev-m');

      expect(unlocked.map((r) => r.rewardId)).toEqual(['rw-rc-m1']);
      expect((await rewards.get('rw-rc-m2'))?.status).toBe('open');
      expect((await rewards.get('rw-rc-m3'))?.status).toBe('open');
      expect((await rewards.forUser('u-multi')).map((r) => r.rewardId).sort()).toEqual(['rw-rc-m1', 'rw-rc-m2']);
    });

    it('unlocks a reward once when two investments race for it', async () => {
      await rewards.issueOnce(reward('rc-race', 'u-race'));

      const [a, b] = await Promise.all([
        rewards.unlockFor('u-race', 200_000, '2026-11-30T00:00:00.000Z', 'ev-a'),
        rewards.unlockFor('u-race', 300_000, '2026-11-30T00:00:01.000Z', 'ev-b'),
      ]);

      expect(a.length + b.length).toBe(1);
      const stored = await rewards.get('rw-rc-race');
      expect(stored?.status).toBe('unlocked');
      expect(stored?.unlockedBy).toBe([...a, ...b][0]!.unlockedBy);
    });
  });
});
