import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { dayNumberOf, dayOfNumber } from '../functions/domain/report.ts';
import { mulberry32 } from './seed.ts';

/**
 * A synthetic lake written straight in the lake contract's format, for the report's browser test
 * and its benchmark: no store, no scan, no assess() (that is the simulator's and backfill's job).
 * Users log in every week or two while engaged, drift away with a hazard that depends on channel
 * and stage, and sometimes come back; statuses and scores follow the default policy's shape
 * closely enough that every chart and the backtest have something to show.
 */
export interface SyntheticLakeOptions {
  root: string;
  users: number;
  days: number;
  /** First scan day, YYYY-MM-DD. */
  start: string;
  seed?: number;
  /** Users per part file (one object per writer unit, as the scan writes per page). */
  usersPerPart?: number;
  /** Also write this many feedback answers, spread over the days. */
  feedback?: number;
}

const CHANNELS = ['distribution', 'invite', 'finance_supermarket', 'organic', 'ads'] as const;
const CHANNEL_WEIGHT = [0.25, 0.2, 0.15, 0.25, 0.15];
const CHANNEL_HAZARD = [0.02, 0.014, 0.008, 0.006, 0.01];
const CHANNEL_RISK = [0.8, 0.6, 0.3, 0.2, 0.5];
const REASONS = ['economic', 'frustrated', 'policy', 'natural', 'other'] as const;
const ISSUES = ['app_lag', 'low_yield', 'slow_support'] as const;

