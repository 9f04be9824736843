import { describe, expect, it } from 'vitest';
import {
  assess,
  daysUntilBirthday,
  lifecycleStage,
  type Reason,
  type Strategy,
} from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY, type Policy, type PolicyInput, parsePolicy } from '../../functions/domain/policy.ts';
import { MS_PER_MINUTE } from '../../functions/domain/time.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

const ago = (days: number) => daysBefore(AS_OF, days);
const run = (user: UserRecord, policy: Policy = DEFAULT_POLICY, asOf: Date = AS_OF) =>
  assess(user, policy, asOf);

/** A policy whose score is one weight at 100 points and nothing else. */
function onlyWeight(name: keyof Policy['score']['weights'], extra: PolicyInput = {}): Policy {
  const weights = {
    loginInactivity: 0,
    investInactivity: 0,
    lowBalance: 0,
    fewInvestments: 0,
    smallInvestments: 0,
    channel: 0,
    highValueLapsed: 0,
    [name]: 100,
  };
  return parsePolicy({ ...extra, score: { ...extra.score, weights } });
}

/** Lapsed 40 days on both counts with a healthy balance: churned, medium (score 50), not high. */
const churnedUser = (overrides: Partial<UserRecord> = {}) =>
  aUser({ lastLoginAt: ago(40), lastInvestAt: ago(40), ...overrides });

/** Twenty days without login: at risk through `inactive_login` only (over 14 days), level low. */
const atRiskUser = (overrides: Partial<UserRecord> = {}) => aUser({ lastLoginAt: ago(20), ...overrides });

/**
 * The pre-calibration thresholds, as in docs/policy-sensitive.json: `inactive_login` after 7 days and
 * `inactive_invest` also setting the status.
 */
const SENSITIVE = parsePolicy({
  warnings: { loginDaysOver: 7, statusReasons: ['inactive_login', 'inactive_invest', 'high_value_lapsed'] },
});

describe('assess: shape and the fixture', () => {
  it('returns the full assessment of an active user with no reasons and no plan', () => {
    const result = run(aUser());
    expect(result).toEqual({
      userId: 'user-1',
      status: 'active',
      level: 'none',
      score: expect.any(Number),
      lifecycle: 'mature',
      reasons: [],
      plan: { channels: [], strategies: [] },
    });
  });

  it('returns every reason with its value and threshold, in a fixed order', () => {
    const result = run(
      aUser({
        lastLoginAt: ago(90),
        lastInvestAt: ago(90),
        balanceFen: 0,
        investCount: 2,
        maxInvestFen: 999_999,
        totalInvestedFen: 1_999_998,
        channel: 'distribution',
      }),
    );
    expect(result.reasons).toEqual([
      { code: 'inactive_login', value: 90, threshold: 14 },
      { code: 'inactive_invest', value: 90, threshold: 14 },
      { code: 'low_balance', value: 0, threshold: 10_000 },
      { code: 'few_investments', value: 2, threshold: 2 },
      { code: 'small_investments', value: 999_999, threshold: 1_000_000 },
      { code: 'high_churn_channel', value: 0.8, threshold: 0.5 },
    ]);
    // 35 + 20 + 15 + 10 + 5 + 10 × 0.8
    expect(result.score).toBe(93);
    expect(result.status).toBe('churned');
    expect(result.level).toBe('high');
    expect(result.plan).toEqual({
      channels: ['sms'],
      strategies: [{ kind: 'trust_building' }, { kind: 'experience_coupon' }],
    });
  });
});

