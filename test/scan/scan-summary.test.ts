import { describe, expect, it, vi } from 'vitest';
import { emptyTotals, type ScanTotals } from '../../functions/domain/analytics.ts';
import { scanSummaryHandler } from '../../functions/handlers/scan-summary.ts';
import type { InvalidRecord, ScanSegmentResult } from '../../functions/use-cases/scan-segment.ts';

const ASOF = '2026-11-24T01:00:00.000Z';

function totals(overrides: Partial<ScanTotals>): ScanTotals {
  return { ...emptyTotals(), ...overrides };
}

function segment(segmentNo: number, t: ScanTotals, invalidRecords: InvalidRecord[] = []): ScanSegmentResult {
  return { asOf: ASOF, segment: segmentNo, totalSegments: 2, done: true, totals: t, invalidRecords };
}

function deps() {
  const notify = vi.fn(async () => {});
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  return { notify, logger, deps: { notifier: { notify }, logger } };
}

const a = totals({
  scanned: 11,
  assessed: 10,
  written: 7,
  invalid: 1,
  byStatus: { active: 6, at_risk: 3, churned: 1 },
  byLevel: { none: 6, low: 2, medium: 1, high: 1 },
  byLifecycle: {
    novice: { active: 1, at_risk: 2, churned: 1 },
    growth: { active: 3, at_risk: 1, churned: 0 },
    mature: { active: 2, at_risk: 0, churned: 0 },
  },
  byChannel: { ads: { active: 2, at_risk: 2, churned: 1 }, organic: { active: 4, at_risk: 1, churned: 0 } },
  recalls: { started: 3, cooldown: 1 },
});
const b = totals({
  scanned: 5,
  assessed: 4,
  written: 2,
  invalid: 1,
  byStatus: { active: 1, at_risk: 1, churned: 2 },
  byLevel: { none: 1, low: 0, medium: 1, high: 2 },
  byLifecycle: {
    novice: { active: 0, at_risk: 1, churned: 2 },
    growth: { active: 1, at_risk: 0, churned: 0 },
    mature: { active: 0, at_risk: 0, churned: 0 },
  },
  byChannel: { ads: { active: 1, at_risk: 0, churned: 2 }, invite: { active: 0, at_risk: 1, churned: 0 } },
  recalls: { started: 2, already_active: 1 },
});

