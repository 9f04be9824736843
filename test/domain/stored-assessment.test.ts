import { describe, expect, it } from 'vitest';
import { type Assessment, assess } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../functions/domain/policy.ts';
import { needsRewrite } from '../../functions/domain/stored-assessment.ts';
import { MS_PER_DAY } from '../../functions/domain/time.ts';
import type { StoredAssessment } from '../../functions/domain/user.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

const NOW_MS = AS_OF.getTime();

// Away 20 days with a small balance: at risk, high, with several reasons.
const next: Assessment = assess(
  aUser({ lastLoginAt: daysBefore(AS_OF, 20), lastInvestAt: daysBefore(AS_OF, 20), balanceFen: 5_000 }),
  DEFAULT_POLICY,
  AS_OF,
);

/** What the scan would have stored for `next`, assessed `msAgo` before AS_OF. */
function stored(overrides: Partial<StoredAssessment> = {}, msAgo = MS_PER_DAY): StoredAssessment {
  return {
    status: next.status,
    level: next.level,
    score: next.score,
    lifecycle: next.lifecycle,
    reasons: next.reasons.map((r) => ({ ...r })),
    assessedAt: new Date(NOW_MS - msAgo).toISOString(),
    ...overrides,
  };
}

describe('needsRewrite', () => {
  it('is about a verdict with several reasons and room to move the score both ways', () => {
    expect([next.status, next.level, next.lifecycle]).toEqual(['at_risk', 'high', 'mature']);
    expect(next.reasons.map((r) => r.code)).toEqual(['inactive_login', 'inactive_invest', 'low_balance']);
    expect(next.score).toBeGreaterThan(10);
    expect(next.score).toBeLessThan(90);
  });

  it('writes when nothing is stored', () => {
    expect(needsRewrite(undefined, next, NOW_MS, DEFAULT_POLICY)).toBe(true);
  });

  it('skips the write when the same verdict was stored recently', () => {
    expect(needsRewrite(stored(), next, NOW_MS, DEFAULT_POLICY)).toBe(false);
    // A reason's figure moving (one more day away) is not a change of verdict.
    const older = stored({ reasons: next.reasons.map((r) => ({ ...r, value: r.value - 1 })) });
    expect(needsRewrite(older, next, NOW_MS, DEFAULT_POLICY)).toBe(false);
  });

  it('writes when the status, level or lifecycle stage changes', () => {
    expect(needsRewrite(stored({ status: 'churned' }), next, NOW_MS, DEFAULT_POLICY)).toBe(true);
    expect(needsRewrite(stored({ level: 'medium' }), next, NOW_MS, DEFAULT_POLICY)).toBe(true);
    expect(needsRewrite(stored({ lifecycle: 'growth' }), next, NOW_MS, DEFAULT_POLICY)).toBe(true);
  });

  it('writes when a reason code changes, appears, disappears or moves', () => {
    const codes = (...c: string[]) => stored({ reasons: c.map((code) => ({ code })) });
    const write = (s: StoredAssessment) => needsRewrite(s, next, NOW_MS, DEFAULT_POLICY);
    expect(write(codes('inactive_login', 'inactive_invest', 'low_balance'))).toBe(false);
    expect(write(codes('inactive_login', 'inactive_invest', 'few_investments'))).toBe(true);
    expect(write(codes('inactive_login', 'inactive_invest'))).toBe(true);
    expect(write(codes('inactive_login', 'inactive_invest', 'low_balance', 'small_investments'))).toBe(true);
    expect(write(codes('inactive_invest', 'inactive_login', 'low_balance'))).toBe(true);
  });

  it('writes when the score moved by the tolerance (5) or more, either way', () => {
    expect(DEFAULT_POLICY.storedAssessment.scoreTolerance).toBe(5);
    const write = (delta: number) =>
      needsRewrite(stored({ score: next.score + delta }), next, NOW_MS, DEFAULT_POLICY);
    expect([-5, -4, -1, 1, 4, 5, 12].map(write)).toEqual([true, false, false, false, false, true, true]);
  });

  it('with a tolerance of 0, writes on any score change', () => {
    const policy = parsePolicy({ storedAssessment: { scoreTolerance: 0 } });
    expect(needsRewrite(stored({ score: next.score + 1 }), next, NOW_MS, policy)).toBe(true);
    expect(needsRewrite(stored(), next, NOW_MS, policy)).toBe(false);
  });

  it('refreshes the same verdict once it is refreshDays (7) old', () => {
    expect(DEFAULT_POLICY.storedAssessment.refreshDays).toBe(7);
    const write = (msAgo: number) => needsRewrite(stored({}, msAgo), next, NOW_MS, DEFAULT_POLICY);
    expect(write(7 * MS_PER_DAY - 1)).toBe(false);
    expect(write(7 * MS_PER_DAY)).toBe(true);
    expect(write(30 * MS_PER_DAY)).toBe(true);
  });

  it('follows the policy refresh, and refreshes every time at 0 days', () => {
    const daily = parsePolicy({ storedAssessment: { refreshDays: 1 } });
    expect(needsRewrite(stored({}, MS_PER_DAY - 1), next, NOW_MS, daily)).toBe(false);
    expect(needsRewrite(stored({}, MS_PER_DAY), next, NOW_MS, daily)).toBe(true);
    const always = parsePolicy({ storedAssessment: { refreshDays: 0 } });
    expect(needsRewrite(stored({}, 0), next, NOW_MS, always)).toBe(true);
  });
});