describe('assess: churn', () => {
  it.each([
    { case: '29 days on both', login: 29, invest: 29, status: 'at_risk' },
    { case: '30 days on both', login: 30, invest: 30, status: 'churned' },
    { case: '31 days on both', login: 31, invest: 31, status: 'churned' },
    { case: 'login 30, invest 29', login: 30, invest: 29, status: 'at_risk' },
    { case: 'login 29, invest 30', login: 29, invest: 30, status: 'at_risk' },
  ])('$case without login and investment → $status', ({ login, invest, status }) => {
    const result = run(aUser({ lastLoginAt: ago(login), lastInvestAt: ago(invest) }));
    expect(result.status).toBe(status);
    expect(result.level).toBe('low');
    expect(result.reasons).toEqual([
      { code: 'inactive_login', value: login, threshold: 14 },
      { code: 'inactive_invest', value: invest, threshold: 14 },
    ]);
  });

  it('counts whole days: one minute short of 30 days is 29 days and not churned', () => {
    const almost = new Date(AS_OF.getTime() - 30 * 86_400_000 + MS_PER_MINUTE).toISOString();
    const result = run(aUser({ lastLoginAt: almost, lastInvestAt: almost }));
    expect(result.status).toBe('at_risk');
    expect(result.reasons[0]).toEqual({ code: 'inactive_login', value: 29, threshold: 14 });
  });

  it('a later asOf turns the same user from at risk into churned', () => {
    const user = aUser({ lastLoginAt: ago(29), lastInvestAt: ago(29) });
    expect(run(user).status).toBe('at_risk');
    expect(run(user, DEFAULT_POLICY, new Date(AS_OF.getTime() + 86_400_000)).status).toBe('churned');
  });

  it.each([
    { registeredDaysAgo: 29, status: 'at_risk' },
    { registeredDaysAgo: 30, status: 'churned' },
  ])(
    'never logged in nor invested, registered $registeredDaysAgo days ago → $status',
    ({ registeredDaysAgo, status }) => {
      const result = run(
        aUser({
          registeredAt: ago(registeredDaysAgo),
          lastLoginAt: undefined,
          lastInvestAt: undefined,
          investCount: 0,
          maxInvestFen: 0,
          totalInvestedFen: 0,
          heldBonusProduct: true,
        }),
      );
      expect(result.status).toBe(status);
      expect(result.reasons).toEqual([
        { code: 'inactive_login', value: registeredDaysAgo, threshold: 14 },
        { code: 'inactive_invest', value: registeredDaysAgo, threshold: 14, never: true },
        { code: 'few_investments', value: 0, threshold: 2 },
      ]);
    },
  );

  it('a user who never invested but logged in yesterday is not churned: active by default, at risk when inactive_invest sets the status', () => {
    const user = aUser({ lastInvestAt: undefined, investCount: 0 });
    const result = run(user);
    expect(result.status).toBe('active');
    expect(result.reasons).toContainEqual({
      code: 'inactive_invest',
      value: 400,
      threshold: 14,
      never: true,
    });
    expect(run(user, SENSITIVE).status).toBe('at_risk');
  });

  it('honours policy.churn.inactiveDays', () => {
    const policy = parsePolicy({ churn: { inactiveDays: 20 } });
    expect(run(aUser({ lastLoginAt: ago(20), lastInvestAt: ago(20) }), policy).status).toBe('churned');
    expect(run(aUser({ lastLoginAt: ago(19), lastInvestAt: ago(20) }), policy).status).toBe('at_risk');
  });
});

describe('assess: level', () => {
  it.each([
    { login: 15, balance: 9_999, level: 'low', score: 35 },
    { login: 16, balance: 9_999, level: 'high', score: 36 },
    { login: 16, balance: 10_000, level: 'low', score: 36 },
    { login: 15, balance: 10_000, level: 'low', score: 35 },
    { login: 40, balance: 0, level: 'high', score: 52 },
  ])('$login days without login, balance $balance fen → $level', ({ login, balance, level, score }) => {
    const result = run(aUser({ lastLoginAt: ago(login), balanceFen: balance }));
    expect(result.status).toBe('at_risk');
    expect(result.level).toBe(level);
    expect(result.score).toBe(score);
  });

  it('the high-risk rule alone makes a user at risk when no warning is a status reason', () => {
    const policy = parsePolicy({ warnings: { statusReasons: [] } });
    expect(run(aUser({ lastLoginAt: ago(16), balanceFen: 9_999 }), policy)).toMatchObject({
      status: 'at_risk',
      level: 'high',
    });
    expect(run(aUser({ lastLoginAt: ago(15), balanceFen: 9_999 }), policy)).toMatchObject({
      status: 'active',
      level: 'none',
    });
    expect(run(aUser({ lastLoginAt: ago(16), balanceFen: 10_000 }), policy)).toMatchObject({
      status: 'active',
      level: 'none',
    });
  });

  it('a churned user with a low balance is high', () => {
    const result = run(churnedUser({ balanceFen: 0 }));
    expect(result).toMatchObject({ status: 'churned', level: 'high' });
  });

  it.each([
    { mediumAtScore: 50, level: 'medium' },
    { mediumAtScore: 51, level: 'low' },
  ])('score 50 with mediumAtScore $mediumAtScore → $level', ({ mediumAtScore, level }) => {
    const result = run(churnedUser(), parsePolicy({ score: { mediumAtScore } }));
    // 35 + 20 × 40/60 + 10 × 0.2 = 50.33
    expect(result.score).toBe(50);
    expect(result).toMatchObject({ status: 'churned', level });
  });

  it('an active user is level none even with a reason that does not set the status', () => {
    const result = run(aUser({ balanceFen: 5_000 }));
    expect(result).toMatchObject({ status: 'active', level: 'none' });
    expect(result.reasons).toEqual([{ code: 'low_balance', value: 5_000, threshold: 10_000 }]);
  });
});

