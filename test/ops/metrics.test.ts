import { describe, expect, it } from 'vitest';
import { emptyTotals } from '../../functions/domain/analytics.ts';
import { upliftFromCounts } from '../../functions/domain/effectiveness.ts';
import { eventMetrics, scanMetrics, sendMetrics, upliftMetrics } from '../../functions/domain/metrics.ts';

describe('metric points', () => {
  const T = '2026-11-24T02:00:00.000Z';
  it.each([
    [
      'sent',
      T,
      [{ name: 'MessagesSent', unit: 'Count', value: 1, dimension: { name: 'channel', value: 'push' } }],
    ],
    ['sent', '2026-11-24T01:59:59.999Z', []],
    [
      'deferred',
      T,
      [{ name: 'SendsHeld', unit: 'Count', value: 1, dimension: { name: 'reason', value: 'quiet_hours' } }],
    ],
    [
      'frequency_capped',
      T,
      [{ name: 'SendsHeld', unit: 'Count', value: 1, dimension: { name: 'reason', value: 'frequency_cap' } }],
    ],
    [
      'invalid_address',
      T,
      [{ name: 'DeliveryFailures', unit: 'Count', value: 1, dimension: { name: 'channel', value: 'push' } }],
    ],
    ['no_consent', T, []],
    ['not_planned', T, []],
  ])('a push step answering %s at %s gives %j', (result, at, expected) => {
    expect(sendMetrics({ channel: 'push', result, at }, T)).toEqual(expected);
  });

  it('gives no speed for a scan that took no measurable time, and never a negative duration', () => {
    const totals = { ...emptyTotals(), scanned: 10 };
    const points = scanMetrics(totals, T, '2026-11-24T01:00:00.000Z');
    expect(points.find((p) => p.name === 'ScanDuration')?.value).toBe(0);
    expect(points.some((p) => p.name === 'ScanUsersPerSecond')).toBe(false);
    // 3 statuses + 4 levels, zeros included, each with its dimension.
    expect(points.filter((p) => p.dimension).map((p) => p.dimension!.value)).toEqual([
      'active',
      'at_risk',
      'churned',
      'none',
      'low',
      'medium',
      'high',
    ]);
  });

  it('counts unknown users and unknown messages as rejected events', () => {
    const points = eventMetrics([
      { status: 'applied' },
      { status: 'unknown_user' },
      { status: 'unknown_message' },
      { status: 'duplicate' },
      { status: 'applied' },
    ]);
    expect(points.map((p) => [p.name, p.value])).toEqual([
      ['EventsApplied', 2],
      ['EventsDuplicate', 1],
      ['EventsRejected', 2],
    ]);
  });

  it('counts strategies whose uplift interval lies entirely below zero, leaving unmeasured ones out', () => {
    const rows = [
      { key: 'care', ...upliftFromCounts({ n: 200, returned: 10 }, { n: 200, returned: 40 }, 100) },
      { key: 'reminder', ...upliftFromCounts({ n: 200, returned: 36 }, { n: 200, returned: 40 }, 100) },
      { key: 'good_news', ...upliftFromCounts({ n: 20, returned: 0 }, { n: 20, returned: 10 }, 100) },
    ];
    expect(upliftMetrics(rows)).toEqual([
      { name: 'StrategiesWithNegativeUplift', unit: 'Count', value: 1 },
      {
        name: 'StrategyUpliftCiHigh',
        unit: 'None',
        value: -8.7,
        dimension: { name: 'strategy', value: 'care' },
      },
      {
        name: 'StrategyUpliftCiHigh',
        unit: 'None',
        value: 5.7,
        dimension: { name: 'strategy', value: 'reminder' },
      },
    ]);
  });
});
