import { MS_PER_DAY } from '../functions/domain/time.ts';
import {
  CHURN_REASONS,
  type ChurnReason,
  type LifecycleStage,
  type UserRecord,
} from '../functions/domain/user.ts';

/**
 * The shape of the synthetic user base, following the retention playbook:
 *
 * - Acquisition channels: distribution 30%, ads 20%, finance supermarket 15%, invite 15%, organic 20%.
 * - Intended lifecycle stage: novice 45%, growth 33%, mature 22% (the assessment derives the stage
 *   itself from account age and investment count; the generator keeps the two consistent).
 * - Churn: the chance of having been away 30+ days is a channel base (distribution highest, organic
 *   lowest) times a stage factor (novices most, mature users least). Another share has drifted
 *   (8–29 days without a login); the rest are active.
 * - Never invested: 45% of novices (no lastInvestAt, zero amounts); 30% of those never logged in
 *   again after registering (no lastLoginAt).
 * - Money: balances from 0 to a few million fen; lapsed users mostly withdrew (under ¥100); a handful
 *   of high-value lapsed users (¥100,000+ invested in total, balance under ¥100).
 * - Contact: in-app consent 97%, push 70%, SMS 60%; a push token for 75%, a phone for 98%.
 * - Zones and locales: Asia/Shanghai 94%, Asia/Hong_Kong 4%, America/New_York 2%; 'en' for 8%
 *   (more outside the mainland).
 * - 20% of long-inactive users have a recorded churn reason (about 5% of everyone); 40% have a
 *   birthday, 15% preferred products.
 */
export const PLAYBOOK_MIX = {
  channels: { distribution: 0.3, ads: 0.2, finance_supermarket: 0.15, invite: 0.15, organic: 0.2 },
  stages: { novice: 0.45, growth: 0.33, mature: 0.22 },
  /** Chance of being away 30+ days before the stage factor. */
  longInactiveByChannel: {
    distribution: 0.45,
    ads: 0.35,
    finance_supermarket: 0.28,
    invite: 0.16,
    organic: 0.1,
  },
  longInactiveStageFactor: { novice: 1.4, growth: 0.8, mature: 0.35 },
  /** Of the users not long inactive: last login 8–29 days ago. */
  drifting: 0.2,
  /** Of novices. */
  neverInvested: 0.45,
  /** Of users who never invested. */
  neverLoggedIn: 0.3,
  /** Of all users, before the channel/stage draws. */
  highValueLapsed: 0.003,
  /** Of users who invested; about 30% of everyone. */
  heldBonusProduct: 0.37,
  consent: { inApp: 0.97, push: 0.7, sms: 0.6 },
  pushAddress: 0.75,
  phone: 0.98,
  timeZones: { 'Asia/Shanghai': 0.94, 'Asia/Hong_Kong': 0.04, 'America/New_York': 0.02 },
  /** 'en' locale: mainland users, and users in other zones. */
  enLocale: { mainland: 0.06, elsewhere: 0.5 },
  /** Of long-inactive users. */
  churnReason: 0.2,
  birthday: 0.4,
  preferredProducts: 0.15,
} as const;

export interface GenerateUsersOptions {
  count: number;
  seed: number;
  /** Every time in the records is at or before this instant. */
  asOf: Date;
}

type Channel = keyof typeof PLAYBOOK_MIX.channels;
type Activity = 'active' | 'drifting' | 'gone';

const MAX_AGE_DAYS = 730;
/** The default policy's high-value line (¥100,000). */
const HIGH_VALUE_FEN = 10_000_000;
const PRODUCTS = ['money_market', 'fixed_term_90d', 'fixed_term_365d', 'bond_fund', 'index_fund', 'gold'];

/** mulberry32: tiny, fast and good enough for test data; not for anything secret. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A well-mixed 32-bit seed for user `index`. Each user draws from its own stream, so user N is the
 * same whatever `count` is and a smaller run is a prefix of a larger one.
 */
