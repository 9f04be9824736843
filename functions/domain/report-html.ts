/**
 * The HTML report: one self-contained page (inline CSS, inline SVG charts, an embedded font subset)
 * that opens offline. Pure given the report: charts are ECharts option objects rendered to SVG on
 * the server, the font arrives as CSS from the caller.
 */
import * as echarts from 'echarts';
import type { Report } from './report.ts';
import { type ReportLocale, type ReportWords, reportWords } from './report-labels.ts';

export interface RenderOptions {
  locale: ReportLocale;
  /** `@font-face` rules covering the page's characters (see functions/adapters/report-font.ts). */
  fontCss?: string;
  /** The policy's login-inactivity threshold (`warnings.loginDaysOver`), marked on its chart. */
  loginDaysOver?: number;
}

export const FONT_FAMILY = "'Noto Sans SC', sans-serif";

const COLORS = {
  active: '#3a9d6b',
  at_risk: '#e0a020',
  churned: '#d9534f',
  accent: '#2f5fb3',
  muted: '#8a94a6',
  series: ['#2f5fb3', '#d9534f', '#3a9d6b', '#e0a020', '#7a5bb5', '#1f9bb0', '#b55b8e'],
};

/** Whole numbers with thousands separators, the same in both locales (figures, not prose). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A ratio as a percentage with one decimal; a dash when undefined (nothing to divide by). */
export function formatShare(x: number | null): string {
  return x === null ? '—' : `${(x * 100).toFixed(1)}%`;
}

