import type { RecallChannel, Strategy } from './assessment.ts';

export type Locale = 'zh-CN' | 'en';

export interface RenderedMessage {
  title: string;
  body: string;
}

/** ¥ from fen, without decimals when whole: ¥1,000 or ¥99.99. */
export function formatYuan(fen: number): string {
  const yuan = fen / 100;
  return `¥${yuan.toLocaleString('en-US', { minimumFractionDigits: fen % 100 === 0 ? 0 : 2, maximumFractionDigits: 2 })}`;
}

interface Copy {
  title: string;
  /** In-app and push: a sentence or two. */
  body: string;
  /** SMS: one segment where possible (70 UCS-2 characters for Chinese, 160 GSM-7 for English), before the opt-out line. */
  short: string;
}

type CopyFor = (s: Strategy) => Copy;

const OFFER_ZH = { birthday_coupon: '生日加息券', bonus_rate_coupon: '加息券', lottery: '幸运抽奖' } as const;
const OFFER_EN = {
  birthday_coupon: 'a birthday bonus-rate coupon',
  bonus_rate_coupon: 'a bonus-rate coupon',
  lottery: 'a prize draw',
} as const;

const ZH: Record<Strategy['kind'], CopyFor> = {
  experience_coupon: () => ({
    title: '送您一张体验金券',
    body: '小额起投、随时可取。您的体验金券已到账，花一分钟体验第一笔稳健理财。',
    short: '您的理财体验金券已到账，小额起投，打开App即可使用。',
  }),
  trust_building: () => ({
    title: '本周市场解读与加息专区',
    body: '我们整理了本周市场要点，并为您挑选了加息产品，资金由银行存管，收益每日可查。',
    short: '本周市场解读已更新，加息产品限时开放，资金银行存管。',
  }),
  conditional_reward: (s) => {
    const { amountFen, unlockInvestFen } = s as Extract<Strategy, { kind: 'conditional_reward' }>;
    return {
      title: `${formatYuan(amountFen)}加息奖励待解锁`,
      body: `再投资${formatYuan(unlockInvestFen)}即可解锁${formatYuan(amountFen)}利息奖励，限时有效。`,
      short: `投资${formatYuan(unlockInvestFen)}解锁${formatYuan(amountFen)}利息奖励，限时有效。`,
    };
  },
  care: () => ({
    title: '一直在您身边',
    body: '生活中的大事需要资金，我们理解。需要时，随时回来看看适合您的灵活产品。',
    short: '生活大事需要资金，我们理解。需要时随时回来看看灵活产品。',
  }),
  reinvite_after_improvement: () => ({
    title: '我们改进了',
    body: '根据您的反馈，我们优化了App速度与客服响应。诚邀您回来体验新版本。',
    short: '根据您的反馈，App速度与客服已全面改进，诚邀您回来体验。',
  }),
  good_news: () => ({
    title: '行业好消息',
    body: '最新监管政策落地，行业更规范、更安全。平台合规经营，欢迎回来了解。',
    short: '监管新规落地，行业更规范，平台合规经营，欢迎回来了解。',
  }),
  marketing_activity: (s) => {
    const { offer } = s as Extract<Strategy, { kind: 'marketing_activity' }>;
    return {
      title: `专属${OFFER_ZH[offer]}`,
      body: `为您准备了专属${OFFER_ZH[offer]}，登录App即可领取。`,
      short: `您有一份专属${OFFER_ZH[offer]}待领取，登录App即可。`,
    };
  },
  preferred_product: (s) => {
    const { products } = s as Extract<Strategy, { kind: 'preferred_product' }>;
    const names = products.slice(0, 2).join('、');
    return {
      title: '您关注的产品有新额度',
      body: `${names}有新额度开放，登录App查看详情。`,
      short: `您关注的${names}有新额度，登录App查看。`,
    };
  },
  reminder: () => ({
    title: '好久不见',
    body: '您的账户一切安好，本周有新的理财产品上线，回来看看吧。',
    short: '好久不见，本周有新理财产品上线，回来看看吧。',
  }),
};

