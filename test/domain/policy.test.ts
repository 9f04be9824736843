import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  channelRisk,
  DEFAULT_POLICY,
  InvalidPolicyError,
  parsePolicy,
} from '../../functions/domain/policy.ts';

/** The documented defaults, written out so a changed default is a visible diff. */
const DOCUMENTED_DEFAULTS = {
  churn: { inactiveDays: 30 },
  highRisk: { loginDaysOver: 15, balanceUnderFen: 10_000 },
  warnings: {
    loginDaysOver: 14,
    investDaysOver: 14,
    lowBalanceUnderFen: 10_000,
    fewInvestmentsAtMost: 2,
    trustLineFen: 1_000_000,
    highValueTotalFen: 10_000_000,
    highChurnChannelRisk: 0.5,
    statusReasons: ['inactive_login', 'high_value_lapsed'],
  },
  channelBaseRisk: { distribution: 0.8, ads: 0.6, finance_supermarket: 0.5, invite: 0.3, organic: 0.2 },
  defaultChannelRisk: 0.4,
  score: {
    weights: {
      loginInactivity: 35,
      investInactivity: 20,
      lowBalance: 15,
      fewInvestments: 10,
      smallInvestments: 5,
      channel: 10,
      highValueLapsed: 5,
    },
    loginSaturationDays: 30,
    investSaturationDays: 60,
    balanceZeroRiskFen: 1_000_000,
    mediumAtScore: 50,
  },
  lifecycle: {
    growthMinAgeDays: 30,
    growthMinInvestments: 1,
    matureMinAgeDays: 180,
    matureMinInvestments: 10,
  },
  scan: { localTime: '09:00', timeZone: 'Asia/Shanghai' },
  reward: {
    rateBasisPoints: 100,
    capFen: 500_000,
    unlockInvestFen: 1_000_000,
    validDays: 30,
    dailyBudgetFen: 100_000_000,
  },
  storedAssessment: { scoreTolerance: 5, refreshDays: 7 },
  input: { futureSkewMinutes: 10, maxInvestFen: 10_000_000_000 },
  recall: {
    waitHours: { afterInApp: 48, afterPush: 72, afterSms: 168 },
    quietHours: { start: '21:00', end: '08:00' },
    frequencyCap: { windowDays: 7, smsPerWindow: 1, messagesPerWindow: 3 },
    sendRatePerSecond: { sms: 10, push: 100, in_app: 200 },
    cooldownDays: 30,
    holdoutShare: 0.05,
    relapseWatchDays: 30,
    birthdayWindowDays: 7,
    skipSmsWithoutUplift: false,
    minSmsUpliftPoints: 0,
  },
  cost: { smsFen: 5, pushFen: 0, inAppFen: 0, per1000TransitionsFen: 18 },
  uplift: { minSamplePerArm: 100 },
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parsePolicy: defaults', () => {
  it('DEFAULT_POLICY holds the documented defaults', () => {
    expect(DEFAULT_POLICY).toEqual(DOCUMENTED_DEFAULTS);
  });

  it.each([{ input: {} }, { input: undefined }, { input: null }])(
    'parsePolicy($input) equals DEFAULT_POLICY',
    ({ input }) => {
      expect(parsePolicy(input)).toEqual(DEFAULT_POLICY);
    },
  );

  it('docs/policy-sensitive.json restores the pre-calibration warnings and changes nothing else', () => {
    const file = JSON.parse(
      readFileSync(new URL('../../docs/policy-sensitive.json', import.meta.url), 'utf8'),
    );
    expect(parsePolicy(file, 'docs/policy-sensitive.json')).toEqual({
      ...DOCUMENTED_DEFAULTS,
      warnings: {
        ...DOCUMENTED_DEFAULTS.warnings,
        loginDaysOver: 7,
        statusReasons: ['inactive_login', 'inactive_invest', 'high_value_lapsed'],
      },
    });
  });

  it('the default weights add up to 100', () => {
    const total = Object.values(DEFAULT_POLICY.score.weights).reduce((a, b) => a + b, 0);
    expect(total).toBe(100);
  });
});