export function writeSyntheticLake(options: SyntheticLakeOptions): { rows: number } {
  const n = options.users;
  const rand = mulberry32(options.seed ?? 7);
  const first = dayNumberOf(options.start);
  const perPart = options.usersPerPart ?? 25_000;

  const channel = new Uint8Array(n);
  const registered = new Int32Array(n);
  const lastLogin = new Int32Array(n);
  const lastInvest = new Int32Array(n).fill(-1);
  const investCount = new Int32Array(n);
  const maxInvest = new Float64Array(n);
  const total = new Float64Array(n);
  const balance = new Float64Array(n);
  const bonus = new Uint8Array(n);
  const engaged = new Uint8Array(n);
  const loginGap = new Uint8Array(n);

  const month: string[] = new Array(n);
  const userIds: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let r = rand();
    let c = 0;
    while (c < CHANNELS.length - 1 && r > CHANNEL_WEIGHT[c]!) r -= CHANNEL_WEIGHT[c++]!;
    channel[i] = c;
    // Most users predate the lake; a fifth register during it.
    registered[i] =
      rand() < 0.8 ? first - Math.floor(rand() * 365) : first + Math.floor(rand() * options.days);
    lastLogin[i] = registered[i]!;
    engaged[i] = rand() < 0.75 ? 1 : 0;
    loginGap[i] = 7 + Math.floor(rand() * 9);
    month[i] = dayOfNumber(registered[i]!).slice(0, 7);
    userIds[i] = `u${String(i).padStart(7, '0')}`;
  }

  let rows = 0;
  for (let d = 0; d < options.days; d++) {
    const day = first + d;
    const dayText = dayOfNumber(day);
    const dir = join(options.root, 'snapshots', `day=${dayText}`);
    mkdirSync(dir, { recursive: true });
    for (let from = 0; from < n; from += perPart) {
      const lines: string[] = [];
      for (let i = from; i < Math.min(n, from + perPart); i++) {
        if (registered[i]! > day) continue;
        const age = day - registered[i]!;
        const stageIndex = age >= 180 && investCount[i]! >= 5 ? 2 : age >= 30 && investCount[i]! >= 2 ? 1 : 0;
        // Behaviour of the day: drift away, come back, log in, invest, withdraw.
        const hazard = CHANNEL_HAZARD[channel[i]!]! * (stageIndex === 0 ? 2.2 : stageIndex === 1 ? 1 : 0.6);
        if (engaged[i] && rand() < hazard) engaged[i] = 0;
        else if (!engaged[i] && rand() < 0.004) engaged[i] = 1;
        if (engaged[i] && day - lastLogin[i]! >= loginGap[i]! && rand() < 0.6) {
          lastLogin[i] = day;
          if (rand() < 0.35) {
            const amount = Math.round(Math.exp(8 + rand() * 7)) * 100;
            investCount[i]! += 1;
            maxInvest[i] = Math.max(maxInvest[i]!, amount);
            total[i]! += amount;
            balance[i]! += amount;
            lastInvest[i] = day;
            if (amount >= 1_000_000 && rand() < 0.3) bonus[i] = 1;
          }
        }
        if (!engaged[i] && balance[i]! > 0 && rand() < 0.05)
          balance[i] = Math.floor(balance[i]! * rand() * 0.2);

        const sinceLogin = day - lastLogin[i]!;
        const sinceInvest = lastInvest[i]! < 0 ? null : day - lastInvest[i]!;
        const investIdle = sinceInvest ?? age;
        const low = balance[i]! < 10_000;
        const few = investCount[i]! <= 2;
        const small = maxInvest[i]! < 1_000_000 && !bonus[i];
        const risk = CHANNEL_RISK[channel[i]!]!;
        const reasons: string[] = [];
        if (sinceLogin > 15) reasons.push('inactive_login');
        if (investIdle > 30) reasons.push('inactive_invest');
        if (low) reasons.push('low_balance');
        if (few) reasons.push('few_investments');
        if (small) reasons.push('small_investments');
        if (risk >= 0.6) reasons.push('high_churn_channel');
        const score = Math.round(
          Math.min(
            100,
            40 * Math.min(sinceLogin / 30, 1) +
              15 * Math.min(investIdle / 60, 1) +
              (low ? 15 : 0) +
              (few ? 10 : 0) +
              (small ? 10 : 0) +
              10 * risk,
          ),
        );
        const churned = sinceLogin >= 30 && investIdle >= 30;
        const high = sinceLogin > 15 && low;
        const warned = high || sinceLogin > 15 || investIdle > 45;
        const status = churned ? 'churned' : warned ? 'at_risk' : 'active';
        const level = status === 'active' ? 'none' : high ? 'high' : score >= 60 ? 'medium' : 'low';
        // A template, not JSON.stringify: the bench writes 18 million of these.
        const stage = stageIndex === 2 ? 'mature' : stageIndex === 1 ? 'growth' : 'novice';
        lines.push(
          `{"day":"${dayText}","dayNumber":${day},"userId":"${userIds[i]}","status":"${status}","level":"${level}","score":${score},"lifecycle":"${stage}","channel":"${CHANNELS[channel[i]!]}","reasonCodes":${reasons.length === 0 ? '[]' : `["${reasons.join('","')}"]`},"registeredMonth":"${month[i]}","investCount":${investCount[i]},"maxInvestFen":${maxInvest[i]},"totalInvestedFen":${total[i]},"balanceFen":${balance[i]},"heldBonusProduct":${bonus[i] === 1},"daysSinceLogin":${sinceLogin},"daysSinceInvest":${sinceInvest},"churnReason":null}`,
        );
      }
      if (lines.length === 0) continue;
      rows += lines.length;
      const part = `synthetic-${String(from / perPart).padStart(4, '0')}`;
      writeFileSync(join(dir, `${part}.jsonl.gz`), gzipSync(`${lines.join('\n')}\n`, { level: 1 }));
    }
  }

  const answers = options.feedback ?? 0;
  const byDay = new Map<string, string[]>();
  for (let k = 0; k < answers; k++) {
    const day = first + Math.floor(rand() * options.days);
    const dayText = dayOfNumber(day);
    const userId = `u${String(Math.floor(rand() * n)).padStart(7, '0')}`;
    const at = `${dayText}T0${Math.floor(rand() * 9)}:00:00.000Z`;
    const issues = ISSUES.filter(() => rand() < 0.35);
    const line = JSON.stringify({
      day: dayText,
      dayNumber: day,
      userId,
      feedbackId: `fb-${k}`,
      churnReason: REASONS[Math.floor(rand() * rand() * REASONS.length)],
      issues,
      at,
    });
    byDay.set(dayText, [...(byDay.get(dayText) ?? []), line]);
  }
  for (const [dayText, lines] of byDay) {
    const dir = join(options.root, 'feedback', `day=${dayText}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'synthetic.jsonl.gz'), gzipSync(`${lines.join('\n')}\n`));
  }
  return { rows };
}
