import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sparticuz from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../functions/domain/report.ts';
import { formatCount, formatShare } from '../../functions/domain/report-html.ts';
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
];

let dir: string;
let report: Report;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'winback-report-browser-'));
  await writeSyntheticLake({
    root: join(dir, 'lake'),
    users: 600,
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
      expect(figures).toEqual({
        users: formatCount(report.headline.users),
        churned: formatCount(report.headline.churned),
        atRisk: formatCount(report.headline.atRisk),
        precision: formatShare(report.headline.precision),
        recall: formatShare(report.headline.recall),
      });
      expect(report.headline.users).toBeGreaterThan(0);

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
});