describe('assess: status reasons', () => {
  it.each([
    { case: '14 days without login', user: { lastLoginAt: ago(14) }, status: 'active' },
    { case: '15 days without login', user: { lastLoginAt: ago(15) }, status: 'at_risk' },
    // inactive_invest is a reason by default, not a status reason: it weighs in the score and the plan.
    { case: '14 days without investing', user: { lastInvestAt: ago(14) }, status: 'active' },
    { case: '15 days without investing', user: { lastInvestAt: ago(15) }, status: 'active' },
    { case: '90 days without investing', user: { lastInvestAt: ago(90) }, status: 'active' },
    { case: 'high value lapsed', user: { totalInvestedFen: 10_000_000, balanceFen: 0 }, status: 'at_risk' },
    { case: 'only few investments', user: { investCount: 1 }, status: 'active' },
    { case: 'only small investments', user: { maxInvestFen: 1 }, status: 'active' },
    { case: 'only a high-churn channel', user: { channel: 'distribution' }, status: 'active' },
  ])('$case → $status', ({ user, status }) => {
    expect(run(aUser(user)).status).toBe(status);
  });

  it.each([
    { case: '7 days without login', user: { lastLoginAt: ago(7) }, status: 'active' },
    { case: '8 days without login', user: { lastLoginAt: ago(8) }, status: 'at_risk' },
    { case: '14 days without investing', user: { lastInvestAt: ago(14) }, status: 'active' },
    { case: '15 days without investing', user: { lastInvestAt: ago(15) }, status: 'at_risk' },
    { case: 'high value lapsed', user: { totalInvestedFen: 10_000_000, balanceFen: 0 }, status: 'at_risk' },
  ])('under the sensitive policy: $case → $status', ({ user, status }) => {
    expect(run(aUser(user), SENSITIVE).status).toBe(status);
  });

  it('policy.warnings.statusReasons decides which reasons set the status', () => {
    const user = aUser({ balanceFen: 5_000 });
    expect(run(user, parsePolicy({ warnings: { statusReasons: ['low_balance'] } })).status).toBe('at_risk');
    expect(
      run(aUser({ lastLoginAt: ago(20) }), parsePolicy({ warnings: { statusReasons: [] } })).status,
    ).toBe('active');
  });
});

