import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { WinbackLogger } from '../../functions/adapters/logger.ts';
import type { UserRepository } from '../../functions/adapters/user-repository.ts';
import { addDays } from '../../functions/domain/time.ts';
import { recordActivity } from '../../functions/use-cases/record-activity.ts';
import { noRecalls, scanSegment } from '../../functions/use-cases/scan-segment.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import { putUsers, useTestRuntime } from '../support/runtime.ts';

// Case 5: one user's failure is counted and logged by key; the page and the segment go on.

function spyLogger() {
  const lines: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, extra: Record<string, unknown> = {}) =>
      void lines.push({ level, message, extra });
  const logger: WinbackLogger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return Object.assign(logger, { lines });
}

describe('a scan page where some users fail', () => {
  const env = useTestRuntime();

  it('counts and logs each failed user by key, and writes the rest', async () => {
    const { rt } = env;
    const lapsed = { lastLoginAt: daysBefore(AS_OF, 20) };
    await putUsers(
      rt,
      ...['f-1', 'f-deleted', 'f-2', 'f-huge', 'f-3'].map((userId) => aUser({ userId, ...lapsed })),
    );
    const record = rt.users.recordAssessment.bind(rt.users);
    const users = Object.create(rt.users) as UserRepository;
    users.recordAssessment = async (assessment, at) => {
      if (assessment.userId === 'f-deleted')
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      if (assessment.userId === 'f-huge')
        throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
          name: 'ValidationException',
        });
      return record(assessment, at);
    };
    const logger = spyLogger();
    const result = await scanSegment(
      { asOf: AS_OF.toISOString(), segment: 0, totalSegments: 1 },
      { users, policy: rt.policy, recalls: noRecalls, logger, remainingMs: () => 600_000 },
    );

    expect(result.done).toBe(true);
    expect(result.totals.written).toBe(3);
    expect(result.totals.failed).toBe(2);
    const logged = logger.lines.filter((l) => l.message === 'user not scanned');
    expect(logged.map((l) => l.extra.userId).sort()).toEqual(['f-deleted', 'f-huge']);
    expect((await rt.users.get('f-3'))?.assessment).toBeDefined();
  });
});

describe('investment event ids on the user record', () => {
  const env = useTestRuntime();

  it('keep only ids inside the dedup window', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'ids-1' }));
    const invest = (eventId: string) => ({
      eventId,
      userId: 'ids-1',
      type: 'investment' as const,
      at: rt.clock.nowIso(),
      amountFen: 1_000,
      productId: 'p',
      bonusRate: false,
    });
    expect((await recordActivity(invest('old-1'), rt.activityDeps)).status).toBe('applied');
    expect((await recordActivity(invest('old-2'), rt.activityDeps)).status).toBe('applied');
    await rt.advanceTo(addDays(rt.clock.now(), 91));
    expect((await recordActivity(invest('new-1'), rt.activityDeps)).status).toBe('applied');

    const ids = (await rt.users.get('ids-1'))?.investEventIds as Set<string>;
    expect([...ids]).toEqual(['new-1']);
    expect((await rt.users.get('ids-1'))?.investCount).toBe(15);
  });
});
