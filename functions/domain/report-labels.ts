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
    recalls: string;
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
    recallFunnel: string;
    upliftByStrategy: string;
    upliftByLifecycle: string;
    relapseByStep: string;
  };
  notes: {
    stage: string;
    heatmap: string;
    curve: string;
    login: string;
    precision: string;
    recallFunnel: string;
    uplift: string;
    relapse: string;
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
  recalls: RecallWords;
  codes: Record<string, string>;
}

/** Words of the page's recalls part. */
export interface RecallWords {
  /** The part's opening line: what was drawn and how the uplift is measured. */
  lede: (started: number, windowDays: number, minSamplePerArm: number) => string;
  none: string;
  notEnoughData: string;
  /** Why an uplift is not shown yet: each arm's matured draws against the minimum. */
  samples: (recalledN: number, holdoutN: number, minSamplePerArm: number) => string;
  /** Both arms' matured draws, short, beside "not enough data yet" on a chart line. */
  arms: (recalledN: number, holdoutN: number) => string;
  uplift: string;
  ci95: string;
  costPerIncrementalReturn: string;
  costOfMatured: (yuan: string) => string;
  noPositiveUplift: string;
  rewardRoi: string;
  rewardsPaid: (yuan: string) => string;
  relapseRate: string;
  relapsedOf: (relapsed: number, returned: number) => string;
  noRelapseYet: string;
  points: string;
  funnel: {
    started: string;
    holdout: string;
    sentInApp: string;
    sentPush: string;
    sentSms: string;
    returnedInApp: string;
    returnedPush: string;
    returnedSms: string;
    returnedWithoutMessage: string;
    notReturned: string;
    skipped: string;
    failed: string;
    stillRunning: string;
    smsSkipped: string;
  };
  table: {
    strategy: string;
    lifecycle: string;
    recalled: string;
    holdout: string;
    uplift: string;
    item: string;
    count: string;
    cost: string;
    sms: string;
    push: string;
    inApp: string;
    transitions: string;
    rewardsPaid: string;
    total: string;
  };
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
    recalls: 'What the recalls did',
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
    recallFunnel: 'Recall funnel',
    upliftByStrategy: 'Uplift by strategy, with its 95% interval',
    upliftByLifecycle: 'Uplift by lifecycle stage, with its 95% interval',
    relapseByStep: '30-day relapse by winning step',
  },
  notes: {
    stage: 'Share of churned users in each lifecycle stage on the report day.',
    heatmap: 'Churned ÷ users in each cell; darker is worse.',
    curve:
      'Each point flags users with a score at or above the threshold; the diamond is the current policy.',
    login: 'Flag when days since the last login exceed the threshold; the line marks the current policy.',
    precision:
      'Precision: of the users warned, the share who churned within the horizon. Recall: of those who churned, the share warned beforehand.',
    recallFunnel:
      'Recalls and holdout draws started in the window; "sent" counts recalls that sent the step; returns by the step that won.',
    uplift:
      'Dot: recalled return rate minus holdout return rate, in percentage points; whiskers: 95% interval; green when the whole interval is above zero.',
    relapse: 'Of the users a recall brought back, the share inactive or churned again within 30 days.',
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
  recalls: {
    lede: (started, windowDays, min) =>
      `${started.toLocaleString('en-US')} recalls and holdout draws started in the window. Uplift compares the return rate of recalled users with the holdout's over draws whose ${windowDays}-day window has passed (at least ${min} in each arm).`,
    none: 'No recalls in this window yet.',
    notEnoughData: 'Not enough data yet',
    samples: (recalled, holdout, min) =>
      `Matured draws: ${recalled.toLocaleString('en-US')} recalled, ${holdout.toLocaleString('en-US')} holdout (${min} per arm needed)`,
    arms: (recalled, holdout) =>
      `${recalled.toLocaleString('en-US')} recalled / ${holdout.toLocaleString('en-US')} holdout`,
    uplift: 'Return-rate uplift, percentage points',
    ci95: '95% interval',
    costPerIncrementalReturn: 'Cost per incremental return',
    costOfMatured: (yuan) => `Matured recalls cost ${yuan}`,
    noPositiveUplift: 'No measured positive uplift to divide by',
    rewardRoi: 'Reward ROI: invested per ¥1 of reward paid',
    rewardsPaid: (yuan) => `Rewards paid ${yuan}`,
    relapseRate: '30-day relapse rate',
    relapsedOf: (relapsed, returned) =>
      `${relapsed.toLocaleString('en-US')} of ${returned.toLocaleString('en-US')} returned users`,
    noRelapseYet: 'No returned user has been watched for 30 days yet.',
    points: 'percentage points',
    funnel: {
      started: 'Started',
      holdout: 'Holdout',
      sentInApp: 'Sent in-app',
      sentPush: 'Sent push',
      sentSms: 'Sent SMS',
      returnedInApp: 'Returned after in-app',
      returnedPush: 'Returned after push',
      returnedSms: 'Returned after SMS',
      returnedWithoutMessage: 'Returned before a message',
      notReturned: 'Not returned',
      skipped: 'Skipped',
      failed: 'Failed',
      stillRunning: 'Still running',
      smsSkipped: 'SMS skipped, no uplift',
    },
    table: {
      strategy: 'Strategy',
      lifecycle: 'Lifecycle stage',
      recalled: 'Recalled: returned / matured',
      holdout: 'Holdout: returned / matured',
      uplift: 'Uplift (points)',
      item: 'Cost of all recalls in the window',
      count: 'Count',
      cost: 'Cost',
      sms: 'SMS messages',
      push: 'Push messages',
      inApp: 'In-app messages',
      transitions: 'Workflow state transitions',
      rewardsPaid: 'Rewards paid',
      total: 'Total',
    },
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
    experience_coupon: 'Experience coupon',
    trust_building: 'Trust building',
    conditional_reward: 'Conditional reward',
    care: 'Care',
    reinvite_after_improvement: 'Re-invite after improvement',
    good_news: 'Good news',
    marketing_activity: 'Marketing activity',
    preferred_product: 'Preferred product',
    reminder: 'Reminder',
    in_app: 'In-app',
    push: 'Push',
    sms: 'SMS',
    without_message: 'Before a message',
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
    recalls: '召回效果',
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
    recallFunnel: '召回漏斗',
    upliftByStrategy: '各策略的回访率提升及 95% 置信区间',
    upliftByLifecycle: '各生命周期的回访率提升及 95% 置信区间',
    relapseByStep: '按生效渠道的 30 天复流失率',
  },
  notes: {
    stage: '报告日各生命周期阶段在流失用户中的占比。',
    heatmap: '每格为 流失数 ÷ 用户数；颜色越深流失越严重。',
    curve: '每个点表示评分不低于该阈值即预警；菱形为当前策略。',
    login: '未登录天数超过阈值即预警；竖线为当前策略。',
    precision: '精确率：被预警用户中在观察期内流失的比例。召回率：流失用户中事先被预警的比例。',
    recallFunnel: '本时间段内发起的召回与对照组抽样；“已发”为发出该步骤的召回数；回访按生效的渠道计。',
    uplift: '圆点：召回组回访率减对照组回访率（百分点）；横线：95% 置信区间；整个区间高于 0 时为绿色。',
    relapse: '召回带回的用户中，30 天内再次不活跃或流失的比例。',
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
  recalls: {
    lede: (started, windowDays, min) =>
      `本时间段内共发起 ${started.toLocaleString('en-US')} 次召回（含对照组抽样）。提升 = 召回组回访率 − 对照组回访率，只计 ${windowDays} 天观察期已结束的样本（每组至少 ${min} 个）。`,
    none: '该时间段内暂无召回。',
    notEnoughData: '数据尚不足',
    samples: (recalled, holdout, min) =>
      `观察期已结束：召回组 ${recalled.toLocaleString('en-US')}，对照组 ${holdout.toLocaleString('en-US')}（每组需 ${min}）`,
    arms: (recalled, holdout) =>
      `召回 ${recalled.toLocaleString('en-US')} / 对照 ${holdout.toLocaleString('en-US')}`,
    uplift: '回访率提升（百分点）',
    ci95: '95% 置信区间',
    costPerIncrementalReturn: '每个增量回访的成本',
    costOfMatured: (yuan) => `已结束召回的成本 ${yuan}`,
    noPositiveUplift: '尚无可测得的正向提升',
    rewardRoi: '奖励回报：每 ¥1 奖励带来的投资',
    rewardsPaid: (yuan) => `已发放奖励 ${yuan}`,
    relapseRate: '30 天复流失率',
    relapsedOf: (relapsed, returned) =>
      `${returned.toLocaleString('en-US')} 名回访用户中 ${relapsed.toLocaleString('en-US')} 名`,
    noRelapseYet: '尚无回访用户满 30 天观察期。',
    points: '百分点',
    funnel: {
      started: '发起',
      holdout: '对照组',
      sentInApp: '已发站内信',
      sentPush: '已发推送',
      sentSms: '已发短信',
      returnedInApp: '站内信后回访',
      returnedPush: '推送后回访',
      returnedSms: '短信后回访',
      returnedWithoutMessage: '发送前已回访',
      notReturned: '未回访',
      skipped: '跳过',
      failed: '失败',
      stillRunning: '进行中',
      smsSkipped: '因无提升跳过短信',
    },
    table: {
      strategy: '策略',
      lifecycle: '生命周期',
      recalled: '召回组：回访 / 样本',
      holdout: '对照组：回访 / 样本',
      uplift: '提升（百分点）',
      item: '本时间段内全部召回的成本',
      count: '数量',
      cost: '成本',
      sms: '短信',
      push: '推送',
      inApp: '站内信',
      transitions: '工作流状态转换',
      rewardsPaid: '已发放奖励',
      total: '合计',
    },
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
    experience_coupon: '体验券',
    trust_building: '建立信任',
    conditional_reward: '条件奖励',
    care: '关怀',
    reinvite_after_improvement: '改进后再邀请',
    good_news: '好消息',
    marketing_activity: '营销活动',
    preferred_product: '偏好产品',
    reminder: '提醒',
    in_app: '站内信',
    push: '推送',
    sms: '短信',
    without_message: '发送前',
  },
};

export function reportWords(locale: ReportLocale): ReportWords {
  return locale === 'zh-CN' ? ZH : EN;
}

export function isReportLocale(value: string): value is ReportLocale {
  return (REPORT_LOCALES as readonly string[]).includes(value);
}
