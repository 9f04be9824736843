import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { HistoryEvent } from '../functions/domain/history.ts';
import { MS_PER_DAY, MS_PER_HOUR } from '../functions/domain/time.ts';
import { CHURN_REASONS, type UserRecord } from '../functions/domain/user.ts';
import { EventLog } from './commands/backfill.ts';
import { Draw, PLAYBOOK_MIX, userSeed } from './seed.ts';

/**
 * A behaviour model of the playbook's users, day by day from registration: it produces the profile
 * each user had when the history starts and every login, investment and balance change after that.
 *
 * - An engaged user comes back every 7–15 days (one gap in ten is a longer break of 16–28 days).
 * - After each session the user may disengage: the hazard depends on the stage the user has reached
 *   (no investment yet, one or two, three or more, ten or more) and on the acquisition channel.
 *   Users who never invested leave fastest, and distribution-channel ones fastest of all (they came
 *   for a sign-up gift); once invested, invite-channel users leave most (they came for a friend's
 *   reward and stay only while it lasts).
 * - A session may bring an investment; first investments are small trial amounts, and amounts (and
 *   bonus-rate products) grow with each one. Products mature and users withdraw part of the balance;
 *   most of those who disengage withdraw nearly everything on their last visit.
 * - A disengaged user comes back on their own now and then (a small daily chance), and is engaged again.
 */
export const BEHAVIOUR = {
  gapDays: { min: 7, max: 15 },
  longBreak: { chance: 0.1, min: 16, max: 28 },
  /** Chance, after a session, of disengaging: [no investment, 1–2, 3–9, 10+] by channel. */
  hazard: {
    distribution: [0.34, 0.05, 0.005, 0.004],
    ads: [0.22, 0.06, 0.005, 0.004],
    finance_supermarket: [0.18, 0.06, 0.005, 0.004],
    invite: [0.14, 0.15, 0.016, 0.012],
    organic: [0.1, 0.045, 0.0035, 0.003],
  } as Record<string, readonly [number, number, number, number]>,
  /** Chance a session brings an investment, before and after the first one. */
  investChance: { first: 0.3, later: 0.45 },
  /** Chance a disengaged user comes back on a given day. */
  returnDaily: 0.004,
  /** Of the users who disengage: withdraw (almost) everything on the last visit. */
  withdrawOnLeaving: 0.7,
  /** Chance a session withdraws part of the balance (a product matured). */
  partialWithdrawal: 0.12,
  /** Never logs in again after registering. */
  neverReturns: 0.12,
  maxAgeDays: 730,
} as const;

export interface HistoryOptions {
  count: number;
  seed: number;
  /** The first history day's scan instant: the profile describes the user just before it. */
  from: Date;
  /** Everyone registered before this instant (the first live scan). */
  until: Date;
  /** Behaviour goes on until this instant (default `until`): the demo plays the rest out live. */
  eventsUntil?: Date;
}

export interface UserHistory {
  /** The profile as of `from` (activity fields absent when none happened yet). */
  user: UserRecord;
  /** Events at or after `from`, in time order, with ids. */
  events: (HistoryEvent & { eventId: string })[];
}

const yuan = (fen: number) => Math.max(100, Math.round(fen / 100) * 100);

function stageBucket(investCount: number): 0 | 1 | 2 | 3 {
  return investCount === 0 ? 0 : investCount <= 2 ? 1 : investCount < 10 ? 2 : 3;
}

