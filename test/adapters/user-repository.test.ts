import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { storedAssessment, UserRepository } from '../../functions/adapters/user-repository.ts';
import { assess } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import { synthTemplate } from '../../local/synth.ts';
import { type LocalTableDefinition, tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, newTablePrefix, useLocalDynamo } from '../support/dynalite.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

const dynamo = useLocalDynamo();
let usersDef: LocalTableDefinition;

/** A fresh Users table (as the stack defines it) under its own prefix, so each block starts empty. */
async function freshUsers(): Promise<UserRepository> {
  const [table] = await createTablesForTest([usersDef], newTablePrefix(), dynamo.client);
  return new UserRepository(dynamo.doc, table!.name);
}

beforeAll(() => {
  const def = tablesFromTemplate(synthTemplate()).find((d) => d.name === 'Users');
  if (!def) throw new Error('the synthesized stack has no Users table');
  usersDef = def;
});

/** A document client that records the commands it is asked to send. */
function recordingClient(doc: DynamoDBDocumentClient) {
  const sent: string[] = [];
  const send = vi.fn(async (command: { constructor: { name: string } }) => {
    sent.push(command.constructor.name);
    return doc.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
  });
  return { client: { send } as unknown as DynamoDBDocumentClient, sent };
}

describe('scanPage', () => {
  const COUNT = 230;
  let users: UserRepository;

  beforeAll(async () => {
    users = await freshUsers();
    await users.putMany(
      Array.from({ length: COUNT }, (_, i) => aUser({ userId: `u${String(i).padStart(4, '0')}` })),
    );
  });

  it('over N segments returns every item exactly once, page by page', async () => {
    const TOTAL_SEGMENTS = 4;
    const LIMIT = 20;
    const seen: string[] = [];
    let pages = 0;
    const perSegment: number[] = [];
    for (let segment = 0; segment < TOTAL_SEGMENTS; segment++) {
      let cursor: Record<string, unknown> | undefined;
      let inSegment = 0;
      do {
        const page = await users.scanPage(segment, TOTAL_SEGMENTS, cursor, LIMIT);
        expect(page.items.length).toBeLessThanOrEqual(LIMIT);
        pages++;
        inSegment += page.items.length;
        seen.push(...page.items.map((i) => i.userId as string));
        cursor = page.cursor;
      } while (cursor);
      perSegment.push(inSegment);
    }

    expect(seen).toHaveLength(COUNT);
    expect(new Set(seen).size).toBe(COUNT);
    expect(perSegment.reduce((a, b) => a + b, 0)).toBe(COUNT);
    // Every segment held some users and at least one needed several pages.
    expect(perSegment.every((n) => n > 0)).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(COUNT / LIMIT));
  });

  it('honours the limit and resumes after the cursor without overlap', async () => {
    const first = await users.scanPage(0, 1, undefined, 50);
    expect(first.items).toHaveLength(50);
    expect(first.cursor).toEqual({ userId: first.items[49]!.userId });

    const second = await users.scanPage(0, 1, first.cursor, 50);
    expect(second.items).toHaveLength(50);
    const firstIds = new Set(first.items.map((i) => i.userId));
    expect(second.items.some((i) => firstIds.has(i.userId))).toBe(false);
  });

  it('hands back raw items, not validated records', async () => {
    const page = await users.scanPage(0, 1, undefined, 1);
    expect(page.items[0]).toMatchObject({ consent: { inApp: true, push: true, sms: true }, investCount: 12 });
  });
});

