import { z } from 'zod';
import { DEFAULT_SEND_RATE_PER_SECOND } from './pacing.ts';
import { describeIssues, type FieldIssue, isTimeZone } from './user.ts';

const fen = z.number().int('must be a whole number of fen').nonnegative();
const days = z.number().int().nonnegative();
const weight = z.number().nonnegative();
const share = z.number().min(0).max(1);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM in 24-hour time');

/** Reason codes an assessment can carry. */
export const REASON_CODES = [
  'inactive_login',
  'inactive_invest',
  'low_balance',
  'few_investments',
  'small_investments',
  'high_churn_channel',
  'high_value_lapsed',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

const DEFAULT_CHANNEL_RISK: Record<string, number> = {
  distribution: 0.8,
  ads: 0.6,
  finance_supermarket: 0.5,
  invite: 0.3,
  organic: 0.2,
};

/**
 * Every threshold of the retention playbook in one validated object. Each field has a default,
 * so `{}` is a complete policy and an override file names only what it changes.
 */
export const PolicySchema = z.strictObject({
  churn: z.strictObject({ inactiveDays: days.default(30) }).prefault({}),
  highRisk: z
    .strictObject({
      /** High risk when days without login are strictly more than this... */
      loginDaysOver: days.default(15),
      /** ...and the balance is strictly under this. */
      balanceUnderFen: fen.default(10_000),
    })
    .prefault({}),
  warnings: z
    .strictObject({
      /**
       * `inactive_login` fires when days without login are strictly more than this. 14 waits until an
       * engaged user (who comes back every 7–15 days) has missed a usual return: on the demo's base it
       * flags about a tenth of user-days at about four times the base rate (docs/lake.md, "The trade-off").
       */
      loginDaysOver: days.default(14),
      /** `inactive_invest` fires when days without investing (or since registering, if never) exceed this. */
      investDaysOver: days.default(14),
      lowBalanceUnderFen: fen.default(10_000),
      fewInvestmentsAtMost: z.number().int().nonnegative().default(2),
      /** The trust line: a largest investment under this, with no bonus-rate product ever held, is `small_investments`. */
      trustLineFen: fen.default(1_000_000),
      highValueTotalFen: fen.default(10_000_000),
      /** `high_churn_channel` fires when the channel's base risk is at least this. */
      highChurnChannelRisk: share.default(0.5),
      /**
       * Which reasons make an otherwise active user `at_risk`; the rest only weigh in the score and the plan.
       * `inactive_invest` is not among them by default: on its own it marks two thirds of user-days at risk,
       * nine in ten wrongly. docs/policy-sensitive.json opts back in (with login over 7 days).
       */
      statusReasons: z.array(z.enum(REASON_CODES)).default(['inactive_login', 'high_value_lapsed']),
    })
    .prefault({}),
  /** An override adds to or changes these channels; the others keep their defaults. */
  channelBaseRisk: z
    .record(z.string(), share)
    .default({})
    .transform((overrides) => ({ ...DEFAULT_CHANNEL_RISK, ...overrides })),
  defaultChannelRisk: share.default(0.4),
  score: z
    .strictObject({
      /** Points at full weight; they add up to 100 by default. */
      weights: z
        .strictObject({
          loginInactivity: weight.default(35),
          investInactivity: weight.default(20),
          lowBalance: weight.default(15),
          fewInvestments: weight.default(10),
          smallInvestments: weight.default(5),
          channel: weight.default(10),
          highValueLapsed: weight.default(5),
        })
        .prefault({}),
      /** Inactivity reaches full weight at this many days. */
      loginSaturationDays: z.number().int().positive().default(30),
      investSaturationDays: z.number().int().positive().default(60),
      /** The balance weight falls linearly from full (under the low-balance line) to zero at this balance. */
      balanceZeroRiskFen: fen.default(1_000_000),
      mediumAtScore: z.number().min(0).max(100).default(50),
    })
    .prefault({}),
  lifecycle: z
    .strictObject({
      /**
       * Growth needs both this account age and this many investments; anything less is novice. As in
       * the playbook, a novice has not yet made a first investment (or joined under a month ago): with
       * a higher bar, "85% of churned users made at most two investments" and "novices are about half
       * of the churned" could not both hold, since every user with two investments would be a novice.
       */
      growthMinAgeDays: days.default(30),
      growthMinInvestments: z.number().int().nonnegative().default(1),
      matureMinAgeDays: days.default(180),
      matureMinInvestments: z.number().int().nonnegative().default(10),
    })
    .prefault({}),
  /**
   * When the daily scan assesses, in the users' time zone: it names the day of a snapshot row, and
   * the backfill rebuilds each past day as of this instant (events before it count).
   */
  scan: z
    .strictObject({
      localTime: clockTime.default('09:00'),
      timeZone: z
        .string()
        .refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai')
        .default('Asia/Shanghai'),
    })
    .prefault({}),
  reward: z
    .strictObject({
      /** 100 basis points = 1% of the total invested. */
      rateBasisPoints: z.number().int().nonnegative().default(100),
      capFen: fen.default(500_000),
      unlockInvestFen: fen.default(1_000_000),
      validDays: z.number().int().positive().default(30),
      /** Rewards issued per UTC day, in fen: ¥1,000,000. A reward past it is refused and counted. */
      dailyBudgetFen: fen.default(100_000_000),
    })
    .prefault({}),
  /**
   * When the daily scan writes the assessment back. A write per user per day costs a write unit
   * each; an assessment that says the same thing is only rewritten once it is this old.
   */
  storedAssessment: z
    .strictObject({
      /** A score that moved less than this (and nothing else changed) does not count as a change. */
      scoreTolerance: z.number().int().min(0).max(100).default(5),
      refreshDays: z.number().int().min(0).default(7),
    })
    .prefault({}),
  /** Bounds on what senders report, so one bad value cannot hide a user or overflow a sum. */
  input: z
    .strictObject({
      /** A time more than this after the server's now is refused: clocks drift, a year 9999 is a bug. */
      futureSkewMinutes: z.number().int().nonnegative().default(10),
      /** The largest single investment accepted: ¥100,000,000. */
      maxInvestFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(10_000_000_000),
    })
    .prefault({}),
  recall: z
    .strictObject({
      waitHours: z
        .strictObject({
          afterInApp: z.number().positive().default(48),
          afterPush: z.number().positive().default(72),
          afterSms: z.number().positive().default(168),
        })
        .prefault({}),
      quietHours: z
        .strictObject({ start: clockTime.default('21:00'), end: clockTime.default('08:00') })
        .prefault({}),
      frequencyCap: z
        .strictObject({
          windowDays: z.number().int().positive().default(7),
          smsPerWindow: z.number().int().nonnegative().default(1),
          messagesPerWindow: z.number().int().nonnegative().default(3),
        })
        .prefault({}),
      /**
       * Sends per second per channel across all recalls: due sends are spread over the sending
       * window so no second holds more (functions/domain/pacing.ts; defaults and their source in
       * docs/operations-faults.md).
       */
      sendRatePerSecond: z
        .strictObject({
          sms: z.number().int().positive().default(DEFAULT_SEND_RATE_PER_SECOND.sms),
          push: z.number().int().positive().default(DEFAULT_SEND_RATE_PER_SECOND.push),
          in_app: z.number().int().positive().default(DEFAULT_SEND_RATE_PER_SECOND.in_app),
        })
        .prefault({}),
      cooldownDays: days.default(30),
      holdoutShare: share.default(0.05),
      relapseWatchDays: days.default(30),
      birthdayWindowDays: days.default(7),
      /**
       * When on, a recall skips its SMS step for a (lifecycle, level) segment whose matured SMS-step
       * uplift interval lies entirely below `minSmsUpliftPoints`, with enough sample (see effectiveness.ts).
       */
      skipSmsWithoutUplift: z.boolean().default(false),
      minSmsUpliftPoints: z.number().min(-100).max(100).default(0),
    })
    .prefault({}),
  /**
   * Unit prices for the report's cost figures, in whole fen. Defaults (docs/operations.md, "Cost"):
   * SMS ¥0.05, a mainland marketing SMS at list price (Alibaba Cloud SMS ¥0.045 a message, rounded up);
   * push and in-app 0 (End User Messaging push is US$1 per million, in-app is our own table write).
   */
  cost: z
    .strictObject({
      smsFen: fen.default(5),
      pushFen: fen.default(0),
      inAppFen: fen.default(0),
      /** Step Functions Standard, US$0.025 per 1,000 state transitions, at ¥7.2 per US$: 18 fen. */
      per1000TransitionsFen: fen.default(18),
    })
    .prefault({}),
  uplift: z
    .strictObject({
      /** Below this many matured draws in either arm, the report says "not enough data yet". */
      minSamplePerArm: z.number().int().positive().default(100),
    })
    .prefault({}),
});

export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

export const DEFAULT_POLICY: Policy = PolicySchema.parse({});

export class InvalidPolicyError extends Error {
  override readonly name = 'InvalidPolicyError';
  constructor(
    readonly issues: FieldIssue[],
    source = 'policy',
  ) {
    super(`invalid ${source}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

/** Validates an override (from a file or an environment variable) and fills in every default. */
export function parsePolicy(input: unknown, source?: string): Policy {
  const result = PolicySchema.safeParse(input ?? {});
  if (!result.success) throw new InvalidPolicyError(describeIssues(result.error), source);
  return result.data;
}

export function channelRisk(policy: Policy, channel: string): number {
  return policy.channelBaseRisk[channel] ?? policy.defaultChannelRisk;
}
