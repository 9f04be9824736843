import { describe, expect, it } from 'vitest';
import contentFile from '../../config/content.json' with { type: 'json' };
import { DEFAULT_POLICY, parsePolicy } from '../../functions/domain/policy.ts';
import {
  type Content,
  ContentError,
  checkContent,
  checkMessageTexts,
  DEFAULT_CONTENT,
  type MessageTexts,
  parseContent,
  renderMessage,
} from '../../functions/domain/templates.ts';

/** A deep copy of the shipped content with one change. */
function changed(edit: (c: Content) => void): Content {
  const copy = structuredClone(contentFile) as Content;
  edit(copy);
  return copy;
}

function problemsOf(input: unknown): string[] {
  try {
    parseContent(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ContentError);
    return (error as ContentError).problems.map((p) => `${p.template}: ${p.message}`);
  }
  return [];
}

describe('content file', () => {
  it('the shipped config/content.json passes every check under the default policy', () => {
    expect(checkContent(DEFAULT_CONTENT, DEFAULT_POLICY)).toEqual([]);
  });

  it('rejects an unknown variable, naming the template and the variables it may use', () => {
    const input = changed((c) => {
      c.templates.care.en.push = 'We miss you, {firstName}.';
    });
    expect(problemsOf(input)).toEqual([
      'templates.care.en.push: unknown variable {firstName} (allowed: {brandName})',
    ]);
  });

  it('rejects a missing locale and a missing channel by name', () => {
    const input = changed((c) => {
      delete (c.templates.reminder as Partial<Content['templates']['reminder']>).en;
      delete (c.templates.good_news['zh-CN'] as Partial<Content['templates']['good_news']['zh-CN']>).sms;
    });
    expect(problemsOf(input)).toEqual([
      'templates.good_news.zh-CN.sms: required',
      'templates.reminder.en: required',
    ]);
  });

  it('rejects an SMS that takes two segments once framed, with the numbers', () => {
    const content = parseContent(
      changed((c) => {
        c.templates.reminder['zh-CN'].sms = '好久不见'.repeat(15);
      }),
    );
    expect(checkContent(content, DEFAULT_POLICY)).toEqual([
      {
        template: 'templates.reminder.zh-CN.sms',
        message: 'the SMS takes 2 segments (73 characters with brand and opt-out line; one segment holds 70)',
      },
    ]);
  });

  it('checks the reward SMS with the largest amounts the policy gives', () => {
    const content = parseContent(
      changed((c) => {
        c.templates.conditional_reward['zh-CN'].sms =
          '投资{unlockYuan}解锁{rewardYuan}利息奖励，限时有效，打开App查看详情，机会难得不要错过。';
      }),
    );
    expect(checkContent(content, DEFAULT_POLICY)).toEqual([]);
    const generous = parsePolicy({ reward: { capFen: 123_456_789, unlockInvestFen: 9_876_543_210 } });
    expect(checkContent(content, generous).map((p) => p.template)).toEqual([
      'templates.conditional_reward.zh-CN.sms',
    ]);
  });

  it('the brand name is a setting: the SMS frame names whatever brandName says', () => {
    const content = parseContent(
      changed((c) => {
        c.brandName = '稳盈';
      }),
    );
    expect(renderMessage({ kind: 'reminder' }, 'sms', 'zh-CN', content).body).toBe(
      '【稳盈】好久不见，本周有新理财产品上线，回来看看吧。回T退订',
    );
    expect(renderMessage({ kind: 'reminder' }, 'sms', 'en', content).body).toBe(
      '[稳盈] New products launched this week. Come and take a look. Reply STOP to opt out',
    );
  });
});

describe("a segment recall's own message", () => {
  const texts: MessageTexts = {
    'zh-CN': {
      title: '新规落地',
      in_app: '监管新规今日落地。',
      push: '监管新规今日落地。',
      sms: '监管新规今日落地。',
    },
    en: { title: 'New rules', in_app: 'New rules today.', push: 'New rules today.', sms: 'New rules today.' },
  };

  it('is rendered instead of the strategy wording, framed like any SMS', () => {
    const strategy = { kind: 'good_news' as const, message: texts };
    expect(renderMessage(strategy, 'in_app', 'en')).toEqual({ title: 'New rules', body: 'New rules today.' });
    expect(renderMessage(strategy, 'sms', 'zh-CN').body).toBe('【winback】监管新规今日落地。回T退订');
  });

  it('is checked like a template: only {brandName}, one segment per SMS', () => {
    expect(checkMessageTexts(texts)).toEqual([]);
    const bad: MessageTexts = {
      ...texts,
      en: { ...texts.en, push: 'Hi {name}', sms: 'x'.repeat(140) },
    };
    expect(checkMessageTexts(bad).map((p) => `${p.template}: ${p.message.split(' (')[0]}`)).toEqual([
      'message.en.push: unknown variable {name}',
      'message.en.sms: the SMS takes 2 segments',
    ]);
  });
});