describe('user record updates', () => {
  let users: UserRepository;

  beforeAll(async () => {
    users = await freshUsers();
  });

  describe('recordAssessment', () => {
    it('writes the assessment onto the record in one UpdateItem and keeps the other fields', async () => {
      const user = aUser({ userId: 'assess-1', lastLoginAt: daysBefore(AS_OF, 45), balanceFen: 100 });
      await users.put(user);
      const assessment = assess(user, DEFAULT_POLICY, AS_OF);
      const { client, sent } = recordingClient(dynamo.doc);

      await new UserRepository(client, users.tableName).recordAssessment(assessment, AS_OF.toISOString());

      expect(sent).toEqual([UpdateCommand.name]);
      const stored = await users.get('assess-1');
      expect(stored).toEqual({
        ...user,
        assessment: storedAssessment(assessment, '2026-11-24T01:00:00.000Z'),
      });
      expect(stored?.assessment).toMatchObject({
        status: assessment.status,
        assessedAt: '2026-11-24T01:00:00.000Z',
      });
      expect(stored?.assessment).not.toHaveProperty('plan');
    });

    it('does not recreate a user deleted before the write', async () => {
      const user = aUser({ userId: 'assess-deleted' });
      const assessment = assess(user, DEFAULT_POLICY, AS_OF);

      await expect(users.recordAssessment(assessment, AS_OF.toISOString())).rejects.toBeInstanceOf(
        ConditionalCheckFailedException,
      );
      expect(await users.get('assess-deleted')).toBeUndefined();
    });
  });

  describe('openRecall / closeRecall / releaseRecall', () => {
    it('opens one recall per user; the same id opens again, another id conflicts', async () => {
      await users.put(aUser({ userId: 'r-1' }));

      expect(await users.openRecall('r-1', 'rc-a')).toBe('opened');
      expect(await users.openRecall('r-1', 'rc-a')).toBe('opened');
      expect(await users.openRecall('r-1', 'rc-b')).toBe('conflict');
      expect((await users.get('r-1'))?.activeRecallId).toBe('rc-a');
    });

    it('conflicts for a user that does not exist and does not create it', async () => {
      expect(await users.openRecall('r-missing', 'rc-a')).toBe('conflict');
      expect(await users.get('r-missing')).toBeUndefined();
    });

    it('honours the cool-down: a recall closed at or after its start conflicts, one closed before opens', async () => {
      const cooldownStart = daysBefore(AS_OF, 30);
      await users.put(aUser({ userId: 'r-cool', lastRecallClosedAt: daysBefore(AS_OF, 10) }));
      await users.put(aUser({ userId: 'r-edge', lastRecallClosedAt: cooldownStart }));
      await users.put(aUser({ userId: 'r-old', lastRecallClosedAt: daysBefore(AS_OF, 31) }));
      await users.put(aUser({ userId: 'r-never' }));

      expect(await users.openRecall('r-cool', 'rc-1', cooldownStart)).toBe('conflict');
      expect(await users.openRecall('r-edge', 'rc-1', cooldownStart)).toBe('conflict');
      expect(await users.openRecall('r-old', 'rc-1', cooldownStart)).toBe('opened');
      expect(await users.openRecall('r-never', 'rc-1', cooldownStart)).toBe('opened');
      // Without a cool-down (a manual recall), the recent close does not block.
      expect(await users.openRecall('r-cool', 'rc-manual')).toBe('opened');
      expect((await users.get('r-cool'))?.activeRecallId).toBe('rc-manual');
    });

    it('releases only the lock of that recall id, but any close starts the cool-down', async () => {
      await users.put(aUser({ userId: 'r-close', activeRecallId: 'rc-x' }));
      const earlier = '2026-11-20T01:00:00.000Z';
      const closedAt = AS_OF.toISOString();

      // A recall that does not hold the lock (it ran beside another) still records its end.
      await users.closeRecall('r-close', 'rc-other', earlier, 'not_returned');
      expect(await users.get('r-close')).toMatchObject({
        activeRecallId: 'rc-x',
        lastRecallClosedAt: earlier,
        lastRecallOutcome: 'not_returned',
      });

      await users.closeRecall('r-close', 'rc-x', closedAt, 'returned', '2026-12-24T01:00:00.000Z');
      const closed = await users.get('r-close');
      expect(closed).not.toHaveProperty('activeRecallId');
      expect(closed).toMatchObject({
        lastRecallClosedAt: closedAt,
        lastRecallOutcome: 'returned',
        relapseWatchUntil: '2026-12-24T01:00:00.000Z',
      });

      // An older close arriving late never moves the close time back.
      await expect(users.closeRecall('r-close', 'rc-x', earlier, 'not_returned')).resolves.toBeUndefined();
      expect(await users.get('r-close')).toMatchObject({
        lastRecallClosedAt: closedAt,
        lastRecallOutcome: 'returned',
      });
    });

    it('closes without a relapse watch when none is given', async () => {
      await users.put(aUser({ userId: 'r-close2', activeRecallId: 'rc-y' }));
      await users.closeRecall('r-close2', 'rc-y', AS_OF.toISOString(), 'not_returned');
      expect(await users.get('r-close2')).not.toHaveProperty('relapseWatchUntil');
      expect((await users.get('r-close2'))?.lastRecallOutcome).toBe('not_returned');
    });

    it('releases only its own recall and leaves no cool-down behind', async () => {
      await users.put(aUser({ userId: 'r-rel', activeRecallId: 'rc-z' }));

      await users.releaseRecall('r-rel', 'rc-other');
      expect((await users.get('r-rel'))?.activeRecallId).toBe('rc-z');

      await users.releaseRecall('r-rel', 'rc-z');
      const released = await users.get('r-rel');
      expect(released).not.toHaveProperty('activeRecallId');
      expect(released).not.toHaveProperty('lastRecallClosedAt');
      expect(await users.openRecall('r-rel', 'rc-next', daysBefore(AS_OF, 30))).toBe('opened');
    });
  });

  describe('advanceTime', () => {
    it('moves a timestamp forward only', async () => {
      await users.put(aUser({ userId: 't-1', lastLoginAt: daysBefore(AS_OF, 5) }));

      expect(await users.advanceTime('t-1', 'lastLoginAt', daysBefore(AS_OF, 2))).toBe(true);
      expect(await users.advanceTime('t-1', 'lastLoginAt', daysBefore(AS_OF, 3))).toBe(false);
      expect(await users.advanceTime('t-1', 'lastLoginAt', daysBefore(AS_OF, 2))).toBe(false);
      expect((await users.get('t-1'))?.lastLoginAt).toBe(daysBefore(AS_OF, 2));
    });

    it('sets an attribute the record does not have yet, and never creates a user', async () => {
      await users.put(aUser({ userId: 't-2', lastInvestAt: undefined }));

      expect(await users.advanceTime('t-2', 'lastInvestAt', daysBefore(AS_OF, 1))).toBe(true);
      expect((await users.get('t-2'))?.lastInvestAt).toBe(daysBefore(AS_OF, 1));
      expect(await users.advanceTime('t-missing', 'lastLoginAt', daysBefore(AS_OF, 1))).toBe(false);
      expect(await users.get('t-missing')).toBeUndefined();
    });
  });

  describe('addInvestment', () => {
    it('counts 20 concurrent investments without losing one', async () => {
      await users.put(
        aUser({ userId: 'i-1', investCount: 12, totalInvestedFen: 6_000_000, maxInvestFen: 1_500_000 }),
      );
      const amounts = Array.from({ length: 20 }, (_, i) => (i + 1) * 100_000);

      await Promise.all(
        amounts.map((amount, i) => users.addInvestment('i-1', amount, i === 7, `ev-i1-${i}`)),
      );

      expect(await users.get('i-1')).toMatchObject({
        investCount: 32,
        totalInvestedFen: 6_000_000 + 21_000_000,
        maxInvestFen: 2_000_000,
        heldBonusProduct: true,
      });
    });

    it('counts a retried investment event once', async () => {
      await users.put(aUser({ userId: 'i-retry', investCount: 1, totalInvestedFen: 100, maxInvestFen: 100 }));
      await expect(users.addInvestment('i-retry', 10_000, false, 'ev-retry')).resolves.toBe(true);
      await expect(users.addInvestment('i-retry', 10_000, false, 'ev-retry')).resolves.toBe(false);
      expect(await users.get('i-retry')).toMatchObject({ investCount: 2, totalInvestedFen: 10_100 });
    });

    it('keeps a larger maximum and fails for a user that does not exist', async () => {
      await users.put(aUser({ userId: 'i-2', maxInvestFen: 9_000_000, heldBonusProduct: false }));
      await users.addInvestment('i-2', 50_000, false, 'ev-i2');
      expect(await users.get('i-2')).toMatchObject({
        maxInvestFen: 9_000_000,
        heldBonusProduct: false,
        investCount: 13,
      });

      await expect(users.addInvestment('i-missing', 1, false, 'ev-missing')).rejects.toBeInstanceOf(
        ConditionalCheckFailedException,
      );
      expect(await users.get('i-missing')).toBeUndefined();
    });

    it('does not recreate a user deleted between the count and the maximum', async () => {
      await users.put(aUser({ userId: 'i-race', maxInvestFen: 10 }));
      let updates = 0;
      const racing = {
        send: async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
          const out = await dynamo.doc.send(command);
          // The user is deleted right after the first UpdateItem (the counters) lands.
          if (command instanceof UpdateCommand && ++updates === 1) {
            await dynamo.doc.send(
              new DeleteCommand({ TableName: users.tableName, Key: { userId: 'i-race' } }),
            );
          }
          return out;
        },
      } as unknown as DynamoDBDocumentClient;

      await new UserRepository(racing, users.tableName).addInvestment('i-race', 500, false, 'ev-race');

      expect(await users.get('i-race')).toBeUndefined();
    });
  });

  describe('setBalance', () => {
    it('applies a snapshot only if newer than the one applied, whatever order they arrive in', async () => {
      await users.put(aUser({ userId: 'b-1', balanceFen: 100 }));

      expect(await users.setBalance('b-1', 300, '2026-11-23T10:00:00.000Z')).toBe(true);
      expect(await users.setBalance('b-1', 200, '2026-11-23T09:00:00.000Z')).toBe(false);
      expect(await users.setBalance('b-1', 250, '2026-11-23T10:00:00.000Z')).toBe(false);
      expect(await users.get('b-1')).toMatchObject({
        balanceFen: 300,
        balanceAt: '2026-11-23T10:00:00.000Z',
      });

      expect(await users.setBalance('b-1', 0, '2026-11-23T11:00:00.000Z')).toBe(true);
      expect(await users.get('b-1')).toMatchObject({ balanceFen: 0, balanceAt: '2026-11-23T11:00:00.000Z' });
    });

    it('never creates a user', async () => {
      expect(await users.setBalance('b-missing', 1, '2026-11-23T10:00:00.000Z')).toBe(false);
      expect(await users.get('b-missing')).toBeUndefined();
    });
  });

  describe('clearPushAddress / endRelapseWatch', () => {
    it('forgets the token only if it is still the one that failed', async () => {
      await users.put(aUser({ userId: 'p-1', pushAddress: 'new-token' }));
      await users.clearPushAddress('p-1', 'old-token');
      expect((await users.get('p-1'))?.pushAddress).toBe('new-token');

      await users.clearPushAddress('p-1', 'new-token');
      expect(await users.get('p-1')).not.toHaveProperty('pushAddress');
    });

    it('ends the relapse watch', async () => {
      await users.put(aUser({ userId: 'w-1', relapseWatchUntil: '2026-12-01T00:00:00.000Z' }));
      await users.endRelapseWatch('w-1');
      expect(await users.get('w-1')).not.toHaveProperty('relapseWatchUntil');
    });
  });

  it('putMany writes more than one batch of 25', async () => {
    const fresh = await freshUsers();
    await fresh.putMany(Array.from({ length: 61 }, (_, i) => aUser({ userId: `m-${i}` })));
    const out = await dynamo.doc.send(new ScanCommand({ TableName: fresh.tableName, Select: 'COUNT' }));
    expect(out.Count).toBe(61);
  });
});
