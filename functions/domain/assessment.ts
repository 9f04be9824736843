import { canReach } from './delivery.ts';
import { channelRisk, type Policy, type ReasonCode } from './policy.ts';
import { MS_PER_DAY, wholeDaysBetween } from './time.ts';
import type { AssessmentStatus, LifecycleStage, RiskLevel, UserRecord } from './user.ts';

export type RecallChannel = 'in_app' | 'push' | 'sms';
export const ESCALATION: readonly RecallChannel[] = ['in_app', 'push', 'sms'];

/** A reason with the figure that triggered it and the policy line it crossed. */
export interface Reason {
  code: ReasonCode;
  value: number;
  threshold: number;
  /** Set on `inactive_invest` when the user never invested: `value` then counts from registration. */
  never?: true;
}

export type MarketingOffer = 'birthday_coupon' | 'bonus_rate_coupon' | 'lottery';

export type Strategy =
  | { kind: 'experience_coupon' }
  | { kind: 'trust_building' }
  | { kind: 'conditional_reward'; amountFen: number; unlockInvestFen: number }
  | { kind: 'care' }
  | { kind: 'reinvite_after_improvement' }
  | { kind: 'good_news' }
  | { kind: 'marketing_activity'; offer: MarketingOffer }
  | { kind: 'preferred_product'; products: string[] }
  | { kind: 'reminder' };
export type StrategyKind = Strategy['kind'];

export interface RecallPlan {
  /** Escalation order; channels without consent or without an address are left out. */
  channels: RecallChannel[];
  /** Set when a high-risk user cannot get SMS and the plan falls back to the other channels. */
  fallback?: ChannelFallback;
  /** Content to use, most specific first. */
  strategies: Strategy[];
}

export interface Assessment {
  userId: string;
  status: AssessmentStatus;
  level: RiskLevel;
  score: number;
  lifecycle: LifecycleStage;
  reasons: Reason[];
  plan: RecallPlan;
}

// Shared by every active user, so frozen all the way down.
const NO_PLAN: RecallPlan = Object.freeze({
  channels: Object.freeze([]) as unknown as RecallChannel[],
  strategies: Object.freeze([]) as unknown as Strategy[],
});

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}

/**
 * The daily verdict on one user. Pure and allocation-light: it runs once per user per day
 * over the whole user base, so it parses each timestamp once and builds nothing it does not return.
 */
export function assess(user: UserRecord, policy: Policy, asOf: Date): Assessment {
  const now = asOf.getTime();
  const registeredMs = Date.parse(user.registeredAt);
  const loginMs = user.lastLoginAt === undefined ? registeredMs : Date.parse(user.lastLoginAt);
  const investMs = user.lastInvestAt === undefined ? Number.NaN : Date.parse(user.lastInvestAt);
  const neverInvested = Number.isNaN(investMs);

  const ageDays = wholeDaysBetween(registeredMs, now);
  const loginDays = wholeDaysBetween(loginMs, now);
  // A user who never invested has been "not investing" since registering.
  const investDays = neverInvested ? ageDays : wholeDaysBetween(investMs, now);

  const w = policy.warnings;
  const weights = policy.score.weights;
  const reasons: Reason[] = [];
  let score = 0;

  if (loginDays > w.loginDaysOver)
    reasons.push({ code: 'inactive_login', value: loginDays, threshold: w.loginDaysOver });
  score += weights.loginInactivity * clamp01(loginDays / policy.score.loginSaturationDays);

  if (investDays > w.investDaysOver) {
    reasons.push(
      neverInvested
        ? { code: 'inactive_invest', value: investDays, threshold: w.investDaysOver, never: true }
        : { code: 'inactive_invest', value: investDays, threshold: w.investDaysOver },
    );
  }
  score += weights.investInactivity * clamp01(investDays / policy.score.investSaturationDays);

  const balance = user.balanceFen;
  const lowBalance = balance < w.lowBalanceUnderFen;
  if (lowBalance) reasons.push({ code: 'low_balance', value: balance, threshold: w.lowBalanceUnderFen });
  const zeroRisk = policy.score.balanceZeroRiskFen;
  const balanceRisk =
    lowBalance || zeroRisk <= w.lowBalanceUnderFen
      ? lowBalance
        ? 1
        : 0
      : clamp01((zeroRisk - balance) / (zeroRisk - w.lowBalanceUnderFen));
  score += weights.lowBalance * balanceRisk;

  if (user.investCount <= w.fewInvestmentsAtMost) {
    reasons.push({ code: 'few_investments', value: user.investCount, threshold: w.fewInvestmentsAtMost });
    score += weights.fewInvestments;
  }

  const smallInvestments = user.maxInvestFen < w.trustLineFen && !user.heldBonusProduct;
  if (smallInvestments) {
    reasons.push({ code: 'small_investments', value: user.maxInvestFen, threshold: w.trustLineFen });
    score += weights.smallInvestments;
  }

  const risk = channelRisk(policy, user.channel);
  if (risk >= w.highChurnChannelRisk)
    reasons.push({ code: 'high_churn_channel', value: risk, threshold: w.highChurnChannelRisk });
  score += weights.channel * risk;

  const highValueLapsed = user.totalInvestedFen >= w.highValueTotalFen && lowBalance;
  if (highValueLapsed) {
    reasons.push({ code: 'high_value_lapsed', value: user.totalInvestedFen, threshold: w.highValueTotalFen });
    score += weights.highValueLapsed;
  }

  score = Math.round(Math.min(score, 100));

  const churned = loginDays >= policy.churn.inactiveDays && investDays >= policy.churn.inactiveDays;
  const high = loginDays > policy.highRisk.loginDaysOver && balance < policy.highRisk.balanceUnderFen;
  let warned = high;
  for (let i = 0; !warned && i < reasons.length; i++) warned = w.statusReasons.includes(reasons[i]!.code);

  const status: AssessmentStatus = churned ? 'churned' : warned ? 'at_risk' : 'active';
  const level: RiskLevel =
    status === 'active' ? 'none' : high ? 'high' : score >= policy.score.mediumAtScore ? 'medium' : 'low';

  const lifecycle = lifecycleStage(ageDays, user.investCount, policy);
  const plan = status === 'active' ? NO_PLAN : recallPlan(user, policy, asOf, status, level, reasons);
  return { userId: user.userId, status, level, score, lifecycle, reasons, plan };
}

