import type { RecallChannel } from './assessment.ts';
import type { RecallOutcome } from './recall.ts';
import { MS_PER_DAY, toMillis } from './time.ts';

export interface FunnelRecall {
  holdout: boolean;
  startedAt: string;
  outcome?: RecallOutcome;
  winningStep?: RecallChannel;
  /** The user's latest login or investment, for judging whether a holdout user came back on their own. */
  userLastActiveAt?: string;
}

export interface RecallFunnel {
  started: number;
  inProgress: number;
  returned: { in_app: number; push: number; sms: number; without_message: number; total: number };
  notReturned: number;
  skipped: number;
  failed: number;
  holdout: number;
  /** Share of finished, messaged recalls whose user came back. */
  recalledReturnRate: number;
  /** Share of holdout users who came back within the same window without any message. */
  holdoutReturnRate: number;
  /** Percentage points the recall adds over doing nothing. */
  upliftPoints: number;
}

/**
 * The recall funnel and its uplift against the holdout group. A holdout user counts as back
 * when active after the draw and within `windowDays` (the length of a full escalation).
 */
export function recallFunnel(recalls: Iterable<FunnelRecall>, windowDays: number): RecallFunnel {
  const f: RecallFunnel = {
    started: 0,
    inProgress: 0,
    returned: { in_app: 0, push: 0, sms: 0, without_message: 0, total: 0 },
    notReturned: 0,
    skipped: 0,
    failed: 0,
    holdout: 0,
    recalledReturnRate: 0,
    holdoutReturnRate: 0,
    upliftPoints: 0,
  };
  let holdoutBack = 0;
  for (const r of recalls) {
    f.started++;
    if (r.holdout) {
      f.holdout++;
      const start = toMillis(r.startedAt);
      const active = r.userLastActiveAt ? toMillis(r.userLastActiveAt) : Number.NaN;
      if (active > start && active <= start + windowDays * MS_PER_DAY) holdoutBack++;
      continue;
    }
    switch (r.outcome) {
      case undefined:
        f.inProgress++;
        break;
      case 'returned':
        f.returned.total++;
        f.returned[r.winningStep ?? 'without_message']++;
        break;
      case 'not_returned':
        f.notReturned++;
        break;
      case 'skipped':
        f.skipped++;
        break;
      case 'failed':
        f.failed++;
        break;
    }
  }
  const finished = f.returned.total + f.notReturned;
  f.recalledReturnRate = finished === 0 ? 0 : f.returned.total / finished;
  f.holdoutReturnRate = f.holdout === 0 ? 0 : holdoutBack / f.holdout;
  f.upliftPoints = Math.round((f.recalledReturnRate - f.holdoutReturnRate) * 1000) / 10;
  return f;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** A rate over `n` cases: `n/a` when there are none, so an empty group never reads as 0%. */
const rateOf = (x: number, n: number) => (n === 0 ? 'n/a' : `${pct(x)} of ${n}`);

export function formatFunnel(f: RecallFunnel): string {
  const finished = f.returned.total + f.notReturned;
  return [
    'recall funnel',
    `  started                 ${f.started}`,
    `  returned after in-app   ${f.returned.in_app}`,
    `  returned after push     ${f.returned.push}`,
    `  returned after SMS      ${f.returned.sms}`,
    `  returned, no message    ${f.returned.without_message}`,
    `  not returned            ${f.notReturned}`,
    `  skipped                 ${f.skipped}`,
    `  failed                  ${f.failed}`,
    `  holdout                 ${f.holdout}`,
    `  still in progress       ${f.inProgress}`,
    `  return rate: recalled ${rateOf(f.recalledReturnRate, finished)}, holdout ${rateOf(f.holdoutReturnRate, f.holdout)}, uplift ${finished === 0 || f.holdout === 0 ? 'n/a' : `${f.upliftPoints} points`}`,
  ].join('\n');
}