describe('assess: reasons at their boundaries', () => {
  const codes = (reasons: Reason[]) => reasons.map((r) => r.code);

  it.each([
    { case: 'login 14 days ago', user: { lastLoginAt: ago(14) }, reason: undefined },
    {
      case: 'login 15 days ago',
      user: { lastLoginAt: ago(15) },
      reason: { code: 'inactive_login', value: 15, threshold: 14 },
    },
    { case: 'invested 14 days ago', user: { lastInvestAt: ago(14) }, reason: undefined },
    {
      case: 'invested 15 days ago',
      user: { lastInvestAt: ago(15) },
      reason: { code: 'inactive_invest', value: 15, threshold: 14 },
    },
    {
      case: 'balance 9,999 fen',
      user: { balanceFen: 9_999 },
      reason: { code: 'low_balance', value: 9_999, threshold: 10_000 },
    },
    { case: 'balance 10,000 fen', user: { balanceFen: 10_000 }, reason: undefined },
    {
      case: '2 investments',
      user: { investCount: 2 },
      reason: { code: 'few_investments', value: 2, threshold: 2 },
    },
    { case: '3 investments', user: { investCount: 3 }, reason: undefined },
    {
      case: 'largest investment 999,999 fen',
      user: { maxInvestFen: 999_999 },
      reason: { code: 'small_investments', value: 999_999, threshold: 1_000_000 },
    },
    { case: 'largest investment 1,000,000 fen', user: { maxInvestFen: 1_000_000 }, reason: undefined },
    {
      case: 'largest investment 999,999 fen with a bonus product held',
      user: { maxInvestFen: 999_999, heldBonusProduct: true },
      reason: undefined,
    },
    {
      case: 'channel distribution (0.8)',
      user: { channel: 'distribution' },
      reason: { code: 'high_churn_channel', value: 0.8, threshold: 0.5 },
    },
    {
      case: 'channel finance_supermarket (0.5)',
      user: { channel: 'finance_supermarket' },
      reason: { code: 'high_churn_channel', value: 0.5, threshold: 0.5 },
    },
    { case: 'channel invite (0.3)', user: { channel: 'invite' }, reason: undefined },
    { case: 'an unknown channel (default 0.4)', user: { channel: 'partner-x' }, reason: undefined },
  ])('$case', ({ user, reason }) => {
    const result = run(aUser(user));
    expect(result.reasons).toEqual(reason ? [reason] : []);
  });

  it.each([
    { total: 9_999_999, balance: 9_999, lapsed: false },
    { total: 10_000_000, balance: 9_999, lapsed: true },
    { total: 10_000_000, balance: 10_000, lapsed: false },
  ])(
    'total invested $total fen, balance $balance fen → high_value_lapsed $lapsed',
    ({ total, balance, lapsed }) => {
      const result = run(aUser({ totalInvestedFen: total, balanceFen: balance }));
      if (lapsed) {
        expect(result.reasons).toEqual([
          { code: 'low_balance', value: balance, threshold: 10_000 },
          { code: 'high_value_lapsed', value: total, threshold: 10_000_000 },
        ]);
      } else {
        expect(codes(result.reasons)).not.toContain('high_value_lapsed');
      }
    },
  );

  it('honours overridden warning thresholds', () => {
    const policy = parsePolicy({ warnings: { loginDaysOver: 3, fewInvestmentsAtMost: 12 } });
    expect(run(aUser({ lastLoginAt: ago(4) }), policy).reasons).toEqual([
      { code: 'inactive_login', value: 4, threshold: 3 },
      { code: 'few_investments', value: 12, threshold: 12 },
    ]);
  });
});