function buildHistory(index: number, opts: HistoryOptions): UserHistory {
  const d = new Draw(userSeed(opts.seed ^ 0x5eed, index));
  const b = BEHAVIOUR;
  const fromMs = opts.from.getTime();
  const untilMs = opts.until.getTime();
  const endMs = (opts.eventsUntil ?? opts.until).getTime();
  const userId = `u${String(index).padStart(9, '0')}`;
  const channel = d.weighted(PLAYBOOK_MIX.channels);
  const hazard = b.hazard[channel]!;
  const ageDays = d.int(1, b.maxAgeDays);
  const registeredMs = untilMs - ageDays * MS_PER_DAY - Math.floor(d.float() * MS_PER_DAY);

  const user: UserRecord = {
    userId,
    channel,
    registeredAt: new Date(registeredMs).toISOString(),
    investCount: 0,
    maxInvestFen: 0,
    totalInvestedFen: 0,
    balanceFen: 0,
    heldBonusProduct: false,
    timeZone: 'Asia/Shanghai',
    locale: 'zh-CN',
    consent: {
      inApp: d.chance(PLAYBOOK_MIX.consent.inApp),
      push: d.chance(PLAYBOOK_MIX.consent.push),
      sms: d.chance(PLAYBOOK_MIX.consent.sms),
    },
  };
  const timeZone = d.weighted(PLAYBOOK_MIX.timeZones);
  user.timeZone = timeZone;
  if (
    d.chance(timeZone === 'Asia/Shanghai' ? PLAYBOOK_MIX.enLocale.mainland : PLAYBOOK_MIX.enLocale.elsewhere)
  )
    user.locale = 'en';
  if (d.chance(PLAYBOOK_MIX.phone)) user.phone = `+86138${d.digits(8)}`;
  if (d.chance(PLAYBOOK_MIX.pushAddress)) user.pushAddress = `fake-push-${d.hex(32)}`;
  if (d.chance(PLAYBOOK_MIX.birthday)) {
    const year = opts.until.getUTCFullYear() - d.int(18, 65);
    user.birthday = `${year}-${String(d.int(1, 12)).padStart(2, '0')}-${String(d.int(1, 28)).padStart(2, '0')}`;
  }

  // The profile is a copy taken when the clock passes `from`; events after that are emitted instead.
  let profile: UserRecord | undefined = registeredMs >= fromMs ? { ...user } : undefined;
  const events: UserHistory['events'] = [];
  let seq = 0;
  const emit = (e: HistoryEvent) => {
    if (e.atMs < fromMs) return;
    events.push({ ...e, eventId: `${userId}-${seq++}` });
  };
  const apply = (e: HistoryEvent) => {
    if (!profile && e.atMs >= fromMs) profile = structuredClone(user);
    switch (e.type) {
      case 'login':
        user.lastLoginAt = new Date(e.atMs).toISOString();
        break;
      case 'investment':
        user.investCount++;
        user.totalInvestedFen += e.amountFen;
        user.maxInvestFen = Math.max(user.maxInvestFen, e.amountFen);
        user.heldBonusProduct ||= e.bonusRate;
        user.lastInvestAt = new Date(e.atMs).toISOString();
        break;
      case 'balance':
        user.balanceFen = e.balanceFen;
        break;
    }
    emit(e);
  };

  // Trust grows with each investment: the typical ticket starts at a trial amount.
  let ticket = d.logBetween(10_000, 600_000);
  let t = registeredMs;
  let engaged = !d.chance(b.neverReturns);
  while (t < endMs) {
    if (!engaged) {
      // Days until a spontaneous return: geometric in the daily chance.
      const wait = Math.ceil(Math.log(1 - d.float()) / Math.log(1 - b.returnDaily));
      // Away at least as long as an engaged user's longest usual gap: a shorter absence is no return.
      t += (b.gapDays.max + wait) * MS_PER_DAY + Math.floor(d.float() * 12) * MS_PER_HOUR;
      engaged = true;
      if (t >= endMs) break;
    } else {
      const long = d.chance(b.longBreak.chance);
      const gap = long ? d.int(b.longBreak.min, b.longBreak.max) : d.int(b.gapDays.min, b.gapDays.max);
      // Sessions land at a random hour, so some fall just before the scan and some just after.
      t += gap * MS_PER_DAY + Math.floor((d.float() - 0.5) * 20 * MS_PER_HOUR);
      if (t >= endMs) break;
    }
    apply({ type: 'login', atMs: t });
    const bucket = stageBucket(user.investCount);
    if (d.chance(user.investCount === 0 ? b.investChance.first : b.investChance.later)) {
      const amountFen = yuan(ticket * d.between(0.6, 1.6));
      const bonusRate = d.chance(user.investCount < 2 ? 0.05 : 0.3);
      apply({ type: 'investment', atMs: t + 60_000, amountFen, bonusRate });
      apply({ type: 'balance', atMs: t + 120_000, balanceFen: user.balanceFen + amountFen });
      ticket = Math.min(ticket * d.between(1.1, 1.8), 5_000_000);
    } else if (user.balanceFen > 0 && d.chance(b.partialWithdrawal)) {
      apply({
        type: 'balance',
        atMs: t + 60_000,
        balanceFen: Math.round(user.balanceFen * d.between(0.2, 0.8)),
      });
    }
    if (d.chance(hazard[bucket])) {
      engaged = false;
      if (user.balanceFen > 0 && d.chance(b.withdrawOnLeaving))
        apply({ type: 'balance', atMs: t + 180_000, balanceFen: d.chance(0.5) ? 0 : d.int(1, 9_999) });
    }
  }
  // A few of the long gone have told a callback why.
  if (!engaged && d.chance(0.2)) user.churnReason = d.pick(CHURN_REASONS);
  const start = profile ?? user;
  if (user.churnReason && start === profile) start.churnReason = user.churnReason;
  return { user: start, events };
}

