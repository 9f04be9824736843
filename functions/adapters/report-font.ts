import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Report } from '../domain/report.ts';
import { FONT_FAMILY, type RenderOptions, renderReportHtml } from '../domain/report-html.ts';

/**
 * The CJK font of the HTML report. Headless browsers (and many office machines) have no Chinese
 * font, so the page carries its own: Noto Sans SC from @fontsource, which is split into
 * unicode-range subsets; only the subsets holding a character of the page are embedded (base64
 * woff2), which keeps a report at a few hundred kilobytes instead of megabytes.
 */

/** The @fontsource/noto-sans-sc folder (unicode.json + files/); in Lambda a copy in the bundle. */
export function defaultFontDir(): string {
  const bundled = join(process.env.LAMBDA_TASK_ROOT ?? '/nonexistent', 'fonts', 'noto-sans-sc');
  if (existsSync(join(bundled, 'unicode.json'))) return bundled;
  return dirname(createRequire(import.meta.url).resolve('@fontsource/noto-sans-sc/unicode.json'));
}

type Range = readonly [number, number];

function parseRanges(spec: string): Range[] {
  return spec.split(',').map((part) => {
    const [lo, hi] = part.trim().replace(/^U\+/i, '').split('-');
    const a = Number.parseInt(lo ?? '', 16);
    return [a, hi === undefined ? a : Number.parseInt(hi, 16)] as const;
  });
}

/** Which subsets of the font hold at least one character of `text`, with their unicode-range. */
export function subsetsFor(
  text: string,
  unicodeJson: Record<string, string>,
): { key: string; range: string }[] {
  const points = new Set<number>();
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x20) points.add(cp);
  }
  const picked: { key: string; range: string }[] = [];
  for (const [key, range] of Object.entries(unicodeJson)) {
    const ranges = parseRanges(range);
    for (const cp of points) {
      if (ranges.some(([lo, hi]) => cp >= lo && cp <= hi)) {
        picked.push({ key, range });
        break;
      }
    }
  }
  return picked;
}

/** `@font-face` rules (regular weight) for the characters of `text`. */
export function fontFaceCss(text: string, fontDir: string = defaultFontDir()): string {
  const unicode = JSON.parse(readFileSync(join(fontDir, 'unicode.json'), 'utf8')) as Record<string, string>;
  const family = FONT_FAMILY.split(',')[0];
  return subsetsFor(text, unicode)
    .map(({ key, range }) => {
      const file = join(
        fontDir,
        'files',
        `noto-sans-sc-${key.replace(/^\[(\d+)\]$/, '$1')}-400-normal.woff2`,
      );
      const data = readFileSync(file).toString('base64');
      return `@font-face{font-family:${family};font-style:normal;font-weight:400;font-display:block;src:url(data:font/woff2;base64,${data}) format('woff2');unicode-range:${range};}\n`;
    })
    .join('');
}

/**
 * The report page with the font subset its text needs: rendered once to learn the characters
 * (chart labels included), then again with the matching @font-face rules.
 */
export function renderReportPage(
  report: Report,
  options: Omit<RenderOptions, 'fontCss'>,
  fontDir: string = defaultFontDir(),
): string {
  const draft = renderReportHtml(report, options);
  return renderReportHtml(report, { ...options, fontCss: fontFaceCss(draft, fontDir) });
}
