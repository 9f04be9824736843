import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultFontDir,
  fontFaceCss,
  subsetsFor,
  visibleText,
} from '../../functions/adapters/report-font.ts';

const unicode = JSON.parse(readFileSync(join(defaultFontDir(), 'unicode.json'), 'utf8')) as Record<
  string,
  string
>;

function points(range: string): number[] {
  return range.split(',').flatMap((part) => {
    const [lo, hi] = part.trim().replace(/^U\+/, '').split('-');
    const a = Number.parseInt(lo ?? '', 16);
    const b = hi === undefined ? a : Number.parseInt(hi, 16);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

describe('visibleText', () => {
  it('keeps what is between the tags, decodes entities, drops styles, scripts and comments', () => {
    const html =
      '<html><head><style>a{color:#333}</style><script>x<y</script></head><!-- © -->' +
      '<body><p class="x">Churn &amp; recall &lt;30 days&gt; &#165;1,000 &#x2265;5</p><svg><text x="1">流失</text></svg></body></html>';
    expect(visibleText(html)).toBe('Churn & recall <30 days> ¥1,000 ≥5流失');
  });
});

describe('subsetsFor', () => {
  it('covers every character of the text with declared ranges that never overlap', () => {
    // Latin, punctuation and symbols held by two subsets each (latin and a numbered one), and CJK.
    const text = 'Churned users … ¥1,000 · ≥ 30 × 2% — 流失用户预警精确率';
    const picked = subsetsFor(text, unicode);
    const owner = new Map<number, string>();
    for (const { key, range } of picked)
      for (const cp of points(range)) {
        expect(owner.get(cp), `U+${cp.toString(16)} in ${key} and ${owner.get(cp)}`).toBeUndefined();
        owner.set(cp, key);
      }
    for (const ch of text) expect(owner.has(ch.codePointAt(0) ?? 0), ch).toBe(true);
  });

  it('picks few files: English text needs the latin subset and one for ≥', () => {
    const picked = subsetsFor('Churned users ≥ 30 days · ¥1,000…', unicode, (key) =>
      key === 'latin' ? 1 : 2,
    );
    expect(picked.map((p) => p.key)).toEqual(['latin', '[102]']);
  });

  it('picks nothing for text no subset holds', () => {
    expect(subsetsFor('\u{1F600}', unicode)).toEqual([]);
  });
});

describe('fontFaceCss', () => {
  it('embeds only the subsets of the text a reader sees, not of the markup', () => {
    // `#`, `=`, `<` and `&` are each in a numbered subset besides latin; as markup they must not count.
    const css = fontFaceCss('<p style="color:#000" data-x="a=b">Churn &amp; recall</p>');
    expect(css.match(/@font-face/g)).toHaveLength(1);
    expect(css).toContain('unicode-range:U+0-FF');
  });
});
