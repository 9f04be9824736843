/** Words of the HTML report in each locale. Codes without a translation are shown as they are. */
export const REPORT_LOCALES = ['zh-CN', 'en'] as const;
export type ReportLocale = (typeof REPORT_LOCALES)[number];

export interface ReportWords {
  title: string;
  subtitle: (from: string, to: string, asOfDay: string | null) => string;
  users: string;
  churned: string;
  atRisk: string;
  active: string;
  precision: string;
  recall: string;
  flaggedShare: string;
  horizon: (days: number, judged: number) => string;
  noData: string;
  sections: {
    structure: string;
    backtest: string;
    portrait: string;
    feedback: string;
  };
  charts: {
    stage: string;
    heatmap: string;
    cohort: string;
    trend: string;
    portrait: string;
    channelMix: string;
    curve: string;
    login: string;
    feedbackReasons: string;
    feedbackIssues: string;
  };
  notes: {
    stage: string;
    heatmap: string;
    curve: string;
    login: string;
    precision: string;
  };
  churnRate: string;
  currentPolicy: string;
  scoreAtLeast: string;
  loginDays: string;
  atMostTwoInvestments: string;
  smallNoBonus: string;
  lowBalance: string;
  medianMaxInvest: string;
  answers: string;
  backtestTable: {
    level: string;
    flagged: string;
    truePositives: string;
    lift: string;
    accuracy: string;
    reason: string;
  };
  codes: Record<string, string>;
}

const EN: ReportWords = {
  title: 'winback insight report',
  subtitle: (from, to, asOf) => `Scan days ${from} to ${to} · figures as of ${asOf ?? '—'}`,
  users: 'Users',
  churned: 'Churned',
  atRisk: 'At risk',
  active: 'Active',
  precision: 'Warning precision',
  recall: 'Warning recall',
  flaggedShare: 'Flagged share',
  horizon: (days, judged) =>
    `Backtest: a warning is right when the user churns within ${days} days; ${judged} days judged.`,
  noData: 'No data in this window yet.',
  sections: {
    structure: 'Who churns',
    backtest: 'How good is the warning',
    portrait: 'Churned and active users compared',
    feedback: 'What churned users told us',
  },
  charts: {
    stage: 'Churned users by lifecycle stage',
    heatmap: 'Churn rate by stage and channel',
    cohort: 'Churn rate by registration month',
    trend: 'Users by status, day by day',
    portrait: 'Portrait: churned vs active',
    channelMix: 'Channel mix: churned vs active',
    curve: 'Precision and recall by score threshold',
    login: 'Login-inactivity threshold: what each choice would have done',
    feedbackReasons: 'Churn reasons (all answers ever recorded)',
    feedbackIssues: 'Issues named (all answers ever recorded)',
  },
  notes: {
    stage: 'Share of churned users in each lifecycle stage on the report day.',
    heatmap: 'Churned ÷ users in each cell; darker is worse.',
    curve:
      'Each point flags users with a score at or above the threshold; the diamond is the current policy.',
    login: 'Flag when days since the last login exceed the threshold; the line marks the current policy.',
    precision:
      'Precision: of the users warned, the share who churned within the horizon. Recall: of those who churned, the share warned beforehand.',
  },
  churnRate: 'Churn rate',
  currentPolicy: 'Current policy',
  scoreAtLeast: 'Score at least',
  loginDays: 'Days since login over',
  atMostTwoInvestments: 'At most 2 investments',
  smallNoBonus: 'Largest investment under ¥10,000, no bonus product',
  lowBalance: 'Low balance',
  medianMaxInvest: 'Median largest investment',
  answers: 'Answers',
  backtestTable: {
    level: 'Level',
    flagged: 'Flagged user-days',
    truePositives: 'Churned after warning',
    lift: 'Lift',
    accuracy: 'Accuracy',
    reason: 'Reason',
  },
  codes: {
    novice: 'Novice',
    growth: 'Growth',
    mature: 'Mature',
    active: 'Active',
    at_risk: 'At risk',
    churned: 'Churned',
    high: 'High',
    medium: 'Medium',
    low: 'Low',
    distribution: 'Distribution',
    invite: 'Invite',
    finance_supermarket: 'Finance supermarket',
    organic: 'Organic',
    ads: 'Ads',
    unknown: 'Unknown',
    inactive_login: 'No login',
    inactive_invest: 'No investment',
    low_balance: 'Low balance',
    few_investments: 'Few investments',
    small_investments: 'Small investments',
    high_churn_channel: 'High-churn channel',
    high_value_lapsed: 'High value, lapsed',
    economic: 'Economic',
    frustrated: 'Frustrated',
    policy: 'Policy',
    natural: 'Natural',
    other: 'Other',
    app_lag: 'App lag',
    low_yield: 'Low yield',
    slow_support: 'Slow support',
  },
};