describe('parsePolicy: partial overrides keep the other defaults', () => {
  it.each([
    {
      case: 'one warning threshold',
      input: { warnings: { loginDaysOver: 10 } },
      expected: { ...DOCUMENTED_DEFAULTS, warnings: { ...DOCUMENTED_DEFAULTS.warnings, loginDaysOver: 10 } },
    },
    {
      case: 'one nested quiet-hours bound',
      input: { recall: { quietHours: { start: '22:30' } } },
      expected: {
        ...DOCUMENTED_DEFAULTS,
        recall: { ...DOCUMENTED_DEFAULTS.recall, quietHours: { start: '22:30', end: '08:00' } },
      },
    },
    {
      case: 'one score weight',
      input: { score: { weights: { channel: 0 } } },
      expected: {
        ...DOCUMENTED_DEFAULTS,
        score: {
          ...DOCUMENTED_DEFAULTS.score,
          weights: { ...DOCUMENTED_DEFAULTS.score.weights, channel: 0 },
        },
      },
    },
    {
      case: 'top-level scalar and the churn line',
      input: { defaultChannelRisk: 0.7, churn: { inactiveDays: 45 } },
      expected: { ...DOCUMENTED_DEFAULTS, defaultChannelRisk: 0.7, churn: { inactiveDays: 45 } },
    },
  ])('$case', ({ input, expected }) => {
    expect(parsePolicy(input)).toEqual(expected);
  });
});

describe('parsePolicy: invalid input', () => {
  it.each([
    {
      case: 'an unknown top-level key',
      input: { churnDays: 30 },
      field: 'churnDays',
      message: 'unknown field',
    },
    {
      case: 'an unknown nested key',
      input: { churn: { inactiveDay: 5 } },
      field: 'churn.inactiveDay',
      message: 'unknown field',
    },
    {
      case: 'a string for a number',
      input: { highRisk: { loginDaysOver: '15' } },
      field: 'highRisk.loginDaysOver',
      message: 'must be a number',
    },
    {
      case: 'a fraction of a fen',
      input: { reward: { capFen: 1.5 } },
      field: 'reward.capFen',
      message: 'must be a whole number of fen',
    },
    {
      case: 'a score threshold over 100',
      input: { score: { mediumAtScore: 101 } },
      field: 'score.mediumAtScore',
      message: 'must be at most 100',
    },
    {
      case: 'a channel risk over 1',
      input: { channelBaseRisk: { ads: 1.5 } },
      field: 'channelBaseRisk.ads',
      message: 'must be at most 1',
    },
    {
      case: 'a bad clock time',
      input: { recall: { quietHours: { start: '25:00' } } },
      field: 'recall.quietHours.start',
      message: 'must be HH:MM in 24-hour time',
    },
    {
      case: 'an unknown status reason',
      input: { warnings: { statusReasons: ['inactive_login', 'bored'] } },
      field: 'warnings.statusReasons.1',
      message: expect.stringContaining('must be one of'),
    },
    {
      case: 'a wrong type for a section',
      input: { churn: 30 },
      field: 'churn',
      message: 'must be an object',
    },
  ])('$case → InvalidPolicyError naming $field', ({ input, field, message }) => {
    const error = thrown(() => parsePolicy(input));
    expect(error).toBeInstanceOf(InvalidPolicyError);
    expect(error).toMatchObject({ name: 'InvalidPolicyError', issues: [{ field, message }] });
    const { issues } = error as InvalidPolicyError;
    expect((error as Error).message).toBe(`invalid policy: ${issues[0]!.field}: ${issues[0]!.message}`);
    expect((error as Error).message).toContain(`${field}: `);
  });

  it('names the source and every failing field', () => {
    const error = thrown(() =>
      parsePolicy({ churn: { inactiveDays: -1 }, reward: { capFen: 'lots' } }, 'WINBACK_POLICY'),
    ) as InvalidPolicyError;
    expect(error.issues.map((i) => i.field)).toEqual(['churn.inactiveDays', 'reward.capFen']);
    expect(error.message).toMatch(/^invalid WINBACK_POLICY: churn\.inactiveDays: .+; reward\.capFen: .+$/);
  });

  it.each([{ input: 'strict' }, { input: 42 }, { input: [] }])(
    'rejects a non-object policy $input',
    ({ input }) => {
      expect(() => parsePolicy(input)).toThrow(InvalidPolicyError);
    },
  );
});

describe('channelRisk', () => {
  it.each([
    { channel: 'distribution', risk: 0.8 },
    { channel: 'ads', risk: 0.6 },
    { channel: 'finance_supermarket', risk: 0.5 },
    { channel: 'invite', risk: 0.3 },
    { channel: 'organic', risk: 0.2 },
    { channel: 'partner-x', risk: 0.4 },
  ])('$channel → $risk', ({ channel, risk }) => {
    expect(channelRisk(DEFAULT_POLICY, channel)).toBe(risk);
  });

  it('uses the policy’s default for channels it does not name', () => {
    const policy = parsePolicy({ channelBaseRisk: { 'partner-x': 0.9 }, defaultChannelRisk: 0.1 });
    expect(channelRisk(policy, 'partner-x')).toBe(0.9);
    expect(channelRisk(policy, 'somewhere-else')).toBe(0.1);
  });
});
