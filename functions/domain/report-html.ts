/**
 * The HTML report: one self-contained page (inline CSS, inline SVG charts, an embedded font subset)
 * that opens offline. Pure given the report: charts are ECharts option objects rendered to SVG on
 * the server, the font arrives as CSS from the caller.
 */
import * as echarts from 'echarts';
import type { Interval, RecallsSection, RelapseRow, UpliftRow } from './effectiveness.ts';
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

/** Integer fen as yuan with two decimals: ¥1,234.50. */
export function formatYuanExact(fen: number | null): string {
  if (fen === null) return '—';
  return `¥${(fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** Percentage points with their sign and one decimal (+4.3, −1.2, 0.0). */
export function formatPoints(x: number | null): string {
  if (x === null) return '—';
  const text = Math.abs(x).toFixed(1);
  return x > 0 && text !== '0.0' ? `+${text}` : x < 0 && text !== '0.0' ? `−${text}` : text;
}

/** A 95% interval in percentage points: [+1.0, +9.5]. */
export function formatInterval(ci: Interval | null): string {
  return ci === null ? '—' : `[${formatPoints(ci.low)}, ${formatPoints(ci.high)}]`;
}

/** A multiple with two decimals (182.82×). */
export function formatRatio(x: number | null): string {
  return x === null ? '—' : `${x.toFixed(2)}×`;
}

function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Lifecycle stages in the order a user goes through them. */
const STAGE_ORDER = ['novice', 'growth', 'mature'];
const stageRank = (stage: string) =>
  STAGE_ORDER.includes(stage) ? STAGE_ORDER.indexOf(stage) : STAGE_ORDER.length;

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
  const stages = STAGE_ORDER.filter((s) => r.churnStructure.byStageAndChannel.some((c) => c.stage === s));
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

// --- Recalls: funnel, uplift with its interval, relapse -------------------------------------------

const RECALL_COLORS = {
  started: COLORS.accent,
  holdout: COLORS.muted,
  sent: '#6f8fd0',
  returned: COLORS.active,
  lost: COLORS.churned,
  neutral: '#b5bdcb',
};

function funnelOption(f: RecallsSection['funnel'], w: ReportWords): Option {
  const fw = w.recalls.funnel;
  const bars: [string, number, string][] = [
    [fw.started, f.started, RECALL_COLORS.started],
    [fw.holdout, f.holdout, RECALL_COLORS.holdout],
    [fw.sentInApp, f.sent.inApp, RECALL_COLORS.sent],
    [fw.sentPush, f.sent.push, RECALL_COLORS.sent],
    [fw.sentSms, f.sent.sms, RECALL_COLORS.sent],
    [fw.returnedInApp, f.returned.inApp, RECALL_COLORS.returned],
    [fw.returnedPush, f.returned.push, RECALL_COLORS.returned],
    [fw.returnedSms, f.returned.sms, RECALL_COLORS.returned],
    [fw.returnedWithoutMessage, f.returned.withoutMessage, RECALL_COLORS.returned],
    [fw.notReturned, f.notReturned, RECALL_COLORS.lost],
    [fw.skipped, f.skipped, RECALL_COLORS.neutral],
    [fw.failed, f.failed, RECALL_COLORS.lost],
    [fw.stillRunning, f.stillRunning, RECALL_COLORS.neutral],
  ];
  if (f.smsSkippedForNoUplift > 0) bars.push([fw.smsSkipped, f.smsSkippedForNoUplift, RECALL_COLORS.neutral]);
  return {
    ...base(),
    grid: { left: 170, right: 60, top: 10, bottom: 30 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: {
      type: 'category',
      inverse: true,
      data: bars.map(([label]) => label),
      axisLabel: { interval: 0 },
    },
    series: [
      {
        type: 'bar',
        name: fw.started,
        barMaxWidth: 18,
        label: { show: true, position: 'right', formatter: (p: { value: number }) => formatCount(p.value) },
        data: bars.map(([, value, color]) => ({ value, itemStyle: { color } })),
      },
    ],
  };
}

/** An uplift row that has a figure to draw (both arms at the minimum sample). */
const measured = (r: UpliftRow): r is UpliftRow & { upliftPoints: number; ci95: Interval } =>
  r.upliftPoints !== null && r.ci95 !== null;

const upliftColor = (ci: Interval) =>
  ci.low > 0 ? COLORS.active : ci.high < 0 ? COLORS.churned : COLORS.muted;

interface RenderApi {
  value: (dimension: number) => number;
  coord: (point: number[]) => number[];
  size: (point: number[]) => number[];
}

/**
 * Uplift per row as a dot with its 95% interval as whiskers, and a dashed line at zero. A row under
 * the minimum sample gets the words "not enough data yet" on its line, never a dot or whiskers.
 * Null when no row has a figure: the page then says so instead of drawing an empty chart.
 */
export function upliftOption(rows: readonly UpliftRow[], w: ReportWords): Option | null {
  const known = rows.flatMap((r, i) => (measured(r) ? [{ i, r }] : []));
  if (known.length === 0) return null;
  const unknown = rows.flatMap((r, i) => (measured(r) ? [] : [{ i, r }]));
  const low = Math.min(0, ...known.map(({ r }) => r.ci95.low));
  const high = Math.max(0, ...known.map(({ r }) => r.ci95.high));
  const min = Math.floor((low - 2) / 5) * 5;
  const max = Math.ceil((high + 2) / 5) * 5;
  return {
    ...base(),
    grid: { left: 130, right: 30, top: 10, bottom: 45 },
    xAxis: {
      type: 'value',
      min,
      max,
      name: w.recalls.points,
      nameLocation: 'middle',
      nameGap: 26,
      axisLabel: { formatter: (v: number) => (v > 0 ? `+${v}` : v < 0 ? `−${-v}` : '0') },
    },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => code(w, r.key)) },
    series: [
      {
        type: 'custom',
        name: w.recalls.ci95,
        encode: { x: [1, 2], y: 0 },
        renderItem: (_: unknown, api: RenderApi) => {
          const row = api.value(0);
          const a = api.coord([api.value(1), row]);
          const b = api.coord([api.value(2), row]);
          const cap = Math.min(12, (api.size([0, 1])[1] ?? 20) * 0.35);
          const color = upliftColor({ low: api.value(1), high: api.value(2) });
          const line = (x1: number, y1: number, x2: number, y2: number) => ({
            type: 'line',
            shape: { x1, y1, x2, y2 },
            style: { stroke: color, lineWidth: 2 },
          });
          const [ax = 0, ay = 0] = a;
          const [bx = 0] = b;
          return {
            type: 'group',
            children: [
              line(ax, ay, bx, ay),
              line(ax, ay - cap / 2, ax, ay + cap / 2),
              line(bx, ay - cap / 2, bx, ay + cap / 2),
            ],
          };
        },
        data: known.map(({ i, r }) => [i, r.ci95.low, r.ci95.high]),
      },
      {
        type: 'scatter',
        name: w.recalls.uplift,
        symbolSize: 11,
        label: {
          show: true,
          position: 'top',
          formatter: (p: { value: number[] }) => formatPoints(p.value[0] ?? null),
        },
        data: known.map(({ i, r }) => ({
          value: [r.upliftPoints, i],
          itemStyle: { color: upliftColor(r.ci95) },
        })),
        markLine: {
          silent: true,
          symbol: 'none',
          label: { show: false },
          lineStyle: { color: COLORS.muted, type: 'dashed' },
          data: [{ xAxis: 0 }],
        },
      },
      {
        type: 'custom',
        name: w.recalls.notEnoughData,
        encode: { x: 0, y: 1 },
        renderItem: (_: unknown, api: RenderApi) => {
          const [x = 0, y = 0] = api.coord([min, api.value(1)]);
          return {
            type: 'text',
            x: x + 8,
            y,
            style: {
              text: `${w.recalls.notEnoughData} · ${w.recalls.arms(api.value(2), api.value(3))}`,
              fill: COLORS.muted,
              font: `italic 12px ${FONT_FAMILY}`,
              align: 'left',
              verticalAlign: 'middle',
              // Over the zero line, which would otherwise strike the words through.
              backgroundColor: '#fff',
              padding: [2, 4],
            },
            z2: 10,
          };
        },
        z: 5,
        data: unknown.map(({ i, r }) => [min, i, r.recalledN, r.holdoutN]),
      },
    ],
  };
}

function relapseOption(rows: readonly RelapseRow[], w: ReportWords): Option {
  return {
    ...base(),
    grid: { left: 50, right: 20, top: 30, bottom: 50 },
    xAxis: {
      type: 'category',
      data: rows.map((r) => `${code(w, r.key)}\nn ${formatCount(r.returned)}`),
      axisLabel: { interval: 0 },
    },
    yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    series: [
      {
        type: 'bar',
        name: w.recalls.relapseRate,
        barMaxWidth: 60,
        itemStyle: { color: COLORS.churned },
        label: { show: true, position: 'top', formatter: '{c}%' },
        data: rows.map((r) => pct(r.relapseRate)),
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
  /** What the figure says instead of a chart when `option` is null (default: no data yet). */
  empty?: string;
}

function figure(f: Figure, w: ReportWords): string {
  const body = f.option
    ? svg(f.option, f.width ?? 560, f.height ?? 320)
    : `<p class="empty">${escapeHtml(f.empty ?? w.noData)}</p>`;
  return `<figure class="chart" data-chart="${f.id}" data-empty="${f.option ? 'false' : 'true'}">
<figcaption>${escapeHtml(f.title)}</figcaption>${f.note ? `<p class="note">${escapeHtml(f.note)}</p>` : ''}
${body}
</figure>`;
}

function figureOf(value: string, raw: number | null, label: string, id: string, tone = '', sub = ''): string {
  return `<div class="figure ${tone}"><div class="value" data-figure="${id}" data-value="${raw ?? ''}">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div>${sub}</div>`;
}

/** A tile's second line; `id` marks a figure on it the browser test reads. */
function subLine(text: string, figureText?: { id: string; value: string; raw: string }): string {
  const figurePart = figureText
    ? ` <span data-figure="${figureText.id}" data-value="${escapeHtml(figureText.raw)}">${escapeHtml(figureText.value)}</span>`
    : '';
  return `<div class="sub">${escapeHtml(text)}${figurePart}</div>`;
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
.figure .sub { color: var(--muted); font-size: 13px; margin-top: 6px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin: 12px 0 16px; }
.tiles .figure .value { font-size: 26px; }
.tiles .figure.pending .value { font-size: 20px; color: var(--muted); padding: 6px 0 4px; }
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
@media (max-width: 900px) { .grid, .headline, .tiles { grid-template-columns: 1fr; } }
`;

/** The recalls part: tiles, funnel, relapse, uplift by strategy and by stage, the tables behind them. */
function recallsPart(rc: RecallsSection, w: ReportWords): string {
  const rw = w.recalls;
  const heading = `<h2>${escapeHtml(w.sections.recalls)}</h2>`;
  if (rc.funnel.started === 0)
    return `${heading}\n<p class="lede" data-recalls="none">${escapeHtml(rw.none)}</p>`;
  const u = rc.uplift;
  const byLifecycle = [...u.byLifecycle].sort((x, y) => stageRank(x.key) - stageRank(y.key));
  const upliftTone = u.ci95 === null ? '' : u.ci95.low > 0 ? 'good' : u.ci95.high < 0 ? 'bad' : '';
  const tiles = [
    figureOf(
      u.upliftPoints === null ? rw.notEnoughData : formatPoints(u.upliftPoints),
      u.upliftPoints,
      rw.uplift,
      'uplift',
      u.upliftPoints === null ? 'pending' : upliftTone,
      u.ci95 === null
        ? subLine(rw.samples(u.recalledN, u.holdoutN, u.minSamplePerArm))
        : subLine(rw.ci95, {
            id: 'upliftCi95',
            value: formatInterval(u.ci95),
            raw: `${u.ci95.low},${u.ci95.high}`,
          }),
    ),
    figureOf(
      formatYuanExact(rc.costPerIncrementalReturnFen),
      rc.costPerIncrementalReturnFen,
      rw.costPerIncrementalReturn,
      'costPerIncrementalReturn',
      '',
      subLine(
        rc.costPerIncrementalReturnFen !== null
          ? rw.costOfMatured(formatYuanExact(rc.cost.maturedRecalledCostFen))
          : u.upliftPoints === null
            ? rw.notEnoughData
            : rw.noPositiveUplift,
      ),
    ),
    figureOf(
      formatRatio(rc.rewardRoi),
      rc.rewardRoi,
      rw.rewardRoi,
      'rewardRoi',
      '',
      subLine(rw.rewardsPaid(formatYuanExact(rc.cost.rewardsPaidFen))),
    ),
    figureOf(
      formatShare(rc.relapse.relapseRate),
      rc.relapse.relapseRate,
      rw.relapseRate,
      'relapseRate',
      'warn',
      subLine(rw.relapsedOf(rc.relapse.relapsed, rc.relapse.returned)),
    ),
  ].join('\n');

  const upliftFigure = (id: string, title: string, rows: UpliftRow[]): Figure => ({
    id,
    title,
    note: w.notes.uplift,
    option: upliftOption(rows, w),
    height: Math.max(200, 80 + 44 * rows.length),
    empty:
      rows.length === 0
        ? w.noData
        : `${rw.notEnoughData}: ${rw.samples(u.recalledN, u.holdoutN, u.minSamplePerArm)}`,
  });
  const figures: Figure[] = [
    {
      id: 'recall-funnel',
      title: w.charts.recallFunnel,
      note: w.notes.recallFunnel,
      option: funnelOption(rc.funnel, w),
      height: 400,
    },
    {
      id: 'relapse-by-step',
      title: w.charts.relapseByStep,
      note: w.notes.relapse,
      option: rc.relapse.byWinningStep.length > 0 ? relapseOption(rc.relapse.byWinningStep, w) : null,
      height: 400,
      empty: rw.noRelapseYet,
    },
    upliftFigure('uplift-strategy', w.charts.upliftByStrategy, u.byStrategy),
    upliftFigure('uplift-lifecycle', w.charts.upliftByLifecycle, byLifecycle),
  ];

  const arm = (returned: number, n: number, rate: number | null) =>
    `${formatCount(returned)} / ${formatCount(n)} (${formatShare(rate)})`;
  const upliftTable = (first: string, rows: UpliftRow[]) =>
    table(
      [first, rw.table.recalled, rw.table.holdout, rw.table.uplift, rw.ci95],
      rows.map((x) => [
        code(w, x.key),
        arm(x.recalledReturned, x.recalledN, x.recalledReturnRate),
        arm(x.holdoutReturned, x.holdoutN, x.holdoutReturnRate),
        x.upliftPoints === null ? rw.notEnoughData : formatPoints(x.upliftPoints),
        formatInterval(x.ci95),
      ]),
    );
  const c = rc.cost;
  const costTable = table(
    [rw.table.item, rw.table.count, rw.table.cost],
    [
      [rw.table.sms, formatCount(c.messages.sms), formatYuanExact(c.messages.sms * c.unitPricesFen.sms)],
      [rw.table.push, formatCount(c.messages.push), formatYuanExact(c.messages.push * c.unitPricesFen.push)],
      [
        rw.table.inApp,
        formatCount(c.messages.inApp),
        formatYuanExact(c.messages.inApp * c.unitPricesFen.inApp),
      ],
      [rw.table.transitions, formatCount(c.transitions), formatYuanExact(c.transitionsFen)],
      [rw.table.rewardsPaid, '', formatYuanExact(c.rewardsPaidFen)],
      [rw.table.total, '', formatYuanExact(c.totalFen)],
    ],
  );
  return `${heading}
<p class="lede">${escapeHtml(rw.lede(rc.funnel.started, u.windowDays, u.minSamplePerArm))}</p>
<section class="tiles">
${tiles}
</section>
<div class="grid">${figures.map((f) => figure(f, w)).join('\n')}</div>
${upliftTable(rw.table.strategy, u.byStrategy)}
${upliftTable(rw.table.lifecycle, byLifecycle)}
${costTable}`;
}

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
${recallsPart(r.recalls, w)}
<footer>winback · ${escapeHtml(r.from)} – ${escapeHtml(r.to)}</footer>
</main>
</body>
</html>
`;
}
