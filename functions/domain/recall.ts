import {
  ESCALATION,
  type RecallChannel,
  type RecallPlan,
  type Strategy,
  type StrategyKind,
} from './assessment.ts';
import { CHANNEL_RULES, canReach } from './delivery.ts';
import type { Policy } from './policy.ts';
import type { MessageTexts } from './templates.ts';
import { MS_PER_DAY, toMillis, utcMonth } from './time.ts';
import type { RiskLevel, UserRecord } from './user.ts';

export const RECALL_TRIGGERS = ['scheduled', 'manual', 'segment'] as const;
export type RecallTrigger = (typeof RECALL_TRIGGERS)[number];
export const RECALL_OUTCOMES = ['returned', 'not_returned', 'skipped', 'failed'] as const;
export type RecallOutcome = (typeof RECALL_OUTCOMES)[number];

/** No recall execution runs longer: the state machine's timeout (lib/recall-workflow.ts imports it). */
export const WORKFLOW_TIMEOUT_DAYS = 60;

/**
 * What a recall execution carries: ids and codes only. Step Functions keeps input and history
 * in the console, so no phone number, name or token ever goes here.
 */
export interface RecallStart {
  recallId: string;
  userId: string;
  trigger: RecallTrigger;
  level: RiskLevel;
  startedAt: string;
  /** Manual recalls may begin further along the escalation or force a strategy. */
  startAt?: RecallChannel;
  strategy?: StrategyKind;
  /** A segment recall's own wording (campaign text, never personal data), sent instead of the strategy's. */
  message?: MessageTexts;
}

const SAFE = /[^A-Za-z0-9_-]/g;

/** FNV-1a with a murmur3 finalizer; `seed` varies the offset basis (0 is plain FNV-1a's). */
export function fnv1a(text: string, seed = 0): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // FNV alone leaves ids that differ in the last character (one month to the next) correlated;
  // the murmur3 finalizer spreads every input bit over the whole hash.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * A recall episode's id, deterministic in the user and the trigger day, so a re-run of the same
 * day or a retried start names the same episode. It doubles as the execution name (≤ 80 chars of
 * [A-Za-z0-9_-]); user ids with other characters are escaped and long ones hashed.
 */
export function recallIdFor(
  userId: string,
  trigger: RecallTrigger,
  at: string,
  discriminator?: string,
): string {
  const day = at.slice(0, 10).replaceAll('-', '');
  const prefix = trigger === 'scheduled' ? 'r' : trigger === 'manual' ? 'm' : 's';
  let safeUser = userId.replace(SAFE, '_');
  if (safeUser !== userId || safeUser.length > 48)
    safeUser = `${safeUser.slice(0, 38)}_${fnv1a(userId).toString(36)}`;
  const suffix = discriminator ? `-${discriminator.replace(SAFE, '_').slice(0, 16)}` : '';
  return `${prefix}-${day}-${safeUser}${suffix}`.slice(0, 80);
}

/** Drawn from user and month: stable within a month, so a user is not in and out of the holdout daily. */
export function isHoldout(userId: string, at: string, share: number): boolean {
  if (share <= 0) return false;
  return fnv1a(`${userId}|${utcMonth(at)}`) / 0x1_0000_0000 < share;
}

export type RecallEligibility = 'eligible' | 'already_active' | 'cooldown';

/** Whether the scan may open a new recall: none open, and the last one closed long enough ago. */
export function recallEligibility(user: UserRecord, at: string, policy: Policy): RecallEligibility {
  if (user.activeRecallId) return 'already_active';
  if (user.lastRecallClosedAt) {
    const since = toMillis(at) - toMillis(user.lastRecallClosedAt);
    if (since < policy.recall.cooldownDays * MS_PER_DAY) return 'cooldown';
  }
  return 'eligible';
}

/** A returned user who is at risk again inside the watch window has relapsed. */
export function hasRelapsed(user: UserRecord, status: string, at: string): boolean {
  return (
    status !== 'active' &&
    user.relapseWatchUntil !== undefined &&
    toMillis(at) <= toMillis(user.relapseWatchUntil)
  );
}

export type RecallRoute = 'escalate' | 'sms_first' | 'skip';
export type SkipReason = 'holdout' | 'no_channel' | 'user_not_found' | 'not_at_risk';

