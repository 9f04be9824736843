import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sparticuz from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../functions/domain/report.ts';
import {
  formatCount,
  formatInterval,
  formatPoints,
  formatRatio,
  formatShare,
  formatYuanExact,
} from '../../functions/domain/report-html.ts';
import { reportWords } from '../../functions/domain/report-labels.ts';
import { writeReport } from '../../local/commands/report.ts';
import { writeSyntheticLake } from '../../local/report-synthetic-lake.ts';

const OUTPUT = resolve(import.meta.dirname, '..', '..', 'test-output');
const CHARTS = [
  'stage',
  'heatmap',
  'cohort',
  'trend',
  'portrait',
  'channel-mix',
  'curve',
  'login',
  'feedback-reasons',
  'feedback-issues',
  'recall-funnel',
  'relapse-by-step',
  'uplift-strategy',
  'uplift-lifecycle',
];

let dir: string;
let report: Report;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'winback-report-browser-'));
  // 2,000 users: enough recall draws that the holdout arm passes the minimum sample (100).
  await writeSyntheticLake({
    root: join(dir, 'lake'),
    users: 2_000,
    days: 75,
    start: '2026-08-01',
    feedback: 150,
  });
  ({ report } = await writeReport({
    lakeDir: join(dir, 'lake'),
    out: [join(dir, 'report.json'), join(dir, 'zh-CN.html')],
    locale: 'zh-CN',
  }));
  await writeReport({ lakeDir: join(dir, 'lake'), out: join(dir, 'en.html'), locale: 'en' });
  mkdirSync(OUTPUT, { recursive: true });
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['zh-CN', 'en'] as const)('the %s report in headless Chromium', (locale) => {
  it('renders marks in every chart, shows the JSON figures, loads its font and logs no error', async () => {
    // @sparticuz/chromium runs single-process: closing its last page ends the browser, so each
    // page gets its own browser.
    const browser: Browser = await chromium.launch({
      executablePath: await sparticuz.executablePath(),
      args: sparticuz.args,
      headless: true,
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    try {
      await page.goto(pathToFileURL(join(dir, `${locale}.html`)).href);
      await page.evaluate('document.fonts.ready.then(() => true)');

      // Every chart is there, with data, and drew series marks (bars, slices, cells, lines).
      const charts = await page.$$eval('figure.chart', (figs) =>
        figs.map((f) => ({
          id: f.getAttribute('data-chart'),
          empty: f.getAttribute('data-empty'),
          marks: f.querySelectorAll('svg [ecmeta_series_index]').length,
          shapes: f.querySelectorAll('svg path, svg rect').length,
        })),
      );
      expect(charts.map((c) => c.id)).toEqual(CHARTS);
      for (const c of charts) {
        expect(c.empty, c.id ?? '').toBe('false');
        expect(c.marks, `${c.id} series marks`).toBeGreaterThan(0);
        expect(c.shapes, `${c.id} paths and rects`).toBeGreaterThan(0);
      }

      // The headline says what the JSON says.
      const figures = await page.$$eval('[data-figure]', (els) =>
        Object.fromEntries(els.map((e) => [e.getAttribute('data-figure'), e.textContent])),
      );
      const rc = report.recalls;
      expect(figures).toEqual({
        users: formatCount(report.headline.users),
        churned: formatCount(report.headline.churned),
        atRisk: formatCount(report.headline.atRisk),
        precision: formatShare(report.headline.precision),
        recall: formatShare(report.headline.recall),
        uplift: formatPoints(rc.uplift.upliftPoints),
        upliftCi95: formatInterval(rc.uplift.ci95),
        costPerIncrementalReturn: formatYuanExact(rc.costPerIncrementalReturnFen),
        rewardRoi: formatRatio(rc.rewardRoi),
        relapseRate: formatShare(rc.relapse.relapseRate),
      });
      expect(report.headline.users).toBeGreaterThan(0);

      // Each uplift chart draws whiskers (three strokes) and a dot per row with a figure, and the
      // words "not enough data yet" on the line of each row without one.
      const words = reportWords(locale).recalls;
      for (const [id, rows] of [
        ['uplift-strategy', rc.uplift.byStrategy],
        ['uplift-lifecycle', rc.uplift.byLifecycle],
      ] as const) {
        const drawn = await page.$eval(
          `figure[data-chart="${id}"]`,
          (f, notEnough) => ({
            whiskers: f.querySelectorAll('svg path[ecmeta_series_index="0"]').length,
            dots: f.querySelectorAll('svg path[ecmeta_series_index="1"]:not([ecmeta_silent])').length,
            notes: [...f.querySelectorAll('svg text')].filter((t) => t.textContent?.startsWith(notEnough))
              .length,
          }),
          words.notEnoughData,
        );
        const measured = rows.filter((r) => r.ci95 !== null).length;
        expect(drawn, id).toEqual({ whiskers: 3 * measured, dots: measured, notes: rows.length - measured });
      }

      // The embedded font covers the page's characters: Chinese shows as glyphs, not boxes.
      const probe = locale === 'zh-CN' ? '流失用户预警精确率' : 'Churned users';
      // A string, not a function: the test compiles without the DOM library.
      // Every embedded face draws something on the page: a face declared for characters the page
      // does not show (or shadowed by another face) stays unloaded and makes check() false.
      const font = (await page.evaluate(`({
        covered: document.fonts.check("16px 'Noto Sans SC'", ${JSON.stringify(probe)}),
        pageCovered: document.fonts.check("16px 'Noto Sans SC'", document.body.innerText),
        faces: [...document.fonts].filter((f) => f.family.includes('Noto Sans SC')).map((f) => f.status),
      })`)) as { covered: boolean; pageCovered: boolean; faces: string[] };
      expect(font.covered).toBe(true);
      expect(font.pageCovered).toBe(true);
      expect(font.faces.length).toBeGreaterThan(0);
      expect(font.faces.filter((status) => status !== 'loaded')).toEqual([]);

      await page.screenshot({ path: join(OUTPUT, `report-${locale}.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

it('the JSON file is the report the page was drawn from', () => {
  const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  expect(json.headline).toEqual(report.headline);
  expect(json.backtest.daysEvaluated).toBeGreaterThan(0);
  expect(json.recalls).toEqual(report.recalls);
});

it('the synthetic lake has recalls enough to measure: a holdout near a tenth, an uplift with its interval', () => {
  const { funnel, uplift } = report.recalls;
  expect(funnel.holdout / funnel.started).toBeGreaterThan(0.05);
  expect(funnel.holdout / funnel.started).toBeLessThan(0.2);
  expect(uplift.holdoutN).toBeGreaterThanOrEqual(uplift.minSamplePerArm);
  expect(uplift.upliftPoints).not.toBeNull();
  expect(uplift.ci95).not.toBeNull();
  expect(funnel.returned.total).toBeGreaterThan(0);
  // Some rows have a figure and some are still short of the minimum: the charts show both cases.
  const rows = [...uplift.byStrategy, ...uplift.byLifecycle];
  expect(rows.some((r) => r.ci95 !== null)).toBe(true);
  expect(rows.some((r) => r.ci95 === null)).toBe(true);
  expect(report.recalls.costPerIncrementalReturnFen).not.toBeNull();
  expect(report.recalls.rewardRoi).not.toBeNull();
  expect(report.recalls.relapse.relapseRate).not.toBeNull();
});
