import { describe, expect, it } from 'vitest';
import { STRATEGY_KINDS } from '../../functions/domain/api-schemas.ts';
import { type RecallDrawRow, recallsSection, type UpliftRow } from '../../functions/domain/effectiveness.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import { buildReport, dayNumberOf, type Report } from '../../functions/domain/report.ts';
import {
  formatInterval,
  formatPoints,
  formatRatio,
  formatYuanExact,
  renderReportHtml,
  upliftOption,
} from '../../functions/domain/report-html.ts';
import { reportWords } from '../../functions/domain/report-labels.ts';

const AS_OF = '2026-10-14';
/** Long enough before the report day that the whole escalation window has passed. */
const MATURED = dayNumberOf(AS_OF) - 20;
const en = reportWords('en');

/** A matured scan draw of a novice with plain defaults; a test states what its figures depend on. */
function draw(n: number, overrides: Partial<RecallDrawRow> = {}): RecallDrawRow {
  const holdout = overrides.holdout ?? false;
  return {
    recallId: `r-${n}`,
    trigger: 'scan',
    holdout,
    startedDayNumber: MATURED,
    closedDayNumber: MATURED + (holdout ? 0 : 12),
    outcome: holdout ? 'skipped' : 'not_returned',
    winningStep: null,
    level: 'medium',
    lifecycle: 'novice',
    channel: 'organic',
    strategy: 'trust_building',
    smsCount: holdout ? 0 : 1,
    pushCount: 0,
    inAppCount: holdout ? 0 : 1,
    smsDayNumber: holdout ? null : MATURED + 5,
    smsSkipped: false,
    rewardFen: 0,
    rewardUnlocked: false,
    reinvestedFen: 0,
    returnDayNumber: null,
    relapsedWithin30Days: null,
    ...overrides,
  };
}

/** `count` draws, the first `returned` of them back on day 3 (a recalled one after its in-app message). */
function draws(from: number, count: number, returned: number, overrides: Partial<RecallDrawRow> = {}) {
  return Array.from({ length: count }, (_, k) =>
    draw(from + k, {
      ...overrides,
      ...(k < returned
        ? {
            returnDayNumber: MATURED + 3,
            ...(overrides.holdout
              ? {}
              : { outcome: 'returned', winningStep: 'in_app', closedDayNumber: MATURED + 2 }),
            relapsedWithin30Days: k % 4 === 0,
          }
        : {}),
    }),
  );
}

/** A report with no snapshots and the given recall draws. */
function reportWith(rows: RecallDrawRow[]): Report {
  const empty = buildReport(
    {
      trend: [],
      'churn-structure': [],
      cohorts: [],
      portrait: [],
      'portrait-channels': [],
      'backtest-cells': [],
      'backtest-reasons': [],
      'feedback-reasons': [],
      'feedback-issues': [],
    },
    { from: '2026-08-01', to: AS_OF, horizonDays: 30, lastJudgedDay: null, lastLakeDay: null },
  );
  return { ...empty, recalls: recallsSection(rows, DEFAULT_POLICY, AS_OF) };
}

/** The markup of one figure of the page. */
function figureHtml(html: string, id: string): string {
  const start = html.indexOf(`<figure class="chart" data-chart="${id}"`);
  expect(start, id).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</figure>', start));
}

const seriesMarks = (svg: string, series: number) =>
  (svg.match(new RegExp(`<path[^>]*ecmeta_series_index="${series}"(?![^>]*ecmeta_silent)`, 'g')) ?? [])
    .length;

// Trust building: 150 recalled (60 back) against 120 held out (30 back), enough for a figure;
// care: 20 recalled and 5 held out, under the minimum of 100 per arm.
const MIXED = [
  ...draws(0, 150, 60),
  ...draws(1000, 120, 30, { holdout: true }),
  ...draws(2000, 20, 8, { strategy: 'care', lifecycle: 'growth' }),
  ...draws(3000, 5, 1, { strategy: 'care', lifecycle: 'growth', holdout: true }),
];

describe('recall figures as the page writes them', () => {
  it('money is integer fen shown as yuan with two decimals', () => {
    expect(formatYuanExact(123_456)).toBe('¥1,234.56');
    expect(formatYuanExact(5)).toBe('¥0.05');
    expect(formatYuanExact(0)).toBe('¥0.00');
    expect(formatYuanExact(null)).toBe('—');
  });

  it('points carry their sign, with a true minus, and an interval is a bracketed pair', () => {
    expect(formatPoints(4.3)).toBe('+4.3');
    expect(formatPoints(-1.2)).toBe('−1.2');
    expect(formatPoints(0)).toBe('0.0');
    expect(formatPoints(-0.04)).toBe('0.0');
    expect(formatInterval({ low: -1.2, high: 9.5 })).toBe('[−1.2, +9.5]');
    expect(formatInterval(null)).toBe('—');
    expect(formatRatio(182.8)).toBe('182.80×');
    expect(formatRatio(null)).toBe('—');
  });
});

