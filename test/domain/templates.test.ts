import { describe, expect, it } from 'vitest';
import { ESCALATION, type Strategy } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import { formatYuan, type Locale, renderMessage, smsSegments } from '../../functions/domain/templates.ts';

const LOCALES: readonly Locale[] = ['zh-CN', 'en'];
const OPT_OUT: Record<Locale, string> = { 'zh-CN': '回T退订', en: 'Reply STOP to opt out' };

/** One of each strategy kind (and each marketing offer), with the largest reward the default policy gives. */
const STRATEGIES: readonly Strategy[] = [
  { kind: 'experience_coupon' },
  { kind: 'trust_building' },
  {
    kind: 'conditional_reward',
    amountFen: DEFAULT_POLICY.reward.capFen,
    unlockInvestFen: DEFAULT_POLICY.reward.unlockInvestFen,
  },
  { kind: 'care' },
  { kind: 'reinvite_after_improvement' },
  { kind: 'good_news' },
  { kind: 'marketing_activity', offer: 'birthday_coupon' },
  { kind: 'marketing_activity', offer: 'bonus_rate_coupon' },
  { kind: 'marketing_activity', offer: 'lottery' },
  { kind: 'preferred_product', products: ['稳盈90天', '活期宝', '第三个不显示'] },
  { kind: 'reminder' },
];
const PRODUCTS_EN: Strategy = { kind: 'preferred_product', products: ['Steady 90', 'Daily Cash', 'Hidden'] };

const label = (s: Strategy) => (s.kind === 'marketing_activity' ? `${s.kind}/${s.offer}` : s.kind);

