import { beforeAll, describe, expect, it, vi } from 'vitest';
import { getMany } from '../../functions/adapters/dynamo.ts';
import { createQuietLogger } from '../../functions/adapters/logger.ts';
import { RecallRepository } from '../../functions/adapters/recall-repository.ts';
import { UserRepository } from '../../functions/adapters/user-repository.ts';
import { type Assessment, assess } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import { recallIdFor } from '../../functions/domain/recall.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { ScheduledRecalls } from '../../functions/use-cases/start-recall.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';
import { aUser, daysBefore } from '../support/fixtures.ts';

// The daily scan checks the episode behind every held lock; it reads them a page at a time.
const dynamo = useLocalDynamo();
let users: UserRepository;
let recalls: RecallRepository;
const AS_OF = new Date('2026-11-26T01:00:00Z');
const YESTERDAY = daysBefore(AS_OF, 1);

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => ['Users', 'Recalls'].includes(d.name));
  const tables = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  const named = (name: string) => tables.find((t) => t.name === dynamo.tablePrefix + name)!.name;
  users = new UserRepository(dynamo.doc, named('Users'));
  recalls = new RecallRepository(dynamo.doc, named('Recalls'));
});

describe('getMany', () => {
  it('reads more than a hundred items in batches and leaves absent keys out', async () => {
    const ids = Array.from({ length: 230 }, (_, i) => `bulk-${i}`);
    await users.putMany(ids.map((userId) => aUser({ userId })));
    const found = await getMany<{ userId: string }>(dynamo.doc, users.tableName, 'userId', [
      ...ids,
      'bulk-0',
      'nobody',
    ]);
    expect(found.size).toBe(230);
    expect(found.get('bulk-229')?.userId).toBe('bulk-229');
    expect(found.has('nobody')).toBe(false);
  });
});

describe('ScheduledRecalls and held locks', () => {
  it('reads the episodes of a page of held locks in one batch, and none one by one', async () => {
    const held = Array.from({ length: 5 }, (_, i) => {
      const u = aUser({
        userId: `held-${i}`,
        lastLoginAt: daysBefore(AS_OF, 40),
        lastInvestAt: daysBefore(AS_OF, 40),
      });
      return { ...u, activeRecallId: recallIdFor(u.userId, 'scheduled', YESTERDAY) };
    });
    await users.putMany(held);
    // Four episodes running since yesterday; the fifth lock has no episode behind it at all.
    for (const u of held.slice(0, 4)) {
      await recalls.createOnce({
        recallId: u.activeRecallId,
        userId: u.userId,
        trigger: 'scheduled',
        level: 'medium',
        startedAt: YESTERDAY,
        reasonCodes: [],
        holdout: false,
        steps: [],
        executionArn: `arn:aws:states:local:000000000000:execution:Recall:${u.activeRecallId}`,
      });
    }
    const scheduled = new ScheduledRecalls({
      users,
      recalls,
      workflow: {
        start: async (name) => ({ executionArn: `arn:local:${name}`, alreadyStarted: false }),
        isRunning: async () => true,
        consoleUrl: (arn) => arn,
      },
      notifier: { notify: async () => {} },
      policy: DEFAULT_POLICY,
      logger: createQuietLogger(() => {}),
    });
    const get = vi.spyOn(recalls, 'get');
    const getMany = vi.spyOn(recalls, 'getMany');
    const page = held.map((u): [UserRecord, Assessment] => [u, assess(u, DEFAULT_POLICY, AS_OF)]);
    const asOf = AS_OF.toISOString();
    await scheduled.preparePage(page, asOf);
    const decisions = await Promise.all(page.map(([u, a]) => scheduled.consider(u, a, asOf)));

    expect(getMany).toHaveBeenCalledTimes(1);
    expect(get).not.toHaveBeenCalled();
    // Running episodes keep their lock; the lock without an episode is freed and a recall starts.
    expect(decisions).toEqual([
      'already_active',
      'already_active',
      'already_active',
      'already_active',
      'started',
    ]);
    // Without the page read, reconcile still reads the episode itself.
    await scheduled.consider(page[0]![0], page[0]![1], asOf);
    expect(get).toHaveBeenCalledTimes(1);
  });
});