export function userSeed(seed: number, index: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Draw {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  float(): number {
    return this.#next();
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }
  between(min: number, max: number): number {
    return min + this.#next() * (max - min);
  }
  /** Log-uniform in [min, max]: money amounts span orders of magnitude. */
  logBetween(min: number, max: number): number {
    return Math.exp(this.between(Math.log(min), Math.log(max)));
  }
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    let total = 0;
    for (const [, w] of entries) total += w;
    let r = this.#next() * total;
    for (const [key, w] of entries) {
      r -= w;
      if (r < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(Math.floor(this.#next() * 10));
    return s;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.#next() * 16).toString(16);
    return s;
  }
}

/** Whole yuan: people invest round amounts. */
const yuan = (fen: number) => Math.max(100, Math.round(fen / 100) * 100);

function accountAgeDays(d: Draw, stage: LifecycleStage): number {
  switch (stage) {
    case 'novice':
      // A third registered within the last month; the rest are older accounts that never got going.
      return d.chance(0.35) ? d.int(3, 29) : d.int(30, MAX_AGE_DAYS);
    case 'growth':
      return d.int(30, MAX_AGE_DAYS);
    case 'mature':
      return d.int(180, MAX_AGE_DAYS);
  }
}

function investCountFor(d: Draw, stage: LifecycleStage, ageDays: number): number {
  switch (stage) {
    case 'novice':
      // Only a young account can have 3+ investments and still be a novice.
      return d.chance(PLAYBOOK_MIX.neverInvested) ? 0 : ageDays < 30 ? d.int(1, 5) : d.int(1, 2);
    case 'growth':
      return ageDays < 180 ? d.int(3, 20) : d.int(3, 9);
    case 'mature':
      return Math.round(d.logBetween(10, 80));
  }
}

/** Typical single investment in fen, by stage: trust (and ticket size) grows with experience. */
function ticketFen(d: Draw, stage: LifecycleStage): number {
  switch (stage) {
    case 'novice':
      return d.logBetween(10_000, 500_000);
    case 'growth':
      return d.logBetween(50_000, 2_000_000);
    case 'mature':
      return d.logBetween(200_000, 3_000_000);
  }
}

/** Days since last login and last investment for an activity pattern, before clamping to the account age. */
function inactivity(d: Draw, activity: Activity, ageDays: number): { loginDays: number; investDays: number } {
  let loginDays: number;
  let investDays: number;
  switch (activity) {
    case 'active':
      loginDays = d.int(0, 6);
      // Some active users log in to look but have not invested for a while.
      investDays = d.chance(0.8) ? loginDays + d.int(0, 14 - loginDays) : d.int(15, 120);
      break;
    case 'drifting':
      loginDays = d.int(8, 29);
      investDays = loginDays + d.int(0, 40);
      break;
    case 'gone':
      loginDays = d.int(30, Math.max(30, ageDays));
      investDays = loginDays + d.int(0, 60);
      break;
  }
  return { loginDays: Math.min(loginDays, ageDays), investDays: Math.min(investDays, ageDays) };
}

function lowBalanceFen(d: Draw): number {
  return d.chance(0.4) ? 0 : d.int(1, 9_999);
}

function buildUser(index: number, seed: number, asOf: Date): UserRecord {
  const d = new Draw(userSeed(seed, index));
  const now = asOf.getTime();
  const mix = PLAYBOOK_MIX;

  const channel: Channel = d.weighted(mix.channels);
  const highValueLapsed = d.chance(mix.highValueLapsed);
  const stage: LifecycleStage = highValueLapsed ? 'mature' : d.weighted(mix.stages);

  const ageDays = accountAgeDays(d, stage);
  const investCount = highValueLapsed ? d.int(15, 60) : investCountFor(d, stage, ageDays);
  const neverLoggedIn = investCount === 0 && d.chance(mix.neverLoggedIn);

  const longInactive = highValueLapsed
    ? d.chance(0.6)
    : d.chance(Math.min(0.9, mix.longInactiveByChannel[channel] * mix.longInactiveStageFactor[stage]));
  // Nobody can have been away 30 days from an account younger than that.
  const activity: Activity =
    longInactive && ageDays >= 30
      ? 'gone'
      : longInactive || highValueLapsed || d.chance(mix.drifting)
        ? 'drifting'
        : 'active';

  // Registration at a random time of its day, so times do not all share one clock time.
  const registeredMs = now - ageDays * MS_PER_DAY - Math.floor(d.float() * MS_PER_DAY);
  const { loginDays, investDays } = inactivity(d, activity, ageDays);
  const loginMs = Math.max(registeredMs, now - loginDays * MS_PER_DAY - Math.floor(d.float() * MS_PER_DAY));
  // Investing needs a session, so the last investment is never after the last login.
  const investMs = Math.max(
    registeredMs,
    Math.min(loginMs, now - investDays * MS_PER_DAY - Math.floor(d.float() * MS_PER_DAY)),
  );

  let maxInvestFen = 0;
  let totalInvestedFen = 0;
  let balanceFen: number;
  if (highValueLapsed) {
    totalInvestedFen = yuan(d.between(HIGH_VALUE_FEN, 6 * HIGH_VALUE_FEN));
    maxInvestFen = yuan(totalInvestedFen * d.between(0.1, 0.4));
    balanceFen = lowBalanceFen(d);
  } else if (investCount > 0) {
    const ticket = ticketFen(d, stage);
    maxInvestFen = yuan(ticket * d.between(1, 2.5));
    totalInvestedFen = maxInvestFen + (investCount - 1) * yuan(ticket * d.between(0.4, 0.9));
    // Users who left mostly withdrew; interest leaves balances at odd fen amounts.
    const withdrew = d.chance(activity === 'gone' ? 0.65 : activity === 'drifting' ? 0.3 : 0.1);
    balanceFen = withdrew ? lowBalanceFen(d) : Math.round(ticket * d.between(0.5, 4));
    // Big investors who left keep a little behind, so high-value lapsed users stay the handful drawn above.
    if (totalInvestedFen >= HIGH_VALUE_FEN && balanceFen < 10_000) balanceFen = d.int(10_000, 200_000);
  } else {
    // Never invested: usually an empty wallet, sometimes a sign-up bonus or a top-up left idle.
    balanceFen = d.chance(0.8) ? 0 : d.chance(0.75) ? d.int(1, 9_999) : d.int(10_000, 500_000);
  }

  const timeZone = d.weighted(mix.timeZones);
  const locale = d.chance(timeZone === 'Asia/Shanghai' ? mix.enLocale.mainland : mix.enLocale.elsewhere)
    ? 'en'
    : 'zh-CN';

  const user: UserRecord = {
    userId: `u${String(index).padStart(9, '0')}`,
    channel,
    registeredAt: new Date(registeredMs).toISOString(),
    investCount,
    maxInvestFen,
    totalInvestedFen,
    balanceFen,
    heldBonusProduct: investCount > 0 && d.chance(mix.heldBonusProduct),
    timeZone,
    locale,
    consent: {
      inApp: d.chance(mix.consent.inApp),
      push: d.chance(mix.consent.push),
      sms: d.chance(mix.consent.sms),
    },
  };
  if (!neverLoggedIn) user.lastLoginAt = new Date(loginMs).toISOString();
  if (investCount > 0) user.lastInvestAt = new Date(investMs).toISOString();
  if (d.chance(mix.phone)) user.phone = `+86138${d.digits(8)}`;
  if (d.chance(mix.pushAddress)) user.pushAddress = `fake-push-${d.hex(32)}`;
  if (d.chance(mix.birthday)) {
    const year = asOf.getUTCFullYear() - d.int(18, 65);
    // Day 1–28 is valid in every month.
    user.birthday = `${year}-${String(d.int(1, 12)).padStart(2, '0')}-${String(d.int(1, 28)).padStart(2, '0')}`;
  }
  if (activity === 'gone' && d.chance(mix.churnReason)) user.churnReason = d.pick<ChurnReason>(CHURN_REASONS);
  if (d.chance(mix.preferredProducts)) {
    const first = d.pick(PRODUCTS);
    const second = d.pick(PRODUCTS);
    user.preferredProducts = first === second ? [first] : [first, second];
  }
  return user;
}

/**
 * A deterministic synthetic user base as of `asOf`: the same options give byte-identical records.
 * User ids are `u` plus nine digits from `u000000000`, so they sort in generation order.
 */
export function* generateUsers(opts: GenerateUsersOptions): Generator<UserRecord> {
  if (!Number.isInteger(opts.count) || opts.count < 0)
    throw new RangeError(`count must be a whole number, got ${opts.count}`);
  if (Number.isNaN(opts.asOf.getTime())) throw new RangeError('asOf must be a valid date');
  for (let i = 0; i < opts.count; i++) yield buildUser(i, opts.seed, opts.asOf);
}
