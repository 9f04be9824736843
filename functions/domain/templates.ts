import { z } from 'zod';
import contentFile from '../../config/content.json' with { type: 'json' };
import type { MarketingOffer, RecallChannel, Strategy, StrategyKind } from './assessment.ts';
import type { Policy } from './policy.ts';
import { describeIssues } from './user.ts';

/**
 * Message wording is content, not code: `config/content.json` holds every title and text per
 * strategy × locale × channel, with named variables (`{rewardYuan}`), the brand name and the SMS
 * frame (brand, opt-out line). It is checked when the module loads (shape, known variables) and at
 * synth and by `winback content check FILE` against the policy (every SMS fits one segment with the
 * largest values the policy can produce). This module renders it; it does no I/O: the file is
 * bundled into each Lambda.
 */

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const CHANNELS = ['in_app', 'push', 'sms'] as const satisfies readonly RecallChannel[];

export interface RenderedMessage {
  title: string;
  body: string;
}

/** ¥ from fen, without decimals when whole: ¥1,000 or ¥99.99. */
export function formatYuan(fen: number): string {
  const yuan = fen / 100;
  return `¥${yuan.toLocaleString('en-US', { minimumFractionDigits: fen % 100 === 0 ? 0 : 2, maximumFractionDigits: 2 })}`;
}

/** The variables a strategy's texts may use; `brandName` is allowed everywhere. */
export const TEMPLATE_VARIABLES: Record<StrategyKind, readonly string[]> = {
  experience_coupon: [],
  trust_building: [],
  conditional_reward: ['rewardYuan', 'unlockYuan'],
  care: [],
  reinvite_after_improvement: [],
  good_news: [],
  marketing_activity: ['offerName'],
  preferred_product: ['productName'],
  reminder: [],
};
const COMMON_VARIABLES = ['brandName'] as const;
const OFFERS = [
  'birthday_coupon',
  'bonus_rate_coupon',
  'lottery',
] as const satisfies readonly MarketingOffer[];

const text = (max: number) => z.string().trim().min(1).max(max);
const perLocale = <T extends z.ZodType>(schema: T) => z.strictObject({ 'zh-CN': schema, en: schema });

/** One message in every channel: the title (in-app, push) and a text per channel. */
export const ChannelTextsSchema = z.strictObject({
  title: text(80),
  in_app: text(500),
  push: text(200),
  sms: text(200),
});
export type ChannelTexts = z.infer<typeof ChannelTextsSchema>;

/** A message in every locale, as content.json and a segment recall's `message` carry it. */
export const MessageTextsSchema = perLocale(ChannelTextsSchema);
export type MessageTexts = z.infer<typeof MessageTextsSchema>;

export const ContentSchema = z.strictObject({
  brandName: text(20),
  /** How an SMS is framed: `{text}` is the message, plus brand and the opt-out line the law requires. */
  sms: perLocale(text(120).refine((t) => t.includes('{text}'), 'must contain {text}')),
  offers: z.strictObject(
    Object.fromEntries(OFFERS.map((o) => [o, perLocale(text(40))])) as Record<
      MarketingOffer,
      ReturnType<typeof perLocale<ReturnType<typeof text>>>
    >,
  ),
  productSeparator: perLocale(z.string().min(1).max(5)),
  templates: z.strictObject(
    Object.fromEntries(Object.keys(TEMPLATE_VARIABLES).map((k) => [k, MessageTextsSchema])) as Record<
      StrategyKind,
      typeof MessageTextsSchema
    >,
  ),
});
export type Content = z.infer<typeof ContentSchema>;

export interface ContentProblem {
  /** Where, as a path into the file: `templates.conditional_reward.en.sms`. */
  template: string;
  message: string;
}

export class ContentError extends Error {
  override readonly name = 'ContentError';
  constructor(
    readonly problems: ContentProblem[],
    source = 'content',
  ) {
    super(`invalid ${source}: ${problems.map((p) => `${p.template}: ${p.message}`).join('; ')}`);
  }
}

const VARIABLE = /\{([A-Za-z]+)\}/g;

function variablesIn(value: string): string[] {
  return [...value.matchAll(VARIABLE)].map((m) => m[1]!);
}

function unknownVariables(name: string, texts: MessageTexts, allowed: readonly string[]): ContentProblem[] {
  const known = new Set([...COMMON_VARIABLES, ...allowed]);
  const problems: ContentProblem[] = [];
  for (const locale of LOCALES) {
    for (const [field, value] of Object.entries(texts[locale])) {
      for (const v of variablesIn(value)) {
        if (!known.has(v))
          problems.push({
            template: `${name}.${locale}.${field}`,
            message: `unknown variable {${v}} (allowed: ${[...known].map((k) => `{${k}}`).join(', ')})`,
          });
      }
    }
  }
  return problems;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(VARIABLE, (whole, name: string) => values[name] ?? whole);
}

/**
 * Reads a content document: its shape (every strategy, locale and channel present) and its
 * variables (only those the strategy provides). Throws ContentError naming each template.
 */