describe('scan summary', () => {
  it('merges the segment totals', async () => {
    const { deps: d } = deps();
    const summary = await scanSummaryHandler({ asOf: ASOF, segments: [segment(0, a), segment(1, b)] }, d);

    expect(summary.totals).toEqual({
      scanned: 16,
      assessed: 14,
      written: 9,
      invalid: 2,
      failed: 0,
      byStatus: { active: 7, at_risk: 4, churned: 3 },
      byLevel: { none: 7, low: 2, medium: 2, high: 3 },
      byLifecycle: {
        novice: { active: 1, at_risk: 3, churned: 3 },
        growth: { active: 4, at_risk: 1, churned: 0 },
        mature: { active: 2, at_risk: 0, churned: 0 },
      },
      byChannel: {
        ads: { active: 3, at_risk: 2, churned: 3 },
        organic: { active: 4, at_risk: 1, churned: 0 },
        invite: { active: 0, at_risk: 1, churned: 0 },
      },
      recalls: { started: 5, cooldown: 1, already_active: 1 },
    });
    expect(summary.asOf).toBe(ASOF);
  });

  it('publishes one digest to operators with the run as a table and the invalid records listed', async () => {
    const { notify, logger, deps: d } = deps();
    const invalidA = { userId: 'u-bad-1', issues: [{ field: 'balanceFen', message: 'expected number' }] };
    const invalidB = {
      userId: 'u-bad-2',
      issues: [
        { field: 'channel', message: 'expected string' },
        { field: 'consent.sms', message: 'expected boolean' },
      ],
    };

    const summary = await scanSummaryHandler(
      { asOf: ASOF, segments: [segment(0, a, [invalidA]), segment(1, b, [invalidB])] },
      d,
    );

    expect(notify).toHaveBeenCalledTimes(1);
    expect(notify).toHaveBeenCalledWith({
      kind: 'daily_digest',
      subject: 'daily digest 2026-11-24',
      message: summary.digest,
    });
    const lines = summary.digest.split('\n');
    expect(lines[0]).toBe(`winback daily assessment, as of ${ASOF}`);
    expect(lines).toContain('users scanned 16, assessed 14 (9 changed and written back), invalid records 2');
    expect(lines).toContain('risk level: high 3, medium 2, low 2, none 7');
    expect(lines).toContain('recalls: already_active 1, cooldown 1, started 5');
    expect(summary.digest).toContain(
      [
        'invalid records (first 2 of 2):',
        '  u-bad-1: balanceFen: expected number',
        '  u-bad-2: channel: expected string; consent.sms: expected boolean',
      ].join('\n'),
    );
    expect(summary.invalidRecords).toEqual([invalidA, invalidB]);
    expect(logger.info).toHaveBeenCalledWith('daily scan finished', {
      asOf: ASOF,
      totals: summary.totals,
      failedSegments: 0,
    });
  });

  it("names where the day's report will be, when the stack writes one", async () => {
    const { deps: d, notify } = deps();
    const summary = await scanSummaryHandler(
      { asOf: ASOF, segments: [segment(0, totals({ scanned: 1, assessed: 1 }))] },
      { ...d, reportLocation: (day) => `s3://lake/reports/${day}/report.html` },
    );
    const line = `report: s3://lake/reports/${ASOF.slice(0, 10)}/report.html`;
    expect(summary.digest).toContain(line);
    expect(notify).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringContaining(line) }));
    const { deps: plain } = deps();
    const without = await scanSummaryHandler(
      { asOf: ASOF, segments: [segment(0, totals({ scanned: 1, assessed: 1 }))] },
      plain,
    );
    expect(without.digest).not.toContain('report:');
  });

  it('has no invalid-records section when every record was valid', async () => {
    const { deps: d } = deps();
    const summary = await scanSummaryHandler(
      { asOf: ASOF, segments: [segment(0, totals({ scanned: 1, assessed: 1 }))] },
      d,
    );
    expect(summary.digest).not.toContain('invalid records (');
    expect(summary.invalidRecords).toEqual([]);
  });

  it('lists at most 50 invalid records', async () => {
    const { deps: d } = deps();
    const many = Array.from({ length: 30 }, (_, i) => ({
      userId: `u-${i}`,
      issues: [{ field: 'x', message: 'y' }],
    }));
    const summary = await scanSummaryHandler(
      {
        asOf: ASOF,
        segments: [segment(0, totals({ invalid: 400 }), many), segment(1, totals({ invalid: 30 }), many)],
      },
      d,
    );
    expect(summary.invalidRecords).toHaveLength(50);
    expect(summary.digest).toContain('invalid records (first 50 of 430):');
  });

  it('refuses an event without the segments of the run and tells no one', async () => {
    const { notify, deps: d } = deps();
    await expect(scanSummaryHandler({ asOf: ASOF } as never, d)).rejects.toThrow(
      'scan summary needs the segments array of the run',
    );
    expect(notify).not.toHaveBeenCalled();
  });

  it('reports a failed segment in the digest, then fails the run so the alarm fires', async () => {
    const { notify, deps: d } = deps();
    await expect(
      scanSummaryHandler(
        {
          asOf: ASOF,
          segments: [
            segment(0, a),
            {
              segment: 1,
              failed: true,
              error: { Error: 'ProvisionedThroughputExceededException', Cause: 'rate' },
            },
          ],
        },
        d,
      ),
    ).rejects.toThrow('1 of 2 segments failed; the digest lists them');
    expect(notify).toHaveBeenCalledTimes(1);
    const message = (notify.mock.calls[0] as unknown as [{ message: string }])[0].message;
    expect(message).toContain('users scanned 11, assessed 10');
    expect(message).toContain(
      'FAILED SEGMENTS (their users were not assessed today): segment 1: ProvisionedThroughputExceededException rate',
    );
  });
});

describe('the digest’s recall lines', () => {
  const previous = {
    asOfDay: '2026-11-23',
    recalls: {
      funnel: { stillRunning: 42 },
      yesterday: { dayNumber: 20_779, returned: 17 },
      costPerIncrementalReturnFen: 7_341,
      uplift: {
        recalledN: 1274,
        holdoutN: 217,
        recalledReturned: 820,
        holdoutReturned: 128,
        recalledReturnRate: 0.644,
        holdoutReturnRate: 0.59,
        upliftPoints: 5.4,
        ci95: { low: -1.5, high: 12.5 },
        note: null,
        minSamplePerArm: 100,
      },
    },
  };

  it('carries the last report’s returns, uplift with its interval and cost per incremental return', async () => {
    const { deps: d } = deps();
    const summary = await scanSummaryHandler(
      { asOf: ASOF, segments: [segment(0, a)] },
      { ...d, previousReport: async () => JSON.stringify(previous) },
    );
    expect(summary.digest).toContain(
      'recalls (report of 2026-11-23): 17 users came back the day before; 42 recalls running\n' +
        'recall uplift +5.4 points (95% CI −1.5 to +12.5; recalled 64.4% of 1274, holdout 59.0% of 217)\n' +
        'cost per incremental return: ¥73.41',
    );
  });

  it('goes out without them before the first report, or when the report cannot be read', async () => {
    const cases: [() => Promise<string | undefined>, boolean][] = [
      [async () => undefined, false],
      [async () => 'not json', true],
      [async () => Promise.reject(new Error('AccessDenied')), true],
    ];
    for (const [previousReport, warns] of cases) {
      const { notify, logger, deps: d } = deps();
      const summary = await scanSummaryHandler(
        { asOf: ASOF, segments: [segment(0, a)] },
        { ...d, previousReport },
      );
      expect(summary.digest).not.toContain('recall uplift');
      expect(notify).toHaveBeenCalledTimes(1);
      expect(logger.warn).toHaveBeenCalledTimes(warns ? 1 : 0);
    }
  });
});