/** The escalation as it will run: which steps send and through which route. */
export interface RecallRoutePlan {
  route: RecallRoute;
  skipReason?: SkipReason;
  channels: RecallChannel[];
  strategies: Strategy[];
  /** A high-risk user SMS cannot reach: the plan falls back to the channels they consented to. */
  fallback?: RecallPlan['fallback'];
}

/** Applies a manual recall's overrides (start further along, forced strategy) to the assessed plan. */
export function routeRecall(
  plan: RecallPlan,
  level: RiskLevel,
  options: { holdout: boolean; startAt?: RecallChannel; strategy?: StrategyKind },
  policy: Policy,
  user: UserRecord,
): RecallRoutePlan {
  let channels = plan.channels;
  if (options.startAt) {
    const from = ESCALATION.indexOf(options.startAt);
    // A manual start names the step to begin at, whatever the level; consent still filters.
    channels = ESCALATION.filter((c, i) => i >= from && canReach(user, c));
  }
  let strategies = plan.strategies;
  if (options.strategy) {
    const forced = forcedStrategy(options.strategy, user, policy);
    strategies = [forced, ...strategies.filter((s) => s.kind !== forced.kind)];
  }
  const fallback = !options.startAt && plan.fallback ? { fallback: plan.fallback } : {};
  if (options.holdout) return { route: 'skip', skipReason: 'holdout', channels, strategies, ...fallback };
  if (channels.length === 0)
    return { route: 'skip', skipReason: 'no_channel', channels, strategies, ...fallback };
  const smsOnly = channels.length === 1 && channels[0] === 'sms';
  // An operator's explicit starting step wins over the risk level's SMS-first rule; a high-risk
  // user SMS cannot reach escalates through the channels they have.
  const smsFirst = options.startAt
    ? channels[0] === 'sms'
    : smsOnly || (level === 'high' && channels[0] === 'sms');
  return { route: smsFirst ? 'sms_first' : 'escalate', channels, strategies, ...fallback };
}

function forcedStrategy(kind: StrategyKind, user: UserRecord, policy: Policy): Strategy {
  switch (kind) {
    case 'conditional_reward': {
      const r = policy.reward;
      const amountFen = Math.min(Math.floor((user.totalInvestedFen * r.rateBasisPoints) / 10_000), r.capFen);
      return { kind, amountFen, unlockInvestFen: r.unlockInvestFen };
    }
    case 'marketing_activity':
      return { kind, offer: user.heldBonusProduct ? 'lottery' : 'bonus_rate_coupon' };
    case 'preferred_product':
      return { kind, products: user.preferredProducts ?? [] };
    default:
      return { kind } as Strategy;
  }
}

/** Whether the user came back since the recall began: a login or an investment after it started. */
export function cameBackSince(
  user: UserRecord,
  startedAt: string,
): { how: 'login' | 'investment'; at: string } | undefined {
  const start = toMillis(startedAt);
  const invest = user.lastInvestAt && toMillis(user.lastInvestAt) > start ? user.lastInvestAt : undefined;
  const login = user.lastLoginAt && toMillis(user.lastLoginAt) > start ? user.lastLoginAt : undefined;
  if (invest && (!login || toMillis(invest) <= toMillis(login))) return { how: 'investment', at: invest };
  if (login) return { how: 'login', at: login };
  return undefined;
}

export interface SentMessage {
  channel: RecallChannel;
  sentAt: string;
}

export type CapVerdict =
  | { allowed: true }
  | { allowed: false; rule: 'sms_per_window' | 'messages_per_window' };

/** The frequency cap, a hard rule at send time over the messages sent to this user in the window. */
export function frequencyCap(
  recent: readonly SentMessage[],
  channel: RecallChannel,
  at: string,
  policy: Policy,
): CapVerdict {
  const cap = policy.recall.frequencyCap;
  const from = toMillis(at) - cap.windowDays * MS_PER_DAY;
  const inWindow = recent.filter((m) => toMillis(m.sentAt) > from);
  if (inWindow.length >= cap.messagesPerWindow) return { allowed: false, rule: 'messages_per_window' };
  if (channel === 'sms' && inWindow.filter((m) => m.channel === 'sms').length >= cap.smsPerWindow) {
    return { allowed: false, rule: 'sms_per_window' };
  }
  return { allowed: true };
}

export function waitHoursAfter(channel: RecallChannel, policy: Policy): number {
  return CHANNEL_RULES[channel].waitHours(policy);
}