describe('renderMessage', () => {
  it('covers every strategy kind', () => {
    expect(new Set(STRATEGIES.map((s) => s.kind)).size).toBe(9);
  });

  for (const locale of LOCALES) {
    for (const strategy of STRATEGIES) {
      const s = locale === 'en' && strategy.kind === 'preferred_product' ? PRODUCTS_EN : strategy;
      it(`renders ${label(s)} in ${locale} on every channel`, () => {
        for (const channel of ESCALATION) {
          const { title, body } = renderMessage(s, channel, locale);
          expect(title.trim().length, `${channel} title`).toBeGreaterThan(0);
          expect(body.trim().length, `${channel} body`).toBeGreaterThan(0);
          for (const text of [title, body]) expect(text).not.toMatch(/undefined|NaN|null|\[object/);
        }
      });

      it(`fits ${label(s)} in ${locale} into one SMS segment with the opt-out line`, () => {
        const { body } = renderMessage(s, 'sms', locale);
        expect(body.endsWith(OPT_OUT[locale])).toBe(true);
        expect(body.startsWith(locale === 'en' ? '[winback] ' : '【winback】')).toBe(true);
        expect(smsSegments(body)).toBe(1);
      });
    }
  }

  it('uses the long copy in-app, the short copy on push, and the short copy plus brand and opt-out by SMS', () => {
    const reminder: Strategy = { kind: 'reminder' };
    expect(renderMessage(reminder, 'in_app', 'zh-CN')).toEqual({
      title: '好久不见',
      body: '您的账户一切安好，本周有新的理财产品上线，回来看看吧。',
    });
    expect(renderMessage(reminder, 'push', 'zh-CN').body).toBe(
      '好久不见，本周有新理财产品上线，回来看看吧。',
    );
    expect(renderMessage(reminder, 'sms', 'zh-CN').body).toBe(
      '【winback】好久不见，本周有新理财产品上线，回来看看吧。回T退订',
    );
    expect(renderMessage(reminder, 'sms', 'en').body).toBe(
      '[winback] New products launched this week. Come and take a look. Reply STOP to opt out',
    );
  });

  it('spells out the conditional reward: what to invest and what it unlocks', () => {
    const reward: Strategy = { kind: 'conditional_reward', amountFen: 100_000, unlockInvestFen: 1_000_000 };
    for (const locale of LOCALES) {
      for (const channel of ESCALATION) {
        const { title, body } = renderMessage(reward, channel, locale);
        expect(title).toContain('¥1,000');
        expect(body).toContain('¥10,000');
        expect(body).toContain('¥1,000');
      }
    }
    expect(renderMessage(reward, 'in_app', 'zh-CN')).toEqual({
      title: '¥1,000加息奖励待解锁',
      body: '再投资¥10,000即可解锁¥1,000利息奖励，限时有效。',
    });
    expect(renderMessage(reward, 'sms', 'en').body).toBe(
      '[winback] Invest ¥10,000 to unlock your ¥1,000 interest bonus. Limited time. Reply STOP to opt out',
    );
  });

  it('names the offer of a marketing activity and at most two preferred products', () => {
    expect(renderMessage({ kind: 'marketing_activity', offer: 'lottery' }, 'push', 'zh-CN').body).toBe(
      '您有一份专属幸运抽奖待领取，登录App即可。',
    );
    expect(renderMessage({ kind: 'marketing_activity', offer: 'birthday_coupon' }, 'in_app', 'en').body).toBe(
      'We saved a birthday bonus-rate coupon for you. Log in to claim it.',
    );
    const zh = renderMessage(STRATEGIES[9]!, 'push', 'zh-CN').body;
    expect(zh).toBe('您关注的稳盈90天、活期宝有新额度，登录App查看。');
    expect(renderMessage(PRODUCTS_EN, 'push', 'en').body).toBe(
      'Steady 90 and Daily Cash has new quota. Log in for details.',
    );
  });
});

describe('formatYuan', () => {
  it('drops the decimals of whole yuan and groups thousands', () => {
    expect(formatYuan(100_000)).toBe('¥1,000');
    expect(formatYuan(1_000_000)).toBe('¥10,000');
    expect(formatYuan(0)).toBe('¥0');
    expect(formatYuan(123_456_700)).toBe('¥1,234,567');
  });

  it('shows two decimals otherwise', () => {
    expect(formatYuan(9_999)).toBe('¥99.99');
    expect(formatYuan(150)).toBe('¥1.50');
    expect(formatYuan(5)).toBe('¥0.05');
    expect(formatYuan(123_456_789)).toBe('¥1,234,567.89');
  });
});

describe('smsSegments', () => {
  it('fits 160 GSM-7 characters in one segment and splits at 153 beyond', () => {
    expect(smsSegments('')).toBe(1);
    expect(smsSegments('a'.repeat(160))).toBe(1);
    expect(smsSegments('a'.repeat(161))).toBe(2);
    expect(smsSegments('a'.repeat(306))).toBe(2);
    expect(smsSegments('a'.repeat(307))).toBe(3);
  });

  it('counts ¥, £ and accented letters of the GSM alphabet as GSM-7', () => {
    expect(smsSegments('¥'.repeat(160))).toBe(1);
    expect(smsSegments(`${'é'.repeat(80)}${'£'.repeat(80)}`)).toBe(1);
  });

  it('fits 70 UCS-2 characters in one segment and splits at 67 beyond', () => {
    expect(smsSegments('中'.repeat(70))).toBe(1);
    expect(smsSegments('中'.repeat(71))).toBe(2);
    expect(smsSegments('中'.repeat(134))).toBe(2);
    expect(smsSegments('中'.repeat(135))).toBe(3);
  });

  it('switches a whole text to UCS-2 for one character outside GSM-7', () => {
    expect(smsSegments(`${'a'.repeat(69)}中`)).toBe(1);
    expect(smsSegments(`${'a'.repeat(70)}中`)).toBe(2);
    // ç (lower case) has no GSM-7 code; € does, in the extension table (two septets).
    expect(smsSegments(`${'a'.repeat(100)}ç`)).toBe(2);
    expect(smsSegments(`${'a'.repeat(100)}€`)).toBe(1);
  });

  it('counts GSM-7 extension characters ([ ] { } ^ ~ | \\) as two septets each', () => {
    // GSM 03.38: these sit in the extension table behind an escape, so 159 + 2 = 161 septets.
    expect(smsSegments(`[${'a'.repeat(159)}`)).toBe(2);
    expect(smsSegments(`${'a'.repeat(155)}{}~`)).toBe(2);
    expect(smsSegments(`[${'a'.repeat(158)}`)).toBe(1);
  });

  it('treats the backtick, which GSM-7 lacks, as UCS-2', () => {
    expect(smsSegments(`\`${'a'.repeat(100)}`)).toBe(2);
  });
});
