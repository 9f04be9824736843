import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecallPlan, Strategy } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../functions/domain/policy.ts';
import {
  cameBackSince,
  frequencyCap,
  hasRelapsed,
  isHoldout,
  RECALL_TRIGGERS,
  recallEligibility,
  recallIdFor,
  routeRecall,
  type SentMessage,
  waitHoursAfter,
} from '../../functions/domain/recall.ts';
import { MS_PER_DAY, MS_PER_HOUR } from '../../functions/domain/time.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

const NOW = AS_OF.toISOString();
const NOW_MS = AS_OF.getTime();
const iso = (ms: number) => new Date(ms).toISOString();
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

describe('recallIdFor', () => {
  it('names the episode by trigger, UTC day and user', () => {
    expect(recallIdFor('u42', 'scheduled', NOW)).toBe('r-20261124-u42');
    expect(recallIdFor('u42', 'manual', NOW)).toBe('m-20261124-u42');
    expect(recallIdFor('u42', 'segment', NOW)).toBe('s-20261124-u42');
    expect(recallIdFor('u42', 'segment', NOW, 'job-7')).toBe('s-20261124-u42-job-7');
  });

  it('is deterministic: the same day and user give the same id whatever the time of day', () => {
    expect(recallIdFor('u42', 'scheduled', '2026-11-24T00:00:00.000Z')).toBe(
      recallIdFor('u42', 'scheduled', '2026-11-24T23:59:59.999Z'),
    );
    expect(recallIdFor('a.b:c', 'manual', NOW, 'x')).toBe(recallIdFor('a.b:c', 'manual', NOW, 'x'));
  });

  it('differs per trigger, per day and per discriminator', () => {
    const ids = new Set([
      ...RECALL_TRIGGERS.map((t) => recallIdFor('u42', t, NOW)),
      recallIdFor('u42', 'scheduled', daysBefore(AS_OF, 1)),
      recallIdFor('u42', 'manual', NOW, 'a'),
      recallIdFor('u42', 'manual', NOW, 'b'),
      recallIdFor('u43', 'scheduled', NOW),
    ]);
    expect(ids.size).toBe(7);
  });

  it('escapes characters an execution name cannot carry and hashes the original id', () => {
    const id = recallIdFor('a.b:c', 'scheduled', NOW);
    expect(id).toMatch(/^r-20261124-a_b_c_[0-9a-z]+$/);
    // Escaping alone would make these three the same; the hash of the original keeps them apart.
    const clash = new Set(['a.b:c', 'a:b.c', 'a_b_c'].map((u) => recallIdFor(u, 'scheduled', NOW)));
    expect(clash.size).toBe(3);
    expect(recallIdFor('a_b_c', 'scheduled', NOW)).toBe('r-20261124-a_b_c');
  });

  it('keeps ids up to 48 characters and hashes longer ones, still distinct', () => {
    const u48 = 'x'.repeat(48);
    expect(recallIdFor(u48, 'scheduled', NOW)).toBe(`r-20261124-${u48}`);
    const long1 = `${'x'.repeat(127)}1`;
    const long2 = `${'x'.repeat(127)}2`;
    const a = recallIdFor(long1, 'manual', NOW, 'job/1234567890abcdefghij');
    const b = recallIdFor(long2, 'manual', NOW, 'job/1234567890abcdefghij');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^m-20261124-x{38}_[0-9a-z]+-job_1234567890ab$/);
    expect(a.length).toBeLessThanOrEqual(80);
  });

  it('is always a valid execution name, whatever the user id and discriminator', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }),
        fc.constantFrom(...RECALL_TRIGGERS),
        fc.option(fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), { nil: undefined }),
        (userId, trigger, discriminator) => {
          expect(recallIdFor(userId, trigger, NOW, discriminator)).toMatch(EXECUTION_NAME);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('isHoldout', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `u${String(i).padStart(9, '0')}`);

  it('never draws at share 0 (or below) and always at share 1', () => {
    expect(ids.slice(0, 2000).some((u) => isHoldout(u, NOW, 0))).toBe(false);
    expect(ids.slice(0, 2000).some((u) => isHoldout(u, NOW, -0.5))).toBe(false);
    expect(ids.slice(0, 2000).every((u) => isHoldout(u, NOW, 1))).toBe(true);
  });

  it('draws close to the share over 20,000 users', () => {
    const drawn = ids.filter((u) => isHoldout(u, NOW, 0.05)).length;
    // Binomial sd ≈ 31 around 1,000: ±100 is more than three of them.
    expect(drawn).toBeGreaterThanOrEqual(900);
    expect(drawn).toBeLessThanOrEqual(1100);
  });

  it('is stable within a month', () => {
    const early = ids.map((u) => isHoldout(u, '2026-11-01T00:00:00.000Z', 0.05));
    const late = ids.map((u) => isHoldout(u, '2026-11-30T23:59:59.999Z', 0.05));
    expect(late).toEqual(early);
    expect(early.filter(Boolean).length).toBe(ids.filter((u) => isHoldout(u, NOW, 0.05)).length);
  });

  it('redraws each month independently, so nobody is held out (never recalled) month after month', () => {
    const months = Array.from(
      { length: 12 },
      (_, i) => `2026-${String(i + 1).padStart(2, '0')}-15T00:00:00Z`,
    );
    const draws = ids.map((u) => months.map((m) => isHoldout(u, m, 0.05)));
    const november = draws.filter((d) => d[10]);
    const againInDecember = november.filter((d) => d[11]).length / november.length;
    // Independent draws: about 5% of November's holdout is held out again in December.
    expect(againInDecember).toBeLessThan(0.15);
    // 1 − 0.95¹² ≈ 46% of users land in the holdout at least once a year; 0.05¹² ≈ nobody every month.
    expect(draws.filter((d) => d.some(Boolean)).length / ids.length).toBeGreaterThan(0.4);
    expect(draws.filter((d) => d.every(Boolean)).length).toBe(0);
  });
});