describe('assess: score', () => {
  it.each([
    { days: 0, score: 0 },
    { days: 1, score: 3 },
    { days: 2, score: 7 },
    { days: 15, score: 50 },
    { days: 30, score: 100 },
    { days: 90, score: 100 },
  ])('login inactivity: $days days → $score of 100', ({ days, score }) => {
    expect(run(aUser({ lastLoginAt: ago(days) }), onlyWeight('loginInactivity')).score).toBe(score);
  });

  it.each([
    { days: 0, score: 0 },
    { days: 30, score: 50 },
    { days: 60, score: 100 },
    { days: 120, score: 100 },
  ])('invest inactivity: $days days → $score of 100', ({ days, score }) => {
    expect(run(aUser({ lastInvestAt: ago(days) }), onlyWeight('investInactivity')).score).toBe(score);
  });

  it('invest inactivity of a user who never invested counts from registration', () => {
    const user = aUser({ registeredAt: ago(30), lastInvestAt: undefined, investCount: 0 });
    expect(run(user, onlyWeight('investInactivity')).score).toBe(50);
  });

  it.each([
    { balance: 0, score: 100 },
    { balance: 9_999, score: 100 },
    { balance: 10_000, score: 100 },
    { balance: 505_000, score: 50 },
    { balance: 1_000_000, score: 0 },
    { balance: 5_000_000, score: 0 },
  ])('balance $balance fen → $score of 100', ({ balance, score }) => {
    expect(run(aUser({ balanceFen: balance }), onlyWeight('lowBalance')).score).toBe(score);
  });

  it('balance risk is all or nothing when the zero-risk balance is at the low-balance line', () => {
    const policy = onlyWeight('lowBalance', { score: { balanceZeroRiskFen: 10_000 } });
    expect(run(aUser({ balanceFen: 9_999 }), policy).score).toBe(100);
    expect(run(aUser({ balanceFen: 10_000 }), policy).score).toBe(0);
  });

  it.each([
    { weight: 'fewInvestments', user: { investCount: 2 }, score: 100 },
    { weight: 'fewInvestments', user: { investCount: 3 }, score: 0 },
    { weight: 'smallInvestments', user: { maxInvestFen: 999_999 }, score: 100 },
    { weight: 'smallInvestments', user: { maxInvestFen: 999_999, heldBonusProduct: true }, score: 0 },
    { weight: 'channel', user: { channel: 'distribution' }, score: 80 },
    { weight: 'channel', user: { channel: 'organic' }, score: 20 },
    { weight: 'channel', user: { channel: 'partner-x' }, score: 40 },
    { weight: 'highValueLapsed', user: { totalInvestedFen: 10_000_000, balanceFen: 0 }, score: 100 },
    { weight: 'highValueLapsed', user: { totalInvestedFen: 10_000_000, balanceFen: 10_000 }, score: 0 },
  ] as const)('$weight with $user → $score', ({ weight, user, score }) => {
    expect(run(aUser(user), onlyWeight(weight)).score).toBe(score);
  });

  it('caps the score at 100', () => {
    const policy = parsePolicy({ score: { weights: { loginInactivity: 300 } } });
    expect(run(aUser({ lastLoginAt: ago(30) }), policy).score).toBe(100);
  });

  it('is 0 for a user with no risk at all', () => {
    const policy = parsePolicy({ channelBaseRisk: { organic: 0 } });
    const now = AS_OF.toISOString();
    expect(run(aUser({ lastLoginAt: now, lastInvestAt: now }), policy).score).toBe(0);
  });
});

describe('assess: lifecycle', () => {
  it.each([
    { age: 29, count: 3, stage: 'novice' },
    { age: 30, count: 0, stage: 'novice' },
    { age: 30, count: 1, stage: 'growth' },
    { age: 30, count: 3, stage: 'growth' },
    { age: 179, count: 10, stage: 'growth' },
    { age: 180, count: 9, stage: 'growth' },
    { age: 180, count: 10, stage: 'mature' },
    { age: 1000, count: 0, stage: 'novice' },
    { age: 1000, count: 2, stage: 'growth' },
  ])('registered $age days ago with $count investments → $stage', ({ age, count, stage }) => {
    expect(run(aUser({ registeredAt: ago(age), investCount: count })).lifecycle).toBe(stage);
    expect(lifecycleStage(age, count, DEFAULT_POLICY)).toBe(stage);
  });

  it('follows policy.lifecycle', () => {
    const policy = parsePolicy({ lifecycle: { growthMinAgeDays: 7, growthMinInvestments: 2 } });
    expect(lifecycleStage(7, 1, policy)).toBe('novice');
    expect(lifecycleStage(7, 2, policy)).toBe('growth');
    expect(lifecycleStage(6, 1, policy)).toBe('novice');
  });
});

describe('assess: plan channels', () => {
  it.each([
    { case: 'every consent and address', user: {}, channels: ['in_app', 'push', 'sms'] },
    {
      case: 'no in-app consent',
      user: { consent: { inApp: false, push: true, sms: true } },
      channels: ['push', 'sms'],
    },
    {
      case: 'no push consent',
      user: { consent: { inApp: true, push: false, sms: true } },
      channels: ['in_app', 'sms'],
    },
    { case: 'no push address', user: { pushAddress: undefined }, channels: ['in_app', 'sms'] },
    {
      case: 'no SMS consent',
      user: { consent: { inApp: true, push: true, sms: false } },
      channels: ['in_app', 'push'],
    },
    { case: 'no phone', user: { phone: undefined }, channels: ['in_app', 'push'] },
    { case: 'no consent at all', user: { consent: { inApp: false, push: false, sms: false } }, channels: [] },
  ])('not high, $case → $channels', ({ user, channels }) => {
    const result = run(atRiskUser(user));
    expect(result.level).toBe('low');
    expect(result.plan.channels).toEqual(channels);
  });

  it.each([
    { case: 'every consent and address', user: {}, channels: ['sms'] },
    // Case 13: SMS cannot reach them, so the consented channels are used instead.
    {
      case: 'no SMS consent',
      user: { consent: { inApp: true, push: true, sms: false } },
      channels: ['in_app', 'push'],
    },
    { case: 'no phone', user: { phone: undefined }, channels: ['in_app', 'push'] },
  ])('high, $case → $channels', ({ user, channels }) => {
    const result = run(aUser({ lastLoginAt: ago(16), balanceFen: 0, ...user }));
    expect(result.level).toBe('high');
    expect(result.plan.channels).toEqual(channels);
  });
});

