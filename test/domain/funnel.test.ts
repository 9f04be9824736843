import { describe, expect, it } from 'vitest';
import { type FunnelRecall, formatFunnel, recallFunnel } from '../../functions/domain/funnel.ts';
import { MS_PER_DAY, MS_PER_HOUR } from '../../functions/domain/time.ts';
import { AS_OF } from '../support/fixtures.ts';

const START = AS_OF.toISOString();
const START_MS = AS_OF.getTime();
const WINDOW_DAYS = 12;
const iso = (ms: number) => new Date(ms).toISOString();

const recall = (r: Partial<FunnelRecall>): FunnelRecall => ({ holdout: false, startedAt: START, ...r });
const holdout = (activeMsAfterStart?: number): FunnelRecall =>
  recall({
    holdout: true,
    outcome: 'skipped',
    userLastActiveAt: activeMsAfterStart === undefined ? undefined : iso(START_MS + activeMsAfterStart),
  });

/** 15 recalls: 5 returned (2 after in-app, 1 push, 1 SMS, 1 without a message), 3 not, 5 holdout (2 back). */
const RECALLS: FunnelRecall[] = [
  recall({ outcome: 'returned', winningStep: 'in_app' }),
  recall({ outcome: 'returned', winningStep: 'in_app' }),
  recall({ outcome: 'returned', winningStep: 'push' }),
  recall({ outcome: 'returned', winningStep: 'sms' }),
  recall({ outcome: 'returned' }),
  recall({ outcome: 'not_returned' }),
  recall({ outcome: 'not_returned' }),
  recall({ outcome: 'not_returned' }),
  recall({ outcome: 'skipped' }),
  recall({ outcome: 'failed' }),
  recall({}),
  holdout(MS_PER_HOUR), // back within the window
  holdout(WINDOW_DAYS * MS_PER_DAY), // back on the last instant of the window
  holdout(WINDOW_DAYS * MS_PER_DAY + 1), // too late to count
  holdout(0), // active exactly at the draw: that is before, not after
  holdout(), // never active
];

describe('recallFunnel', () => {
  it('counts each recall once: by outcome and winning step, holdout apart', () => {
    const f = recallFunnel(RECALLS, WINDOW_DAYS);
    expect(f).toEqual({
      started: 16,
      inProgress: 1,
      returned: { in_app: 2, push: 1, sms: 1, without_message: 1, total: 5 },
      notReturned: 3,
      skipped: 1,
      failed: 1,
      holdout: 5,
      recalledReturnRate: 5 / 8,
      holdoutReturnRate: 2 / 5,
      upliftPoints: 22.5,
    });
  });

  it('counts a holdout user back only when active after the draw and within the window', () => {
    const rate = (activeMs?: number) => recallFunnel([holdout(activeMs)], WINDOW_DAYS).holdoutReturnRate;
    expect(rate(1)).toBe(1);
    expect(rate(WINDOW_DAYS * MS_PER_DAY)).toBe(1);
    expect(rate(WINDOW_DAYS * MS_PER_DAY + 1)).toBe(0);
    expect(rate(0)).toBe(0);
    expect(rate(-MS_PER_DAY)).toBe(0);
    expect(rate(undefined)).toBe(0);
    expect(recallFunnel([holdout(3 * MS_PER_DAY)], 2).holdoutReturnRate).toBe(0);
  });

  it('gives zero rates, not NaN, with nothing finished', () => {
    expect(recallFunnel([], WINDOW_DAYS)).toMatchObject({
      started: 0,
      recalledReturnRate: 0,
      holdoutReturnRate: 0,
      upliftPoints: 0,
    });
    // Skipped, failed and in-progress recalls are not in the return rate's denominator.
    const f = recallFunnel([recall({ outcome: 'skipped' }), recall({ outcome: 'failed' }), recall({})], 12);
    expect([f.started, f.recalledReturnRate, f.upliftPoints]).toEqual([3, 0, 0]);
  });

  it('reports negative uplift when the holdout does better, to one decimal of a point', () => {
    const f = recallFunnel(
      [
        recall({ outcome: 'returned', winningStep: 'push' }),
        recall({ outcome: 'not_returned' }),
        recall({ outcome: 'not_returned' }),
        holdout(MS_PER_HOUR),
        holdout(MS_PER_HOUR),
      ],
      WINDOW_DAYS,
    );
    expect(f.recalledReturnRate).toBeCloseTo(1 / 3, 12);
    expect(f.holdoutReturnRate).toBe(1);
    expect(f.upliftPoints).toBe(-66.7);
  });

  it('accepts any iterable', () => {
    function* gen() {
      yield* RECALLS;
    }
    expect(recallFunnel(gen(), WINDOW_DAYS)).toEqual(recallFunnel(RECALLS, WINDOW_DAYS));
  });
});

describe('formatFunnel', () => {
  it('prints every count and the rates', () => {
    const lines = formatFunnel(recallFunnel(RECALLS, WINDOW_DAYS)).split('\n');
    expect(lines).toEqual([
      'recall funnel',
      '  started                 16',
      '  returned after in-app   2',
      '  returned after push     1',
      '  returned after SMS      1',
      '  returned, no message    1',
      '  not returned            3',
      '  skipped                 1',
      '  failed                  1',
      '  holdout                 5',
      '  still in progress       1',
      '  return rate: recalled 62.5% of 8, holdout 40.0% of 5, uplift 22.5 points',
    ]);
  });

  it('prints n/a, not 0%, for a rate with nothing to divide', () => {
    expect(formatFunnel(recallFunnel([], 12))).toContain(
      'return rate: recalled n/a, holdout n/a, uplift n/a',
    );
    const holdoutOnly = recallFunnel([{ holdout: true, startedAt: '2026-11-24T01:00:00Z' }], 12);
    expect(formatFunnel(holdoutOnly)).toContain('return rate: recalled n/a, holdout 0.0% of 1, uplift n/a');
  });
});