export function parseContent(input: unknown, source = 'content'): Content {
  const result = ContentSchema.safeParse(input);
  if (!result.success)
    throw new ContentError(
      describeIssues(result.error).map((i) => ({ template: i.field, message: i.message })),
      source,
    );
  const content = result.data;
  const problems = (Object.keys(content.templates) as StrategyKind[]).flatMap((kind) =>
    unknownVariables(`templates.${kind}`, content.templates[kind], TEMPLATE_VARIABLES[kind]),
  );
  for (const locale of LOCALES) {
    for (const v of variablesIn(content.sms[locale]))
      if (v !== 'text' && v !== 'brandName')
        problems.push({
          template: `sms.${locale}`,
          message: `unknown variable {${v}} (allowed: {text}, {brandName})`,
        });
  }
  if (problems.length > 0) throw new ContentError(problems, source);
  return content;
}

/** The content file shipped with the code; a malformed file fails at load, before any message goes. */
export const DEFAULT_CONTENT: Content = parseContent(contentFile, 'config/content.json');

/**
 * Product names the segment check assumes: two names of typical length. A user whose followed
 * products have longer names may get a two-part SMS; the check cannot know every catalogue.
 */
const SAMPLE_PRODUCTS: Record<Locale, string[]> = {
  'zh-CN': ['稳盈90天', '活期宝'],
  en: ['Steady 90', 'Daily Cash'],
};

function variablesFor(strategy: Strategy, locale: Locale, content: Content): Record<string, string> {
  const values: Record<string, string> = { brandName: content.brandName };
  switch (strategy.kind) {
    case 'conditional_reward':
      values.rewardYuan = formatYuan(strategy.amountFen);
      values.unlockYuan = formatYuan(strategy.unlockInvestFen);
      break;
    case 'marketing_activity':
      values.offerName = content.offers[strategy.offer][locale];
      break;
    case 'preferred_product':
      values.productName = strategy.products.slice(0, 2).join(content.productSeparator[locale]);
      break;
  }
  return values;
}

function renderTexts(
  texts: ChannelTexts,
  channel: RecallChannel,
  locale: Locale,
  values: Record<string, string>,
  content: Content,
): RenderedMessage {
  const title = fill(texts.title, values);
  const body = fill(texts[channel], values);
  if (channel !== 'sms') return { title, body };
  return { title, body: fill(content.sms[locale], { ...values, text: body }) };
}

/** Renders the message for one escalation step: content follows the strategy, length the channel. */
export function renderMessage(
  strategy: Strategy,
  channel: RecallChannel,
  locale: Locale,
  content: Content = DEFAULT_CONTENT,
): RenderedMessage {
  if (strategy.message) return renderCustomMessage(strategy.message, channel, locale, content);
  const texts = content.templates[strategy.kind][locale];
  return renderTexts(texts, channel, locale, variablesFor(strategy, locale, content), content);
}

/** Renders an operator's own message (a segment recall's `message`), framed like any other SMS. */
export function renderCustomMessage(
  texts: MessageTexts,
  channel: RecallChannel,
  locale: Locale,
  content: Content = DEFAULT_CONTENT,
): RenderedMessage {
  return renderTexts(texts[locale], channel, locale, { brandName: content.brandName }, content);
}

/** The largest values a strategy's variables take under the policy, one strategy per case checked. */
function worstCases(kind: StrategyKind, policy: Policy): Strategy[] {
  switch (kind) {
    case 'conditional_reward':
      return [{ kind, amountFen: policy.reward.capFen, unlockInvestFen: policy.reward.unlockInvestFen }];
    case 'marketing_activity':
      return OFFERS.map((offer) => ({ kind, offer }));
    case 'preferred_product':
      return [{ kind, products: [] }];
    default:
      return [{ kind } as Strategy];
  }
}

/**
 * What parseContent cannot see alone: whether every SMS, framed and filled with the largest values
 * the policy gives, fits one segment. Returns the problems (empty: good).
 */
export function checkContent(content: Content, policy: Policy): ContentProblem[] {
  const problems: ContentProblem[] = [];
  for (const kind of Object.keys(content.templates) as StrategyKind[]) {
    for (const locale of LOCALES) {
      for (const strategy of worstCases(kind, policy)) {
        const s =
          strategy.kind === 'preferred_product'
            ? { ...strategy, products: SAMPLE_PRODUCTS[locale] }
            : strategy;
        const { body } = renderMessage(s, 'sms', locale, content);
        const segments = smsSegments(body);
        if (segments > 1) {
          problems.push({ template: `templates.${kind}.${locale}.sms`, message: smsTooLong(body, segments) });
          break;
        }
      }
    }
  }
  return problems;
}

/** A segment recall's own message: known variables only (`{brandName}`) and one SMS segment per locale. */
export function checkMessageTexts(texts: MessageTexts, content: Content = DEFAULT_CONTENT): ContentProblem[] {
  const problems = unknownVariables('message', texts, []);
  for (const locale of LOCALES) {
    const { body } = renderCustomMessage(texts, 'sms', locale, content);
    const segments = smsSegments(body);
    if (segments > 1)
      problems.push({ template: `message.${locale}.sms`, message: smsTooLong(body, segments) });
  }
  return problems;
}

function smsTooLong(body: string, segments: number): string {
  const ucs2 = [...body].some((ch) => !GSM_BASIC.has(ch) && !GSM_EXTENSION.has(ch));
  return `the SMS takes ${segments} segments (${body.length} characters with brand and opt-out line; one segment holds ${ucs2 ? 70 : 160})`;
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