export function lifecycleStage(ageDays: number, investCount: number, policy: Policy): LifecycleStage {
  const l = policy.lifecycle;
  if (ageDays >= l.matureMinAgeDays && investCount >= l.matureMinInvestments) return 'mature';
  if (ageDays >= l.growthMinAgeDays && investCount >= l.growthMinInvestments) return 'growth';
  return 'novice';
}

/** Why a high-risk user's recall does not go SMS first: SMS cannot reach them. */
export type ChannelFallback = 'no_sms_consent' | 'no_phone';

/**
 * Which channels can reach this user at all: consent plus an address (checked again at send time).
 * A high-risk user goes by SMS alone; one SMS cannot reach falls back to the channels they did
 * consent to, and the fallback is named, so the riskiest users are never left with no channel.
 */
export function reachableChannels(
  user: UserRecord,
  level: RiskLevel,
): { channels: RecallChannel[]; fallback?: ChannelFallback } {
  const all = ESCALATION.filter((c) => canReach(user, c));
  if (level !== 'high') return { channels: all };
  if (all.includes('sms')) return { channels: ['sms'] };
  return { channels: all, fallback: user.consent.sms ? 'no_phone' : 'no_sms_consent' };
}

function has(reasons: Reason[], code: ReasonCode): boolean {
  for (const r of reasons) if (r.code === code) return true;
  return false;
}

/** Days from `asOf` to the next occurrence of a `YYYY-MM-DD` birthday (0 on the day). */
export function daysUntilBirthday(birthday: string, asOf: Date): number {
  const month = Number(birthday.slice(5, 7)) - 1;
  const day = Number(birthday.slice(8, 10));
  const today = Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth(), asOf.getUTCDate());
  let next = Date.UTC(asOf.getUTCFullYear(), month, day);
  if (next < today) next = Date.UTC(asOf.getUTCFullYear() + 1, month, day);
  return Math.round((next - today) / MS_PER_DAY);
}

/**
 * Content follows the reason. A churned user's stated reason comes first; someone who left for
 * economic reasons gets care only, never a coupon or a reward that reads as pressure.
 */
export function recallPlan(
  user: UserRecord,
  policy: Policy,
  asOf: Date,
  status: AssessmentStatus,
  level: RiskLevel,
  reasons: Reason[],
): RecallPlan {
  const strategies: Strategy[] = [];
  if (status === 'churned' && user.churnReason) {
    switch (user.churnReason) {
      case 'economic':
        return { ...reachableChannels(user, level), strategies: [{ kind: 'care' }] };
      case 'frustrated':
        strategies.push({ kind: 'reinvite_after_improvement' });
        break;
      case 'policy':
        strategies.push({ kind: 'good_news' });
        break;
      case 'natural': {
        const birthdaySoon =
          user.birthday !== undefined &&
          daysUntilBirthday(user.birthday, asOf) <= policy.recall.birthdayWindowDays;
        const offer: MarketingOffer = birthdaySoon
          ? 'birthday_coupon'
          : user.heldBonusProduct
            ? 'lottery'
            : 'bonus_rate_coupon';
        strategies.push({ kind: 'marketing_activity', offer });
        break;
      }
      case 'other':
        break;
    }
  }
  if (has(reasons, 'high_value_lapsed')) {
    const r = policy.reward;
    const amountFen = Math.min(Math.floor((user.totalInvestedFen * r.rateBasisPoints) / 10_000), r.capFen);
    strategies.push({ kind: 'conditional_reward', amountFen, unlockInvestFen: r.unlockInvestFen });
  }
  if (has(reasons, 'small_investments')) strategies.push({ kind: 'trust_building' });
  if (has(reasons, 'few_investments')) strategies.push({ kind: 'experience_coupon' });
  if (user.preferredProducts && user.preferredProducts.length > 0) {
    strategies.push({ kind: 'preferred_product', products: user.preferredProducts });
  }
  if (strategies.length === 0) strategies.push({ kind: 'reminder' });
  return { ...reachableChannels(user, level), strategies };
}
