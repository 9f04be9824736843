import { PassThrough } from 'node:stream';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { recordEvents } from '../../functions/use-cases/api-events.ts';
import { recordActivity } from '../../functions/use-cases/record-activity.ts';
import { runExport } from '../../local/commands/store.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import { putUsers, readUser, useTestRuntime } from '../support/runtime.ts';

// Case 10: amounts and running sums stay within safe integers, and one bad item never stops an export.

const investment = (eventId: string, userId: string, amountFen: number) => ({
  eventId,
  userId,
  type: 'investment' as const,
  at: daysBefore(AS_OF, 1),
  amountFen,
  productId: 'p',
  bonusRate: false,
});

describe('investment amounts', () => {
  const env = useTestRuntime();

  it('above the policy maximum per investment are refused, naming the field', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'big-1' }));
    await expect(
      recordEvents([investment('big-inv-1', 'big-1', Number.MAX_SAFE_INTEGER)], rt.activityDeps),
    ).rejects.toMatchObject({
      issues: [expect.objectContaining({ in: 'body', field: 'events.0.amountFen' })],
    });
    expect((await readUser(rt, 'big-1')).totalInvestedFen).toBe(6_000_000);
  });

  it('that would carry a running sum past the safe range are not added', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'big-2', totalInvestedFen: Number.MAX_SAFE_INTEGER - 10 }));
    const result = await recordActivity(investment('big-inv-2', 'big-2', 100), rt.activityDeps);
    expect(result.status).toBe('over_limit');
    const user = await readUser(rt, 'big-2');
    expect(user.totalInvestedFen).toBe(Number.MAX_SAFE_INTEGER - 10);
    expect(user.investCount).toBe(12);
  });

  it('a stored sum past the safe range does not stop the users export', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'big-3' }), aUser({ userId: 'big-4' }));
    for (let i = 0; i < 2; i++) {
      await rt.clients.doc.send(
        new UpdateCommand({
          TableName: rt.tables.Users,
          Key: { userId: 'big-3' },
          UpdateExpression: 'ADD totalInvestedFen :a',
          ExpressionAttributeValues: { ':a': Number.MAX_SAFE_INTEGER },
        }),
      );
    }
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const n = await runExport(rt, 'users', out);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { userId: string });
    expect(n).toBe(lines.length);
    expect(lines.map((l) => l.userId)).toEqual(expect.arrayContaining(['big-3', 'big-4']));
  });
});