const EN: Record<Strategy['kind'], CopyFor> = {
  experience_coupon: () => ({
    title: 'A starter coupon for you',
    body: 'Start small, withdraw any time. Your starter coupon is ready: try your first investment in a minute.',
    short: 'Your starter investment coupon is ready. Open the app to use it.',
  }),
  trust_building: () => ({
    title: 'This week in the markets, plus bonus-rate picks',
    body: 'Our market notes for the week and bonus-rate products picked for you. Funds are held in bank custody.',
    short: 'New market notes and bonus-rate products this week. Funds held in bank custody.',
  }),
  conditional_reward: (s) => {
    const { amountFen, unlockInvestFen } = s as Extract<Strategy, { kind: 'conditional_reward' }>;
    return {
      title: `Your ${formatYuan(amountFen)} interest bonus is waiting`,
      body: `Invest ${formatYuan(unlockInvestFen)} to unlock your ${formatYuan(amountFen)} interest bonus. Limited time.`,
      short: `Invest ${formatYuan(unlockInvestFen)} to unlock your ${formatYuan(amountFen)} interest bonus. Limited time.`,
    };
  },
  care: () => ({
    title: 'Here when you need us',
    body: 'Big life moments need cash, and we understand. When you are ready, our flexible products are here.',
    short: 'Big life moments need cash; we understand. Flexible products are here when you are ready.',
  }),
  reinvite_after_improvement: () => ({
    title: 'We listened and improved',
    body: 'After your feedback we made the app faster and support quicker. Come and see the new version.',
    short: 'After your feedback the app is faster and support quicker. Come and see.',
  }),
  good_news: () => ({
    title: 'Good news for the industry',
    body: 'New regulation makes the industry safer and clearer. We are fully compliant: come back and see.',
    short: 'New rules make the industry safer. We are fully compliant: come back and see.',
  }),
  marketing_activity: (s) => {
    const { offer } = s as Extract<Strategy, { kind: 'marketing_activity' }>;
    return {
      title: 'Something for you',
      body: `We saved ${OFFER_EN[offer]} for you. Log in to claim it.`,
      short: `We saved ${OFFER_EN[offer]} for you. Log in to claim it.`,
    };
  },
  preferred_product: (s) => {
    const { products } = s as Extract<Strategy, { kind: 'preferred_product' }>;
    return {
      title: 'New quota on products you follow',
      body: `${products.slice(0, 2).join(' and ')} has new quota open. Log in for details.`,
      short: `${products.slice(0, 2).join(' and ')} has new quota. Log in for details.`,
    };
  },
  reminder: () => ({
    title: 'It has been a while',
    body: 'Your account is safe and sound, and new products launched this week. Come and take a look.',
    short: 'New products launched this week. Come and take a look.',
  }),
};

const OPT_OUT: Record<Locale, string> = { 'zh-CN': '回T退订', en: 'Reply STOP to opt out' };
const BRAND: Record<Locale, string> = { 'zh-CN': '【winback】', en: '[winback] ' };

/** Renders the message for one escalation step: content follows the strategy, length the channel. */
export function renderMessage(strategy: Strategy, channel: RecallChannel, locale: Locale): RenderedMessage {
  const copy = (locale === 'en' ? EN : ZH)[strategy.kind](strategy);
  if (channel === 'sms') {
    const sep = locale === 'en' ? ' ' : '';
    return { title: copy.title, body: `${BRAND[locale]}${copy.short}${sep}${OPT_OUT[locale]}` };
  }
  if (channel === 'push') return { title: copy.title, body: copy.short };
  return { title: copy.title, body: copy.body };
}

const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** Characters of the GSM-7 extension table: each costs an escape plus itself. */
const GSM_EXTENSION = new Set('^{}\\[~]|€');

/**
 * SMS segments the text takes: GSM-7 (160 septets, 153 per part when split, extension characters
 * counting two) when every character has a GSM-7 code, otherwise UCS-2 (70, 67 per part).
 */
export function smsSegments(text: string): number {
  let septets = 0;
  for (const ch of text) {
    if (GSM_BASIC.has(ch)) septets += 1;
    else if (GSM_EXTENSION.has(ch)) septets += 2;
    else {
      const units = text.length;
      return units <= 70 ? 1 : Math.ceil(units / 67);
    }
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}