export function formatYuan(fen: number | null): string {
  return fen === null ? '—' : `¥${(fen / 100).toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
}

function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const pct = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 10);

// --- Chart options (data in, ECharts option out) ---------------------------------------------------

type Option = echarts.EChartsCoreOption;

function base(): Option {
  return {
    animation: false,
    textStyle: { fontFamily: FONT_FAMILY },
    color: COLORS.series,
  };
}

function stageOption(r: Report, w: ReportWords): Option {
  return {
    ...base(),
    series: [
      {
        type: 'pie',
        radius: ['38%', '68%'],
        label: { formatter: '{b}\n{d}%', fontSize: 13 },
        data: r.churnStructure.byStage
          .filter((s) => s.churned > 0)
          .map((s) => ({ name: code(w, s.stage), value: s.churned })),
      },
    ],
  };
}

function heatmapOption(r: Report, w: ReportWords): Option {
  const stages = ['novice', 'growth', 'mature'].filter((s) =>
    r.churnStructure.byStageAndChannel.some((c) => c.stage === s),
  );
  const channels = [...new Set(r.churnStructure.byStageAndChannel.map((c) => c.channel))].sort();
  const cells = r.churnStructure.byStageAndChannel.map((c) => [
    channels.indexOf(c.channel),
    stages.indexOf(c.stage),
    pct(c.churnRate),
  ]);
  const max = Math.max(1, ...cells.map((c) => Number(c[2] ?? 0)));
  return {
    ...base(),
    grid: { left: 90, right: 20, top: 10, bottom: 80 },
    xAxis: {
      type: 'category',
      data: channels.map((c) => code(w, c)),
      axisLabel: { interval: 0, rotate: 20 },
    },
    yAxis: { type: 'category', data: stages.map((s) => code(w, s)) },
    visualMap: {
      min: 0,
      max,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 120,
      inRange: { color: ['#fbeaea', '#d9534f', '#7a1c1a'] },
      formatter: (v: number) => `${v.toFixed(0)}%`,
    },
    series: [
      {
        type: 'heatmap',
        data: cells,
        label: { show: true, formatter: (p: { value: number[] }) => `${p.value[2]}%` },
      },
    ],
  };
}

function cohortOption(r: Report, w: ReportWords): Option {
  const rows = r.churnStructure.byCohortMonth;
  return {
    ...base(),
    grid: { left: 50, right: 50, top: 30, bottom: 40 },
    legend: { top: 0 },
    xAxis: { type: 'category', data: rows.map((c) => c.month) },
    yAxis: [
      { type: 'value', name: '%', max: 100 },
      { type: 'value', name: w.users, splitLine: { show: false } },
    ],
    series: [
      {
        type: 'bar',
        name: w.churnRate,
        data: rows.map((c) => pct(c.churnRate)),
        itemStyle: { color: COLORS.churned },
      },
      {
        type: 'line',
        name: w.users,
        yAxisIndex: 1,
        data: rows.map((c) => c.users),
        itemStyle: { color: COLORS.muted },
      },
    ],
  };
}

function trendOption(r: Report, w: ReportWords): Option {
  const t = r.churnStructure.trend;
  const line = (name: string, key: 'active' | 'atRisk' | 'churned', color: string) => ({
    type: 'line',
    name,
    stack: 'users',
    areaStyle: { opacity: 0.6 },
    symbol: 'none',
    itemStyle: { color },
    data: t.map((d) => d[key]),
  });
  return {
    ...base(),
    grid: { left: 60, right: 20, top: 30, bottom: 40 },
    legend: { top: 0 },
    xAxis: { type: 'category', data: t.map((d) => d.day), boundaryGap: false },
    yAxis: { type: 'value' },
    series: [
      line(w.active, 'active', COLORS.active),
      line(w.atRisk, 'atRisk', COLORS.at_risk),
      line(w.churned, 'churned', COLORS.churned),
    ],
  };
}

function portraitOption(r: Report, w: ReportWords): Option {
  const measures: [string, 'atMostTwoInvestmentsShare' | 'smallNoBonusShare' | 'lowBalanceShare'][] = [
    [w.atMostTwoInvestments, 'atMostTwoInvestmentsShare'],
    [w.smallNoBonus, 'smallNoBonusShare'],
    [w.lowBalance, 'lowBalanceShare'],
  ];
  return {
    ...base(),
    grid: { left: 50, right: 20, top: 30, bottom: 70 },
    legend: { top: 0 },
    xAxis: {
      type: 'category',
      data: measures.map(([label]) => label),
      axisLabel: { interval: 0, width: 150, overflow: 'break' },
    },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: [
      {
        type: 'bar',
        name: w.churned,
        itemStyle: { color: COLORS.churned },
        label: { show: true, position: 'top', formatter: '{c}%' },
        data: measures.map(([, key]) => pct(r.portrait.churned[key])),
      },
      {
        type: 'bar',
        name: w.active,
        itemStyle: { color: COLORS.active },
        label: { show: true, position: 'top', formatter: '{c}%' },
        data: measures.map(([, key]) => pct(r.portrait.active[key])),
      },
    ],
  };
}

function channelMixOption(r: Report, w: ReportWords): Option {
  const groups = [
    [w.churned, r.portrait.churned],
    [w.active, r.portrait.active],
  ] as const;
  const channels = [...new Set(groups.flatMap(([, g]) => g.channelMix.map((m) => m.channel)))].sort();
  return {
    ...base(),
    grid: { left: 80, right: 20, top: 50, bottom: 30 },
    legend: { top: 0 },
    xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', data: groups.map(([label]) => label) },
    series: channels.map((channel) => ({
      type: 'bar',
      name: code(w, channel),
      stack: 'mix',
      data: groups.map(([, g]) => pct(g.channelMix.find((m) => m.channel === channel)?.share ?? 0)),
    })),
  };
}

function curveOption(r: Report, w: ReportWords): Option {
  const points = r.backtest.curve.filter((c) => c.precision !== null && c.recall !== null);
  const { overall } = r.backtest;
  return {
    ...base(),
    grid: { left: 60, right: 30, top: 30, bottom: 50 },
    legend: { top: 0 },
    xAxis: { type: 'value', name: w.recall, nameLocation: 'middle', nameGap: 28, min: 0, max: 100 },
    yAxis: { type: 'value', name: w.precision, min: 0, max: 100 },
    series: [
      {
        type: 'line',
        name: w.scoreAtLeast,
        itemStyle: { color: COLORS.accent },
        label: {
          show: true,
          fontSize: 10,
          formatter: (p: { value: number[] }) =>
            p.value[2] !== undefined && p.value[2] % 20 === 0 ? `≥${p.value[2]}` : '',
        },
        data: points.map((c) => [pct(c.recall), pct(c.precision), c.scoreAtLeast]),
      },
      {
        type: 'scatter',
        name: w.currentPolicy,
        symbol: 'diamond',
        symbolSize: 16,
        itemStyle: { color: COLORS.churned },
        label: {
          show: true,
          position: 'top',
          distance: 10,
          formatter: w.currentPolicy,
          color: COLORS.churned,
          fontWeight: 'bold',
          backgroundColor: 'rgba(255,255,255,0.9)',
          padding: [2, 4],
        },
        data: overall.precision === null ? [] : [[pct(overall.recall), pct(overall.precision)]],
      },
    ],
  };
}

function loginOption(r: Report, w: ReportWords, current?: number): Option {
  const rows = r.backtest.loginThresholds;
  const series = (name: string, key: 'precision' | 'recall' | 'flaggedShare', color: string) => ({
    type: 'line',
    name,
    itemStyle: { color },
    data: rows.map((t) => pct(t[key])),
  });
  const marked = current !== undefined && rows.some((t) => t.days === current);
  return {
    ...base(),
    grid: { left: 50, right: 30, top: 30, bottom: 50 },
    legend: { top: 0 },
    xAxis: {
      type: 'category',
      name: w.loginDays,
      nameLocation: 'middle',
      nameGap: 28,
      data: rows.map((t) => String(t.days)),
    },
    yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    series: [
      {
        ...series(w.precision, 'precision', COLORS.accent),
        markLine: marked
          ? {
              symbol: 'none',
              lineStyle: { color: COLORS.churned, type: 'dashed' },
              label: { formatter: w.currentPolicy },
              data: [{ xAxis: String(current) }],
            }
          : undefined,
      },
      series(w.recall, 'recall', COLORS.churned),
      series(w.flaggedShare, 'flaggedShare', COLORS.muted),
    ],
  };
}

function tallyOption(rows: { key: string; answers: number }[], w: ReportWords, color: string): Option {
  const sorted = [...rows].sort((a, b) => a.answers - b.answers);
  return {
    ...base(),
    grid: { left: 110, right: 40, top: 10, bottom: 30 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: sorted.map((r) => code(w, r.key)) },
    series: [
      {
        type: 'bar',
        name: w.answers,
        itemStyle: { color },
        label: { show: true, position: 'right' },
        data: sorted.map((r) => r.answers),
      },
    ],
  };
}

function code(w: ReportWords, key: string): string {
  return w.codes[key] ?? key;
}

function svg(option: Option, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

// --- Page -----------------------------------------------------------------------------------------

interface Figure {
  id: string;
  title: string;
  note?: string;
  option: Option | null;
  width?: number;
  height?: number;
}

function figure(f: Figure, w: ReportWords): string {
  const body = f.option
    ? svg(f.option, f.width ?? 560, f.height ?? 320)
    : `<p class="empty">${escapeHtml(w.noData)}</p>`;
  return `<figure class="chart" data-chart="${f.id}" data-empty="${f.option ? 'false' : 'true'}">
<figcaption>${escapeHtml(f.title)}</figcaption>${f.note ? `<p class="note">${escapeHtml(f.note)}</p>` : ''}
${body}
</figure>`;
}

function figureOf(value: string, raw: number | null, label: string, id: string, tone = ''): string {
  return `<div class="figure ${tone}"><div class="value" data-figure="${id}" data-value="${raw ?? ''}">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`;
}

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

const CSS = `
:root { --ink: #1f2733; --muted: #5b6575; --line: #e3e7ee; --bg: #f6f8fb; }
* { box-sizing: border-box; }
body { margin: 0; font-family: ${FONT_FAMILY}; color: var(--ink); background: var(--bg); }
header { background: #15294d; color: #fff; padding: 28px 40px 24px; }
header h1 { margin: 0 0 6px; font-size: 26px; font-weight: 700; }
header p { margin: 0; color: #c9d4ea; }
main { max-width: 1220px; margin: 0 auto; padding: 24px 40px 48px; }
.headline { display: grid; grid-template-columns: repeat(5, 1fr); gap: 14px; margin: -44px 0 12px; }
.figure { background: #fff; border-radius: 10px; padding: 16px 18px; box-shadow: 0 1px 3px rgba(20,40,80,.12); }
.figure .value { font-size: 30px; font-weight: 700; }
.figure .label { color: var(--muted); margin-top: 4px; }
.figure.bad .value { color: ${COLORS.churned}; } .figure.warn .value { color: #b87d0a; }
.figure.good .value { color: ${COLORS.accent}; }
h2 { margin: 32px 0 6px; font-size: 20px; }
.lede { color: var(--muted); margin: 0 0 12px; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
figure.chart { margin: 0; background: #fff; border-radius: 10px; padding: 14px 16px; box-shadow: 0 1px 3px rgba(20,40,80,.12); overflow: hidden; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-weight: 700; margin-bottom: 2px; }
.note { color: var(--muted); font-size: 13px; margin: 2px 0 6px; }
.empty { color: var(--muted); padding: 40px 0; text-align: center; }
table { border-collapse: collapse; width: 100%; background: #fff; border-radius: 10px; overflow: hidden; margin-top: 12px; font-size: 14px; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eef2f8; font-weight: 700; }
.callout { background: #fff7e6; border: 1px solid #f1d49a; border-radius: 8px; padding: 10px 14px; margin: 12px 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
@media (max-width: 900px) { .grid, .headline { grid-template-columns: 1fr; } }
`;

export function renderReportHtml(r: Report, options: RenderOptions): string {
  const w = reportWords(options.locale);
  const bt = r.backtest;
  const cs = r.churnStructure;
  const judged = bt.daysEvaluated > 0;
  const reasonsTally = r.feedback.reasons.map((x) => ({ key: x.reason, answers: x.answers }));
  const issuesTally = r.feedback.issues.map((x) => ({ key: x.issue, answers: x.answers }));

  const headline = [
    figureOf(formatCount(r.headline.users), r.headline.users, w.users, 'users'),
    figureOf(formatCount(r.headline.churned), r.headline.churned, w.churned, 'churned', 'bad'),
    figureOf(formatCount(r.headline.atRisk), r.headline.atRisk, w.atRisk, 'atRisk', 'warn'),
    figureOf(formatShare(r.headline.precision), r.headline.precision, w.precision, 'precision', 'good'),
    figureOf(formatShare(r.headline.recall), r.headline.recall, w.recall, 'recall', 'good'),
  ].join('\n');

  const structure = [
    {
      id: 'stage',
      title: w.charts.stage,
      note: w.notes.stage,
      option: cs.churned > 0 ? stageOption(r, w) : null,
    },
    {
      id: 'heatmap',
      title: w.charts.heatmap,
      note: w.notes.heatmap,
      option: cs.byStageAndChannel.length > 0 ? heatmapOption(r, w) : null,
    },
    { id: 'cohort', title: w.charts.cohort, option: cs.byCohortMonth.length > 0 ? cohortOption(r, w) : null },
    { id: 'trend', title: w.charts.trend, option: cs.trend.length > 0 ? trendOption(r, w) : null },
  ];
  const portrait = [
    {
      id: 'portrait',
      title: w.charts.portrait,
      option: r.portrait.churned.users + r.portrait.active.users > 0 ? portraitOption(r, w) : null,
    },
    {
      id: 'channel-mix',
      title: w.charts.channelMix,
      option: r.portrait.churned.users + r.portrait.active.users > 0 ? channelMixOption(r, w) : null,
    },
  ];
  const warning = [
    { id: 'curve', title: w.charts.curve, note: w.notes.curve, option: judged ? curveOption(r, w) : null },
    {
      id: 'login',
      title: w.charts.login,
      note: w.notes.login,
      option: judged ? loginOption(r, w, options.loginDaysOver) : null,
    },
  ];
  const feedback = [
    {
      id: 'feedback-reasons',
      title: w.charts.feedbackReasons,
      option: reasonsTally.length > 0 ? tallyOption(reasonsTally, w, COLORS.churned) : null,
    },
    {
      id: 'feedback-issues',
      title: w.charts.feedbackIssues,
      option: issuesTally.length > 0 ? tallyOption(issuesTally, w, COLORS.at_risk) : null,
    },
  ];
  const grid = (figs: Figure[]) => `<div class="grid">${figs.map((f) => figure(f, w)).join('\n')}</div>`;

  const backtestTables = judged
    ? table(
        [w.backtestTable.level, w.backtestTable.flagged, w.backtestTable.truePositives, w.precision],
        bt.byLevel.map((l) => [
          code(w, l.level),
          formatCount(l.flagged),
          formatCount(l.truePositives),
          formatShare(l.precision),
        ]),
      ) +
      table(
        [w.backtestTable.reason, w.backtestTable.flagged, w.precision, w.recall],
        bt.byReason.map((x) => [
          code(w, x.reason),
          formatCount(x.flagged),
          formatShare(x.precision),
          formatShare(x.recall),
        ]),
      )
    : '';
  const portraitTable = table(
    ['', w.users, w.medianMaxInvest],
    [
      [w.churned, formatCount(r.portrait.churned.users), formatYuan(r.portrait.churned.medianMaxInvestFen)],
      [w.active, formatCount(r.portrait.active.users), formatYuan(r.portrait.active.medianMaxInvestFen)],
    ],
  );
  const notes = r.notes.map((n) => `<div class="callout">${escapeHtml(n)}</div>`).join('\n');
  const summary = judged
    ? `${w.horizon(bt.horizonDays, bt.daysEvaluated)} ${w.backtestTable.lift} ${bt.overall.lift === null ? '—' : bt.overall.lift.toFixed(2)} · ${w.backtestTable.accuracy} ${formatShare(bt.overall.accuracy)}`
    : '';

  return `<!doctype html>
<html lang="${options.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(w.title)} · ${escapeHtml(r.asOfDay ?? r.to)}</title>
<style>${options.fontCss ?? ''}${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(w.title)}</h1><p>${escapeHtml(w.subtitle(r.from, r.to, r.asOfDay))}</p></header>
<main>
<section class="headline">
${headline}
</section>
${notes}
<h2>${escapeHtml(w.sections.structure)}</h2>
${grid(structure)}
<h2>${escapeHtml(w.sections.portrait)}</h2>
${grid(portrait)}
${portraitTable}
<h2>${escapeHtml(w.sections.backtest)}</h2>
<p class="lede">${escapeHtml(summary)}</p>
<p class="note">${escapeHtml(w.notes.precision)}</p>
${grid(warning)}
${backtestTables}
<h2>${escapeHtml(w.sections.feedback)}</h2>
${grid(feedback)}
<footer>winback · ${escapeHtml(r.from)} – ${escapeHtml(r.to)}</footer>
</main>
</body>
</html>
`;
}