describe('assess: plan strategies', () => {
  it.each<{ case: string; user: Partial<UserRecord>; strategies: Strategy[] }>([
    { case: 'nothing specific', user: {}, strategies: [{ kind: 'reminder' }] },
    { case: 'few investments', user: { investCount: 2 }, strategies: [{ kind: 'experience_coupon' }] },
    { case: 'small investments', user: { maxInvestFen: 999_999 }, strategies: [{ kind: 'trust_building' }] },
    {
      case: 'small investments with a bonus product held',
      user: { maxInvestFen: 999_999, heldBonusProduct: true },
      strategies: [{ kind: 'reminder' }],
    },
    {
      case: 'known preferences',
      user: { preferredProducts: ['fund-a', 'bond-b'] },
      strategies: [{ kind: 'preferred_product', products: ['fund-a', 'bond-b'] }],
    },
    { case: 'empty preferences', user: { preferredProducts: [] }, strategies: [{ kind: 'reminder' }] },
    {
      case: 'a churn reason while only at risk',
      user: { churnReason: 'economic', investCount: 2 },
      strategies: [{ kind: 'experience_coupon' }],
    },
  ])('at risk with $case', ({ user, strategies }) => {
    const result = run(atRiskUser(user));
    expect(result.status).toBe('at_risk');
    expect(result.plan.strategies).toEqual(strategies);
  });

  it.each<{ case: string; user: Partial<UserRecord>; strategies: Strategy[] }>([
    { case: 'no churn reason', user: {}, strategies: [{ kind: 'reminder' }] },
    { case: 'churn reason other', user: { churnReason: 'other' }, strategies: [{ kind: 'reminder' }] },
    { case: 'economic', user: { churnReason: 'economic' }, strategies: [{ kind: 'care' }] },
    {
      case: 'economic, even with every other strategy applicable',
      user: {
        churnReason: 'economic',
        investCount: 2,
        maxInvestFen: 999_999,
        totalInvestedFen: 10_000_000,
        balanceFen: 0,
        preferredProducts: ['fund-a'],
      },
      strategies: [{ kind: 'care' }],
    },
    {
      case: 'frustrated',
      user: { churnReason: 'frustrated' },
      strategies: [{ kind: 'reinvite_after_improvement' }],
    },
    { case: 'policy', user: { churnReason: 'policy' }, strategies: [{ kind: 'good_news' }] },
    {
      case: 'natural, birthday in 7 days',
      user: { churnReason: 'natural', birthday: '1990-12-01' },
      strategies: [{ kind: 'marketing_activity', offer: 'birthday_coupon' }],
    },
    {
      case: 'natural, birthday today',
      user: { churnReason: 'natural', birthday: '1990-11-24' },
      strategies: [{ kind: 'marketing_activity', offer: 'birthday_coupon' }],
    },
    {
      case: 'natural, birthday in 8 days',
      user: { churnReason: 'natural', birthday: '1990-12-02' },
      strategies: [{ kind: 'marketing_activity', offer: 'bonus_rate_coupon' }],
    },
    {
      case: 'natural, birthday yesterday',
      user: { churnReason: 'natural', birthday: '1990-11-23' },
      strategies: [{ kind: 'marketing_activity', offer: 'bonus_rate_coupon' }],
    },
    {
      case: 'natural, birthday in 8 days, bonus product held',
      user: { churnReason: 'natural', birthday: '1990-12-02', heldBonusProduct: true },
      strategies: [{ kind: 'marketing_activity', offer: 'lottery' }],
    },
    {
      case: 'natural, no birthday, bonus product held',
      user: { churnReason: 'natural', heldBonusProduct: true },
      strategies: [{ kind: 'marketing_activity', offer: 'lottery' }],
    },
    {
      case: 'natural, no birthday, no bonus product',
      user: { churnReason: 'natural' },
      strategies: [{ kind: 'marketing_activity', offer: 'bonus_rate_coupon' }],
    },
    {
      case: 'frustrated with every other strategy applicable, most specific first',
      user: {
        churnReason: 'frustrated',
        investCount: 2,
        maxInvestFen: 999_999,
        totalInvestedFen: 20_000_000,
        balanceFen: 0,
        preferredProducts: ['fund-a'],
      },
      strategies: [
        { kind: 'reinvite_after_improvement' },
        { kind: 'conditional_reward', amountFen: 200_000, unlockInvestFen: 1_000_000 },
        { kind: 'trust_building' },
        { kind: 'experience_coupon' },
        { kind: 'preferred_product', products: ['fund-a'] },
      ],
    },
  ])('churned with $case', ({ user, strategies }) => {
    const result = run(churnedUser(user));
    expect(result.status).toBe('churned');
    expect(result.plan.strategies).toEqual(strategies);
  });

  it('the birthday window follows policy.recall.birthdayWindowDays', () => {
    const user = churnedUser({ churnReason: 'natural', birthday: '1990-12-02' });
    const policy = parsePolicy({ recall: { birthdayWindowDays: 8 } });
    expect(run(user, policy).plan.strategies).toEqual([
      { kind: 'marketing_activity', offer: 'birthday_coupon' },
    ]);
  });

  it('an economic churn still reaches the user on the channels it may use', () => {
    const result = run(
      churnedUser({ churnReason: 'economic', consent: { inApp: true, push: false, sms: true } }),
    );
    expect(result.plan).toEqual({ channels: ['in_app', 'sms'], strategies: [{ kind: 'care' }] });
  });
});