describe('recallEligibility', () => {
  const cooldown = DEFAULT_POLICY.recall.cooldownDays;

  it('is eligible with no recall history', () => {
    expect(recallEligibility(aUser(), NOW, DEFAULT_POLICY)).toBe('eligible');
  });

  it('is already_active while a recall is open, even long after the last one closed', () => {
    const user = aUser({ activeRecallId: 'r-1', lastRecallClosedAt: daysBefore(AS_OF, 365) });
    expect(recallEligibility(user, NOW, DEFAULT_POLICY)).toBe('already_active');
  });

  it('ends the cool-down exactly 30 days after the last recall closed', () => {
    expect(cooldown).toBe(30);
    const closedAt = (msAgo: number) => aUser({ lastRecallClosedAt: iso(NOW_MS - msAgo) });
    expect(recallEligibility(closedAt(30 * MS_PER_DAY), NOW, DEFAULT_POLICY)).toBe('eligible');
    expect(recallEligibility(closedAt(30 * MS_PER_DAY - 1), NOW, DEFAULT_POLICY)).toBe('cooldown');
    expect(recallEligibility(closedAt(MS_PER_HOUR), NOW, DEFAULT_POLICY)).toBe('cooldown');
  });

  it('follows the policy cool-down', () => {
    const policy = parsePolicy({ recall: { cooldownDays: 0 } });
    expect(recallEligibility(aUser({ lastRecallClosedAt: NOW }), NOW, policy)).toBe('eligible');
  });
});

describe('hasRelapsed', () => {
  const watched = aUser({ relapseWatchUntil: NOW });

  it('is a relapse when at risk or churned again up to the end of the watch', () => {
    expect(hasRelapsed(watched, 'at_risk', daysBefore(AS_OF, 3))).toBe(true);
    expect(hasRelapsed(watched, 'churned', NOW)).toBe(true);
  });

  it('is not a relapse after the watch, when active, or when never watched', () => {
    expect(hasRelapsed(watched, 'at_risk', iso(NOW_MS + 1))).toBe(false);
    expect(hasRelapsed(watched, 'active', daysBefore(AS_OF, 3))).toBe(false);
    expect(hasRelapsed(aUser(), 'at_risk', NOW)).toBe(false);
  });
});

