import { describe, expect, it } from 'vitest';
import { createQuietLogger } from '../../functions/adapters/logger.ts';
import type { ScanCursor, UserPage, UserRepository } from '../../functions/adapters/user-repository.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import { type RecallTrigger, scanSegment } from '../../functions/use-cases/scan-segment.ts';
import { AS_OF, aUser } from '../support/fixtures.ts';

/**
 * A segment far bigger than one invocation can assess, where every at-risk user costs time (a
 * recall start waiting on throttling). The clock is simulated: each user the trigger considers
 * moves it on. The store is a stand-in that records the Limit of each Scan page; what is tested
 * is the use case's time budget, not DynamoDB (see scan-segment.test.ts for the scan on dynalite).
 */
function slowSegment(msPerUser: number, total = 100_000) {
  let elapsed = 0;
  const limits: (number | undefined)[] = [];
  let offset = 0;
  const users = {
    scanPage: async (
      _segment: number,
      _total: number,
      _cursor?: ScanCursor,
      limit?: number,
    ): Promise<UserPage> => {
      limits.push(limit);
      // DynamoDB's 1 MB page holds about 2,000 of these records.
      const size = Math.min(limit ?? 2_000, 2_000, total - offset);
      const items = Array.from({ length: size }, (_, i) =>
        aUser({ userId: `u${offset + i}`, lastLoginAt: '2026-09-01T00:00:00.000Z' }),
      );
      offset += size;
      return { items, ...(offset < total ? { cursor: { userId: `u${offset}` } } : {}) };
    },
    recordAssessment: async () => {},
  } as unknown as UserRepository; // only the two calls the scan makes
  const trigger: RecallTrigger = {
    consider: async () => {
      elapsed += msPerUser;
      return 'started';
    },
  };
  return { users, trigger, limits, elapsed: () => elapsed };
}

describe('scan pages fit the time left', () => {
  it.each([20, 100, 400])(
    'at %i ms per user, a 15-minute invocation hands over before its reserve, never mid-page',
    async (msPerUser) => {
      const timeout = 15 * 60_000;
      const reserve = 30_000;
      const seg = slowSegment(msPerUser);
      const result = await scanSegment(
        { asOf: AS_OF.toISOString(), segment: 0, totalSegments: 1 },
        {
          users: seg.users,
          policy: DEFAULT_POLICY,
          recalls: seg.trigger,
          logger: createQuietLogger(() => {}),
          remainingMs: () => timeout - seg.elapsed(),
          reserveMs: reserve,
          writeConcurrency: 1,
        },
      );
      expect(result.done).toBe(false);
      // The invocation ended with time to spare: no page ran into the timeout.
      expect(seg.elapsed()).toBeLessThanOrEqual(timeout);
      // It also did a fair share of the work: more than half of what fits in the time.
      expect(result.totals.scanned).toBeGreaterThan(((timeout - reserve) / msPerUser) * 0.5);
      // The first page measured the pace; every page after it was sized to fit.
      expect(seg.limits[0]).toBe(100);
      expect(seg.limits.every((l) => l !== undefined && l >= 1)).toBe(true);
    },
  );
});