describe('the uplift chart', () => {
  const section = recallsSection(MIXED, DEFAULT_POLICY, AS_OF);
  const rows = section.uplift.byStrategy;

  it('draws whiskers and a dot only for rows with a figure, and words for the others', () => {
    expect(rows.map((r) => [r.key, r.upliftPoints === null])).toEqual([
      ['care', true],
      ['trust_building', false],
    ]);
    const option = upliftOption(rows, en) as { series: { data: unknown[] }[] };
    const [whiskers, dots, notes] = option.series;
    // Data rows are [category, low, high], [uplift, category] and [x, category, recalled n, holdout n].
    const trust = rows[1] as UpliftRow;
    expect(whiskers?.data).toEqual([[1, trust.ci95?.low, trust.ci95?.high]]);
    expect(dots?.data).toEqual([expect.objectContaining({ value: [trust.upliftPoints, 1] })]);
    expect(notes?.data).toEqual([[expect.any(Number), 0, 20, 5]]);
  });

  it('is not drawn at all when no row has a figure', () => {
    const few = recallsSection(draws(0, 30, 10), DEFAULT_POLICY, AS_OF).uplift.byStrategy;
    expect(few.every((r) => r.ci95 === null)).toBe(true);
    expect(upliftOption(few, en)).toBeNull();
  });
});

describe('the recalls part of the page', () => {
  it('shows the uplift with its interval, cost per incremental return, reward ROI and relapse', () => {
    const report = reportWith(MIXED);
    const rc = report.recalls;
    expect(rc.uplift.upliftPoints).not.toBeNull();
    const html = renderReportHtml(report, { locale: 'en' });
    expect(html).toContain(
      `data-figure="uplift" data-value="${rc.uplift.upliftPoints}">${formatPoints(rc.uplift.upliftPoints)}<`,
    );
    expect(html).toContain(`>${formatInterval(rc.uplift.ci95)}</span>`);
    expect(rc.costPerIncrementalReturnFen).not.toBeNull();
    expect(html).toContain(
      `data-figure="costPerIncrementalReturn" data-value="${rc.costPerIncrementalReturnFen}">${formatYuanExact(rc.costPerIncrementalReturnFen)}<`,
    );
    expect(html).toContain(`data-figure="relapseRate"`);
    for (const id of ['recall-funnel', 'relapse-by-step', 'uplift-strategy', 'uplift-lifecycle'])
      expect(figureHtml(html, id)).toContain('data-empty="false"');
  });

  it('writes "not enough data yet" on the line of a row under the minimum, with no whiskers or dot for it', () => {
    const html = renderReportHtml(reportWith(MIXED), { locale: 'en' });
    const chart = figureHtml(html, 'uplift-strategy');
    expect(chart.match(/Not enough data yet · 20 recalled \/ 5 holdout/g)).toHaveLength(1);
    // One measured row: three strokes (the interval and its two caps) and one dot.
    expect(seriesMarks(chart, 0)).toBe(3);
    expect(seriesMarks(chart, 1)).toBe(1);
    // The same in the lifecycle chart (growth is the care draws), and in the table.
    expect(figureHtml(html, 'uplift-lifecycle')).toContain('Not enough data yet · 20 recalled / 5 holdout');
    expect(html).toMatch(
      /<td>Care<\/td><td>8 \/ 20 \(40\.0%\)<\/td><td>1 \/ 5 \(20\.0%\)<\/td><td>Not enough data yet<\/td><td>—<\/td>/,
    );
  });

  it('says "not enough data yet" instead of a chart or a figure when no arm has the minimum sample', () => {
    const html = renderReportHtml(reportWith(draws(0, 30, 10)), { locale: 'zh-CN' });
    const zh = reportWords('zh-CN');
    const chart = figureHtml(html, 'uplift-strategy');
    expect(chart).toContain('data-empty="true"');
    expect(chart).toContain(zh.recalls.notEnoughData);
    expect(chart).not.toContain('<svg');
    expect(html).toContain(`data-figure="uplift" data-value="">${zh.recalls.notEnoughData}<`);
    expect(html).not.toContain('data-figure="upliftCi95"');
    expect(html).toContain('data-figure="costPerIncrementalReturn" data-value="">—<');
  });

  it('says there were no recalls when the window has none, and draws no recall chart', () => {
    const html = renderReportHtml(reportWith([]), { locale: 'en' });
    expect(html).toContain(`<p class="lede" data-recalls="none">${en.recalls.none}</p>`);
    expect(html).not.toContain('data-chart="recall-funnel"');
    expect(html).not.toContain('data-figure="uplift"');
  });

  it('names every strategy and winning step in both locales', () => {
    const keys = [...STRATEGY_KINDS, 'in_app', 'push', 'sms', 'without_message'];
    for (const locale of ['en', 'zh-CN'] as const)
      expect(keys.filter((k) => reportWords(locale).codes[k] === undefined)).toEqual([]);
  });
});