describe('routeRecall', () => {
  const reminder: Strategy = { kind: 'reminder' };
  const trust: Strategy = { kind: 'trust_building' };
  const all: RecallPlan = { channels: ['in_app', 'push', 'sms'], strategies: [trust, reminder] };
  const user = aUser();

  it('skips a holdout user, whatever the channels', () => {
    expect(routeRecall(all, 'medium', { holdout: true }, DEFAULT_POLICY, user)).toEqual({
      route: 'skip',
      skipReason: 'holdout',
      channels: ['in_app', 'push', 'sms'],
      strategies: [trust, reminder],
    });
  });

  it('skips with no_channel when nothing can reach the user', () => {
    const none: RecallPlan = { channels: [], strategies: [reminder] };
    const route = routeRecall(none, 'low', { holdout: false }, DEFAULT_POLICY, user);
    expect(route).toEqual({ route: 'skip', skipReason: 'no_channel', channels: [], strategies: [reminder] });
  });

  it('escalates below high risk, and goes SMS first at high risk or when SMS is all there is', () => {
    expect(routeRecall(all, 'low', { holdout: false }, DEFAULT_POLICY, user).route).toBe('escalate');
    expect(routeRecall(all, 'medium', { holdout: false }, DEFAULT_POLICY, user).route).toBe('escalate');
    const smsOnly: RecallPlan = { channels: ['sms'], strategies: [reminder] };
    expect(routeRecall(smsOnly, 'high', { holdout: false }, DEFAULT_POLICY, user)).toEqual({
      route: 'sms_first',
      channels: ['sms'],
      strategies: [reminder],
    });
    expect(routeRecall(smsOnly, 'low', { holdout: false }, DEFAULT_POLICY, user).route).toBe('sms_first');
    const pushOnly: RecallPlan = { channels: ['push'], strategies: [reminder] };
    expect(routeRecall(pushOnly, 'low', { holdout: false }, DEFAULT_POLICY, user).route).toBe('escalate');
  });

  it('starts a manual recall at push, leaving in-app out', () => {
    const route = routeRecall(all, 'low', { holdout: false, startAt: 'push' }, DEFAULT_POLICY, user);
    expect(route).toEqual({ route: 'escalate', channels: ['push', 'sms'], strategies: [trust, reminder] });
  });

  it('starts a manual recall where asked whatever the level, but consent still filters', () => {
    const smsOnly: RecallPlan = { channels: ['sms'], strategies: [reminder] };
    expect(
      routeRecall(smsOnly, 'high', { holdout: false, startAt: 'in_app' }, DEFAULT_POLICY, user).channels,
    ).toEqual(['in_app', 'push', 'sms']);
    const noPush = aUser({ pushAddress: undefined });
    expect(routeRecall(all, 'low', { holdout: false, startAt: 'push' }, DEFAULT_POLICY, noPush)).toEqual({
      route: 'sms_first',
      channels: ['sms'],
      strategies: [trust, reminder],
    });
    const nothing = aUser({ consent: { inApp: true, push: false, sms: false } });
    expect(
      routeRecall(all, 'low', { holdout: false, startAt: 'push' }, DEFAULT_POLICY, nothing),
    ).toMatchObject({
      route: 'skip',
      skipReason: 'no_channel',
      channels: [],
    });
  });

  it('puts a forced strategy first and does not repeat it', () => {
    const forced = routeRecall(all, 'low', { holdout: false, strategy: 'reminder' }, DEFAULT_POLICY, user);
    expect(forced.strategies).toEqual([reminder, trust]);
    // 1% of ¥60,000 invested, under the ¥5,000 cap.
    const reward = routeRecall(
      all,
      'low',
      { holdout: false, strategy: 'conditional_reward' },
      DEFAULT_POLICY,
      user,
    );
    expect(reward.strategies).toEqual([
      { kind: 'conditional_reward', amountFen: 60_000, unlockInvestFen: 1_000_000 },
      trust,
      reminder,
    ]);
    const rich = aUser({ totalInvestedFen: 90_000_000 });
    expect(
      routeRecall(all, 'low', { holdout: false, strategy: 'conditional_reward' }, DEFAULT_POLICY, rich)
        .strategies[0],
    ).toEqual({ kind: 'conditional_reward', amountFen: 500_000, unlockInvestFen: 1_000_000 });
  });

  it('fills in a forced strategy from the user', () => {
    const route = (strategy: 'marketing_activity' | 'preferred_product', u = user) =>
      routeRecall(all, 'low', { holdout: false, strategy }, DEFAULT_POLICY, u).strategies[0];
    expect(route('marketing_activity')).toEqual({ kind: 'marketing_activity', offer: 'bonus_rate_coupon' });
    expect(route('marketing_activity', aUser({ heldBonusProduct: true }))).toEqual({
      kind: 'marketing_activity',
      offer: 'lottery',
    });
    expect(route('preferred_product')).toEqual({ kind: 'preferred_product', products: [] });
    expect(route('preferred_product', aUser({ preferredProducts: ['稳盈90天'] }))).toEqual({
      kind: 'preferred_product',
      products: ['稳盈90天'],
    });
  });
});