describe('assess: conditional reward', () => {
  it.each([
    { total: 10_000_000, amount: 100_000 },
    { total: 10_000_099, amount: 100_000 },
    { total: 49_999_900, amount: 499_999 },
    { total: 50_000_000, amount: 500_000 },
    { total: 50_000_100, amount: 500_000 },
    { total: 80_000_000, amount: 500_000 },
  ])('total invested $total fen → reward $amount fen', ({ total, amount }) => {
    const result = run(aUser({ totalInvestedFen: total, balanceFen: 0 }));
    expect(result.status).toBe('at_risk');
    expect(result.plan.strategies).toEqual([
      { kind: 'conditional_reward', amountFen: amount, unlockInvestFen: 1_000_000 },
    ]);
  });

  it.each([
    { total: 10_000_000, amount: 200_000 },
    { total: 12_500_000, amount: 250_000 },
    { total: 12_500_050, amount: 250_000 },
  ])(
    'follows policy.reward: 2% capped at 250,000 fen, total $total fen → $amount fen',
    ({ total, amount }) => {
      const policy = parsePolicy({
        reward: { capFen: 250_000, rateBasisPoints: 200, unlockInvestFen: 500_000 },
      });
      const result = run(aUser({ totalInvestedFen: total, balanceFen: 0 }), policy);
      expect(result.plan.strategies).toEqual([
        { kind: 'conditional_reward', amountFen: amount, unlockInvestFen: 500_000 },
      ]);
    },
  );
});

describe('daysUntilBirthday', () => {
  it.each([
    { birthday: '1990-11-24', asOf: '2026-11-24T01:00:00Z', days: 0 },
    { birthday: '1990-12-01', asOf: '2026-11-24T01:00:00Z', days: 7 },
    { birthday: '1990-11-23', asOf: '2026-11-24T01:00:00Z', days: 364 },
    { birthday: '1990-01-02', asOf: '2026-12-28T23:00:00Z', days: 5 },
    { birthday: '1992-02-29', asOf: '2027-02-27T00:00:00Z', days: 2 },
  ])('$birthday as of $asOf → $days days', ({ birthday, asOf, days }) => {
    expect(daysUntilBirthday(birthday, new Date(asOf))).toBe(days);
  });
});