/** The synthetic base with its history; deterministic in the seed, user N independent of `count`. */
export function* generateHistory(opts: HistoryOptions): Generator<UserHistory> {
  if (!(opts.from.getTime() < opts.until.getTime()))
    throw new RangeError('history must start before it ends');
  for (let i = 0; i < opts.count; i++) yield buildHistory(i, opts);
}

/** The history held for the backfill core directly: what `npm start` seeds, with no files in between. */
export function historyInMemory(opts: HistoryOptions): { users: UserRecord[]; events: EventLog } {
  const users: UserRecord[] = [];
  const events = new EventLog();
  for (const h of generateHistory(opts)) {
    for (const e of h.events) events.add(users.length, e);
    users.push(h.user);
  }
  events.seal(users.length);
  return { users, events };
}

/** The event as `POST /events` takes it (and `winback backfill --events` reads it). */
export function eventLine(userId: string, e: UserHistory['events'][number]): object {
  const at = new Date(e.atMs).toISOString();
  switch (e.type) {
    case 'login':
      return { eventId: e.eventId, userId, type: 'login', at };
    case 'investment':
      return {
        eventId: e.eventId,
        userId,
        type: 'investment',
        at,
        amountFen: e.amountFen,
        productId: e.bonusRate ? 'bonus-fund' : 'demo-fund',
        bonusRate: e.bonusRate,
      };
    case 'balance':
      return { eventId: e.eventId, userId, type: 'balance', at, balanceFen: e.balanceFen };
  }
}

/** Writes `users.jsonl` and `events.jsonl` in the shapes `winback backfill` reads; returns the counts. */
export async function writeHistoryFiles(
  opts: HistoryOptions,
  usersPath: string,
  eventsPath: string,
): Promise<{ users: number; events: number }> {
  const users = createWriteStream(usersPath);
  const events = createWriteStream(eventsPath);
  const write = async (out: WriteStream, text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  let n = 0;
  let m = 0;
  for (const h of generateHistory(opts)) {
    await write(users, `${JSON.stringify(h.user)}\n`);
    let text = '';
    for (const e of h.events) text += `${JSON.stringify(eventLine(h.user.userId, e))}\n`;
    if (text) await write(events, text);
    n++;
    m += h.events.length;
  }
  await Promise.all([users, events].map((s) => new Promise((r) => s.end(r))));
  return { users: n, events: m };
}
