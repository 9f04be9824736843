import { existsSync, readFileSync, statSync } from 'node:fs';
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

function formatRanges(points: readonly number[]): string {
  const sorted = [...points].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    const lo = (sorted[i] ?? 0).toString(16).toUpperCase();
    const hi = (sorted[j] ?? 0).toString(16).toUpperCase();
    parts.push(i === j ? `U+${lo}` : `U+${lo}-${hi}`);
    i = j + 1;
  }
  return parts.join(', ');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * The text a reader sees on an HTML page: what is between the tags (chart labels in the SVG
 * included), entities decoded; not the markup, the styles or the comments. The markup's `<`, `=`,
 * `#` or `&` would otherwise pull in font subsets that nothing on the page is drawn with.
 */
export function visibleText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(style|script)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
      const cp =
        name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
    });
}

/**
 * Which subsets of the font to embed for `text`, each with the unicode-range to declare for it.
 *
 * The subsets' own ranges overlap (the `latin` subset and `[119]` both hold ASCII, `…`, `¥` is in
 * `latin` and `[109]`). Declaring two faces for one character leaves one of them unloaded, and
 * the browser then reports the family as not ready for that text (`document.fonts.check` is
 * false). So the subsets are picked to cover the page's characters with as few files as possible
 * (most characters first, the smaller file on a tie), and every character belongs to the first
 * picked subset that holds it: the declared ranges never overlap. A face keeps the rest of its own
 * range, so text a script adds later still finds a glyph when the file has one.
 */
export function subsetsFor(
  text: string,
  unicodeJson: Record<string, string>,
  fileSize: (key: string) => number = () => 0,
): { key: string; range: string }[] {
  const needed = new Set<number>();
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x20) needed.add(cp);
  }
  const subsets = Object.entries(unicodeJson).map(([key, spec]) => {
    const points = new Set<number>();
    for (const [lo, hi] of parseRanges(spec)) for (let cp = lo; cp <= hi; cp++) points.add(cp);
    return { key, points };
  });
  const picked: typeof subsets = [];
  const left = new Set(needed);
  while (left.size > 0) {
    let best: { subset: (typeof subsets)[number]; gain: number; size: number } | undefined;
    for (const subset of subsets) {
      if (picked.includes(subset)) continue;
      let gain = 0;
      for (const cp of left) if (subset.points.has(cp)) gain++;
      if (gain === 0) continue;
      const size = fileSize(subset.key);
      if (!best || gain > best.gain || (gain === best.gain && size < best.size))
        best = { subset, gain, size };
    }
    // What is left is in no subset (emoji, say): the browser's own fonts draw it.
    if (!best) break;
    picked.push(best.subset);
    for (const cp of best.subset.points) left.delete(cp);
  }
  const owned = new Set<number>();
  return picked.map(({ key, points }) => {
    const own = [...points].filter((cp) => !owned.has(cp));
    for (const cp of own) owned.add(cp);
    return { key, range: formatRanges(own) };
  });
}

function fontFile(fontDir: string, key: string): string {
  return join(fontDir, 'files', `noto-sans-sc-${key.replace(/^\[(\d+)\]$/, '$1')}-400-normal.woff2`);
}

/** `@font-face` rules (regular weight) for the characters a reader sees in the page `html`. */
export function fontFaceCss(html: string, fontDir: string = defaultFontDir()): string {
  const unicode = JSON.parse(readFileSync(join(fontDir, 'unicode.json'), 'utf8')) as Record<string, string>;
  const family = FONT_FAMILY.split(',')[0];
  return subsetsFor(visibleText(html), unicode, (key) => statSync(fontFile(fontDir, key)).size)
    .map(({ key, range }) => {
      const data = readFileSync(fontFile(fontDir, key)).toString('base64');
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