describe('cameBackSince', () => {
  const start = daysBefore(AS_OF, 5);
  const startMs = NOW_MS - 5 * MS_PER_DAY;
  const later = (hours: number) => iso(startMs + hours * MS_PER_HOUR);

  it('is undefined when nothing happened after the start', () => {
    const user = aUser({ lastLoginAt: daysBefore(AS_OF, 6), lastInvestAt: daysBefore(AS_OF, 9) });
    expect(cameBackSince(user, start)).toBeUndefined();
    expect(cameBackSince(aUser({ lastLoginAt: undefined, lastInvestAt: undefined }), start)).toBeUndefined();
  });

  it('does not count activity exactly at the start', () => {
    expect(cameBackSince(aUser({ lastLoginAt: start, lastInvestAt: start }), start)).toBeUndefined();
    expect(cameBackSince(aUser({ lastLoginAt: iso(startMs + 1), lastInvestAt: start }), start)).toEqual({
      how: 'login',
      at: iso(startMs + 1),
    });
  });

  it('names whichever came first after the start; an investment wins a tie', () => {
    expect(cameBackSince(aUser({ lastLoginAt: later(2), lastInvestAt: later(1) }), start)).toEqual({
      how: 'investment',
      at: later(1),
    });
    expect(cameBackSince(aUser({ lastLoginAt: later(1), lastInvestAt: later(2) }), start)).toEqual({
      how: 'login',
      at: later(1),
    });
    expect(cameBackSince(aUser({ lastLoginAt: later(3), lastInvestAt: later(3) }), start)).toEqual({
      how: 'investment',
      at: later(3),
    });
  });

  it('counts either alone', () => {
    expect(cameBackSince(aUser({ lastLoginAt: later(4), lastInvestAt: undefined }), start)).toEqual({
      how: 'login',
      at: later(4),
    });
    expect(
      cameBackSince(aUser({ lastLoginAt: daysBefore(AS_OF, 6), lastInvestAt: later(4) }), start),
    ).toEqual({
      how: 'investment',
      at: later(4),
    });
  });
});

describe('frequencyCap', () => {
  const sent = (channel: SentMessage['channel'], msAgo: number): SentMessage => ({
    channel,
    sentAt: iso(NOW_MS - msAgo),
  });
  const WEEK = 7 * MS_PER_DAY;

  it('allows anything with nothing sent', () => {
    expect(frequencyCap([], 'sms', NOW, DEFAULT_POLICY)).toEqual({ allowed: true });
  });

  it('allows one SMS per 7 days; one exactly 7 days old no longer counts', () => {
    expect(frequencyCap([sent('sms', WEEK - 1)], 'sms', NOW, DEFAULT_POLICY)).toEqual({
      allowed: false,
      rule: 'sms_per_window',
    });
    expect(frequencyCap([sent('sms', WEEK)], 'sms', NOW, DEFAULT_POLICY)).toEqual({ allowed: true });
    // The SMS cap does not hold back other channels.
    expect(frequencyCap([sent('sms', MS_PER_HOUR)], 'push', NOW, DEFAULT_POLICY)).toEqual({ allowed: true });
  });

  it('allows three messages per 7 days on any channel', () => {
    const two = [sent('in_app', MS_PER_DAY), sent('push', 2 * MS_PER_DAY)];
    expect(frequencyCap(two, 'push', NOW, DEFAULT_POLICY)).toEqual({ allowed: true });
    const three = [...two, sent('in_app', WEEK - 1)];
    expect(frequencyCap(three, 'in_app', NOW, DEFAULT_POLICY)).toEqual({
      allowed: false,
      rule: 'messages_per_window',
    });
    const oneAged = [...two, sent('in_app', WEEK)];
    expect(frequencyCap(oneAged, 'in_app', NOW, DEFAULT_POLICY)).toEqual({ allowed: true });
    expect(frequencyCap([...three, sent('sms', MS_PER_HOUR)], 'sms', NOW, DEFAULT_POLICY)).toEqual({
      allowed: false,
      rule: 'messages_per_window',
    });
  });

  it('follows the policy window and limits', () => {
    const policy = parsePolicy({ recall: { frequencyCap: { windowDays: 1, smsPerWindow: 0 } } });
    expect(frequencyCap([], 'sms', NOW, policy)).toEqual({ allowed: false, rule: 'sms_per_window' });
    const two = [sent('push', MS_PER_DAY), sent('push', MS_PER_DAY), sent('push', MS_PER_DAY)];
    expect(frequencyCap(two, 'push', NOW, policy)).toEqual({ allowed: true });
  });
});

describe('waitHoursAfter', () => {
  it('waits 48 h after in-app, 72 h after push and a week after SMS by default', () => {
    expect(waitHoursAfter('in_app', DEFAULT_POLICY)).toBe(48);
    expect(waitHoursAfter('push', DEFAULT_POLICY)).toBe(72);
    expect(waitHoursAfter('sms', DEFAULT_POLICY)).toBe(168);
  });

  it('follows the policy', () => {
    const policy = parsePolicy({ recall: { waitHours: { afterInApp: 1, afterPush: 2.5, afterSms: 3 } } });
    expect(['in_app', 'push', 'sms'].map((c) => waitHoursAfter(c as 'sms', policy))).toEqual([1, 2.5, 3]);
  });
});