const ZH: ReportWords = {
  title: 'winback 流失洞察报告',
  subtitle: (from, to, asOf) => `扫描日 ${from} 至 ${to} · 数据截至 ${asOf ?? '—'}`,
  users: '用户数',
  churned: '已流失',
  atRisk: '有流失风险',
  active: '活跃',
  precision: '预警精确率',
  recall: '预警召回率',
  flaggedShare: '预警占比',
  horizon: (days, judged) => `回测：预警后 ${days} 天内流失即为命中；共评估 ${judged} 天。`,
  noData: '该时间段内暂无数据。',
  sections: {
    structure: '谁在流失',
    backtest: '预警准不准',
    portrait: '流失用户与活跃用户对比',
    feedback: '流失用户的反馈',
  },
  charts: {
    stage: '流失用户的生命周期分布',
    heatmap: '生命周期 × 渠道 流失率',
    cohort: '按注册月份的流失率',
    trend: '每日用户状态',
    portrait: '用户画像：流失 vs 活跃',
    channelMix: '渠道构成：流失 vs 活跃',
    curve: '按评分阈值的精确率与召回率',
    login: '未登录天数阈值：不同选择的效果',
    feedbackReasons: '流失原因（全部历史反馈）',
    feedbackIssues: '反馈问题（全部历史反馈）',
  },
  notes: {
    stage: '报告日各生命周期阶段在流失用户中的占比。',
    heatmap: '每格为 流失数 ÷ 用户数；颜色越深流失越严重。',
    curve: '每个点表示评分不低于该阈值即预警；菱形为当前策略。',
    login: '未登录天数超过阈值即预警；竖线为当前策略。',
    precision: '精确率：被预警用户中在观察期内流失的比例。召回率：流失用户中事先被预警的比例。',
  },
  churnRate: '流失率',
  currentPolicy: '当前策略',
  scoreAtLeast: '评分不低于',
  loginDays: '未登录天数超过',
  atMostTwoInvestments: '投资不超过 2 次',
  smallNoBonus: '单笔最大投资不足 1 万元且未持有加息产品',
  lowBalance: '余额过低',
  medianMaxInvest: '单笔最大投资中位数',
  answers: '回答数',
  backtestTable: {
    level: '风险等级',
    flagged: '预警人天',
    truePositives: '预警后流失',
    lift: '提升度',
    accuracy: '准确率',
    reason: '原因',
  },
  codes: {
    novice: '新手期',
    growth: '成长期',
    mature: '成熟期',
    active: '活跃',
    at_risk: '有流失风险',
    churned: '已流失',
    high: '高',
    medium: '中',
    low: '低',
    distribution: '分销',
    invite: '邀请',
    finance_supermarket: '理财超市',
    organic: '自然流量',
    ads: '广告',
    unknown: '未知',
    inactive_login: '长期未登录',
    inactive_invest: '长期未投资',
    low_balance: '余额过低',
    few_investments: '投资次数少',
    small_investments: '单笔投资小',
    high_churn_channel: '高流失渠道',
    high_value_lapsed: '高价值用户沉寂',
    economic: '经济原因',
    frustrated: '体验不佳',
    policy: '政策原因',
    natural: '自然流失',
    other: '其他',
    app_lag: '应用卡顿',
    low_yield: '收益偏低',
    slow_support: '客服响应慢',
  },
};

export function reportWords(locale: ReportLocale): ReportWords {
  return locale === 'zh-CN' ? ZH : EN;
}

export function isReportLocale(value: string): value is ReportLocale {
  return (REPORT_LOCALES as readonly string[]).includes(value);
}
