/**
 * The insight report, built from the rows of the report queries (queries/*.sql). Pure: the queries
 * return counts, this module turns them into rates, shares and the backtest's figures, so both
 * engines (DuckDB locally, Athena on AWS) produce the same report from the same counts.
 * Every ratio with a zero denominator is `null`, never NaN.
 */
import { type RecallDrawRow, type RecallsSection, recallsSection } from './effectiveness.ts';
import { DEFAULT_POLICY, type Policy } from './policy.ts';

/** One result row as a query runner returns it (numbers already numbers). */
export type Row = Readonly<Record<string, unknown>>;

export class ReportRowError extends Error {
  override readonly name = 'ReportRowError';
}

// The lake's day numbers, one implementation (snapshot.ts), under the names the report has used.
export { dayNumber as dayNumberOf, dayOfNumber } from './snapshot.ts';

function num(row: Row, key: string, query: string): number {
  const value = row[key];
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ReportRowError(`${query}: column ${key} should be a number, got ${JSON.stringify(value)}`);
  return value;
}

function numOrNull(row: Row, key: string, query: string): number | null {
  return row[key] === null || row[key] === undefined ? null : num(row, key, query);
}

function str(row: Row, key: string, query: string): string {
  const value = row[key];
  if (typeof value !== 'string')
    throw new ReportRowError(`${query}: column ${key} should be text, got ${JSON.stringify(value)}`);
  return value;
}

/** `null` (unknown) when a key column is null: a lake row without a channel still counts. */
function label(row: Row, key: string, query: string): string {
  return row[key] === null ? 'unknown' : str(row, key, query);
}

export function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

// --- Report shape --------------------------------------------------------------------------------

export interface ChurnRow {
  users: number;
  churned: number;
  churnRate: number | null;
  shareOfChurned: number | null;
}
export type StageRow = { stage: string } & ChurnRow;
export type ChannelRow = { channel: string } & ChurnRow;
export type StageChannelRow = { stage: string; channel: string } & ChurnRow;
export type CohortRow = { month: string } & ChurnRow;

export interface TrendRow {
  day: string;
  users: number;
  active: number;
  atRisk: number;
  churned: number;
}

export interface PortraitGroup {
  users: number;
  atMostTwoInvestmentsShare: number | null;
  smallNoBonusShare: number | null;
  lowBalanceShare: number | null;
  medianMaxInvestFen: number | null;
  channelMix: { channel: string; users: number; share: number | null }[];
}

export interface BacktestOverall {
  userDays: number;
  positives: number;
  flagged: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  precision: number | null;
  recall: number | null;
  lift: number | null;
  accuracy: number | null;
}

export interface Backtest {
  horizonDays: number;
  daysEvaluated: number;
  /** First and last judged day D (null when none). */
  firstJudgedDay: string | null;
  lastJudgedDay: string | null;
  /** Why nothing was judged, when `daysEvaluated` is 0. */
  message?: string;
  overall: BacktestOverall;
  byLevel: {
    level: 'high' | 'medium' | 'low';
    flagged: number;
    truePositives: number;
    precision: number | null;
  }[];
  byReason: {
    reason: string;
    flagged: number;
    truePositives: number;
    precision: number | null;
    recall: number | null;
  }[];
  curve: {
    scoreAtLeast: number;
    flaggedShare: number | null;
    precision: number | null;
    recall: number | null;
  }[];
  loginThresholds: {
    days: number;
    precision: number | null;
    recall: number | null;
    flaggedShare: number | null;
  }[];
}

export interface FeedbackTally {
  answers: number;
  reasons: { reason: string; answers: number }[];
  issues: { issue: string; answers: number }[];
}

export interface Report {
  from: string;
  to: string;
  /** Latest scan day in the window; null when the window holds no scan day. */
  asOfDay: string | null;
  headline: {
    users: number;
    churned: number;
    atRisk: number;
    precision: number | null;
    recall: number | null;
  };
  churnStructure: {
    users: number;
    churned: number;
    churnRate: number | null;
    byStage: StageRow[];
    byChannel: ChannelRow[];
    byStageAndChannel: StageChannelRow[];
    byCohortMonth: CohortRow[];
    trend: TrendRow[];
  };
  portrait: { churned: PortraitGroup; active: PortraitGroup };
  backtest: Backtest;
  feedback: FeedbackTally;
  /** What the recalls did: funnel, uplift against the holdout, cost, relapse (functions/domain/effectiveness.ts). */
  recalls: RecallsSection;
  notes: string[];
}

/** The rows of each query, by query file name (without `.sql`). */
export interface ReportRows {
  trend: Row[];
  'churn-structure': Row[];
  cohorts: Row[];
  portrait: Row[];
  'portrait-channels': Row[];
  'backtest-cells': Row[];
  'backtest-reasons': Row[];
  'feedback-reasons': Row[];
  'feedback-issues': Row[];
  /** Absent where the lake has no `recalls` table yet: the section is then empty. */
  'recall-draws'?: Row[];
}

export interface ReportWindow {
  from: string;
  to: string;
  horizonDays: number;
  /** Last day D whose D + horizon is still in the history; null when the history is too short. */
  lastJudgedDay: string | null;
  /** Last scan day in the whole lake (null for an empty lake). */
  lastLakeDay: string | null;
  /** The policy the recalls ran under: escalation window, minimum sample, unit prices. Default: the defaults. */
  policy?: Policy;
}

/** Score thresholds of the precision/recall curve. */
export const CURVE_THRESHOLDS: readonly number[] = Array.from({ length: 21 }, (_, i) => i * 5);
/** Login-inactivity thresholds an operator can pick from: flagged when daysSinceLogin > T. */
export const LOGIN_THRESHOLDS: readonly number[] = Array.from({ length: 24 }, (_, i) => i + 7);
const LEVELS = ['high', 'medium', 'low'] as const;

// --- Builders ------------------------------------------------------------------------------------

interface Cell {
  key: string;
  users: number;
  churned: number;
}

function churnRows(cells: Map<string, Cell>, totalChurned: number): (Cell & ChurnRow)[] {
  return [...cells.values()].map((c) => ({
    ...c,
    churnRate: ratio(c.churned, c.users),
    shareOfChurned: ratio(c.churned, totalChurned),
  }));
}

function add(cells: Map<string, Cell>, key: string, users: number, churned: number): void {
  const cell = cells.get(key) ?? { key, users: 0, churned: 0 };
  cell.users += users;
  cell.churned += churned;
  cells.set(key, cell);
}

function churnStructure(rows: ReportRows): Report['churnStructure'] {
  const q = 'churn-structure';
  const byStage = new Map<string, Cell>();
  const byChannel = new Map<string, Cell>();
  const fine: { stage: string; channel: string; users: number; churned: number }[] = [];
  let users = 0;
  let churned = 0;
  for (const row of rows[q]) {
    const stage = label(row, 'stage', q);
    const channel = label(row, 'channel', q);
    const u = num(row, 'users', q);
    const c = num(row, 'churned', q);
    users += u;
    churned += c;
    add(byStage, stage, u, c);
    add(byChannel, channel, u, c);
    fine.push({ stage, channel, users: u, churned: c });
  }
  const cohorts = new Map<string, Cell>();
  for (const row of rows.cohorts)
    add(
      cohorts,
      label(row, 'month', 'cohorts'),
      num(row, 'users', 'cohorts'),
      num(row, 'churned', 'cohorts'),
    );

  const trend = rows.trend.map((row) => ({
    day: str(row, 'day', 'trend'),
    users: num(row, 'users', 'trend'),
    active: num(row, 'active', 'trend'),
    atRisk: num(row, 'at_risk', 'trend'),
    churned: num(row, 'churned', 'trend'),
  }));

  return {
    users,
    churned,
    churnRate: ratio(churned, users),
    byStage: churnRows(byStage, churned).map(({ key, ...r }) => ({ stage: key, ...r })),
    byChannel: churnRows(byChannel, churned).map(({ key, ...r }) => ({ channel: key, ...r })),
    byStageAndChannel: fine.map((f) => ({
      ...f,
      churnRate: ratio(f.churned, f.users),
      shareOfChurned: ratio(f.churned, churned),
    })),
    byCohortMonth: churnRows(cohorts, churned)
      .map(({ key, ...r }) => ({ month: key, ...r }))
      .sort((a, b) => a.month.localeCompare(b.month)),
    trend,
  };
}

function portraitGroup(rows: ReportRows, status: 'churned' | 'active'): PortraitGroup {
  const q = 'portrait';
  const row = rows.portrait.find((r) => r.status === status);
  const users = row ? num(row, 'users', q) : 0;
  const mix = rows['portrait-channels'].filter((r) => r.status === status);
  return {
    users,
    atMostTwoInvestmentsShare: row ? ratio(num(row, 'at_most_two_investments', q), users) : null,
    smallNoBonusShare: row ? ratio(num(row, 'small_no_bonus', q), users) : null,
    lowBalanceShare: row ? ratio(num(row, 'low_balance', q), users) : null,
    medianMaxInvestFen: row ? numOrNull(row, 'median_max_invest_fen', q) : null,
    channelMix: mix.map((r) => {
      const n = num(r, 'users', 'portrait-channels');
      return { channel: label(r, 'channel', 'portrait-channels'), users: n, share: ratio(n, users) };
    }),
  };
}

interface JudgedCell {
  flagged: boolean;
  level: string;
  score: number;
  daysSinceLogin: number;
  userDays: number;
  positives: number;
}

/** Precision and recall of "flag when `pick`" over the judged cells. */
function rule(
  cells: JudgedCell[],
  pick: (c: JudgedCell) => boolean,
  userDays: number,
  positives: number,
): {
  flagged: number;
  truePositives: number;
  flaggedShare: number | null;
  precision: number | null;
  recall: number | null;
} {
  let flagged = 0;
  let truePositives = 0;
  for (const c of cells) {
    if (!pick(c)) continue;
    flagged += c.userDays;
    truePositives += c.positives;
  }
  return {
    flagged,
    truePositives,
    flaggedShare: ratio(flagged, userDays),
    precision: ratio(truePositives, flagged),
    recall: ratio(truePositives, positives),
  };
}

function backtest(rows: ReportRows, window: ReportWindow, trend: TrendRow[]): Backtest {
  const q = 'backtest-cells';
  const cells: JudgedCell[] = rows[q].map((row) => ({
    flagged: str(row, 'status', q) === 'at_risk',
    level: label(row, 'level', q),
    score: num(row, 'score', q),
    daysSinceLogin: num(row, 'days_since_login', q),
    userDays: num(row, 'user_days', q),
    positives: num(row, 'positives', q),
  }));
  const userDays = cells.reduce((s, c) => s + c.userDays, 0);
  const positives = cells.reduce((s, c) => s + c.positives, 0);
  const warned = rule(cells, (c) => c.flagged, userDays, positives);
  const tp = warned.truePositives;
  const fp = warned.flagged - tp;
  const fn = positives - tp;
  const tn = userDays - tp - fp - fn;
  const baseRate = ratio(positives, userDays);

  const judgedDays =
    window.lastJudgedDay === null
      ? []
      : trend.filter((t) => t.day >= window.from && t.day <= (window.lastJudgedDay as string));
  const daysEvaluated = judgedDays.length;

  const r = 'backtest-reasons';
  const result: Backtest = {
    horizonDays: window.horizonDays,
    daysEvaluated,
    firstJudgedDay: judgedDays[0]?.day ?? null,
    lastJudgedDay: judgedDays.at(-1)?.day ?? null,
    overall: {
      userDays,
      positives,
      flagged: warned.flagged,
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: fn,
      trueNegatives: tn,
      precision: warned.precision,
      recall: warned.recall,
      lift: warned.precision === null || !baseRate ? null : warned.precision / baseRate,
      accuracy: ratio(tp + tn, userDays),
    },
    byLevel: LEVELS.map((level) => {
      const x = rule(cells, (c) => c.flagged && c.level === level, userDays, positives);
      return { level, flagged: x.flagged, truePositives: x.truePositives, precision: x.precision };
    }),
    byReason: rows[r].map((row) => {
      const flagged = num(row, 'flagged', r);
      const truePositives = num(row, 'true_positives', r);
      return {
        reason: label(row, 'reason', r),
        flagged,
        truePositives,
        precision: ratio(truePositives, flagged),
        recall: ratio(truePositives, positives),
      };
    }),
    curve: CURVE_THRESHOLDS.map((t) => {
      const x = rule(cells, (c) => c.score >= t, userDays, positives);
      return { scoreAtLeast: t, flaggedShare: x.flaggedShare, precision: x.precision, recall: x.recall };
    }),
    loginThresholds: LOGIN_THRESHOLDS.map((t) => {
      const x = rule(cells, (c) => c.daysSinceLogin > t, userDays, positives);
      return { days: t, precision: x.precision, recall: x.recall, flaggedShare: x.flaggedShare };
    }),
  };
  if (daysEvaluated === 0) {
    result.message =
      window.lastLakeDay === null
        ? 'The lake holds no scan day yet: nothing to judge the warning against.'
        : `Too little history to judge the warning: a day is judged only when the ${window.horizonDays} days after it are in the lake (last scan day ${window.lastLakeDay}).`;
  }
  return result;
}

function feedback(rows: ReportRows): FeedbackTally {
  const reasons = rows['feedback-reasons'].map((row) => ({
    reason: label(row, 'reason', 'feedback-reasons'),
    answers: num(row, 'answers', 'feedback-reasons'),
  }));
  return {
    answers: reasons.reduce((s, r) => s + r.answers, 0),
    reasons,
    issues: rows['feedback-issues'].map((row) => ({
      issue: label(row, 'issue', 'feedback-issues'),
      answers: num(row, 'answers', 'feedback-issues'),
    })),
  };
}

/** The whole report from the query rows. `rows.trend` covers the window; its last day is `asOfDay`. */
export function buildReport(rows: ReportRows, window: ReportWindow): Report {
  const structure = churnStructure(rows);
  const asOf = structure.trend.at(-1);
  const bt = backtest(rows, window, structure.trend);
  const notes: string[] = [];
  if (!asOf) notes.push(`No scan day between ${window.from} and ${window.to}.`);
  if (bt.message) notes.push(bt.message);
  return {
    from: window.from,
    to: window.to,
    asOfDay: asOf?.day ?? null,
    headline: {
      users: asOf?.users ?? 0,
      churned: asOf?.churned ?? 0,
      atRisk: asOf?.atRisk ?? 0,
      precision: bt.overall.precision,
      recall: bt.overall.recall,
    },
    churnStructure: structure,
    portrait: { churned: portraitGroup(rows, 'churned'), active: portraitGroup(rows, 'active') },
    backtest: bt,
    feedback: feedback(rows),
    recalls: recallsSection(
      recallDrawRows(rows['recall-draws'] ?? []),
      window.policy ?? DEFAULT_POLICY,
      asOf?.day ?? window.to,
    ),
    notes,
  };
}

function boolOrNull(row: Row, key: string, query: string): boolean | null {
  const value = row[key];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'boolean')
    throw new ReportRowError(`${query}: column ${key} should be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function textOrNull(row: Row, key: string, query: string): string | null {
  return row[key] === null || row[key] === undefined ? null : str(row, key, query);
}

const TRIGGERS = new Set(['scan', 'manual', 'segment']);
const CHANNELS = new Set(['in_app', 'push', 'sms']);
const OUTCOMES = new Set(['returned', 'not_returned', 'skipped', 'failed']);

/** The rows of queries/recall-draws.sql, checked: a malformed row names its recall and column. */
export function recallDrawRows(rows: readonly Row[]): RecallDrawRow[] {
  return rows.map((row) => {
    const q = `recall-draws (recall ${String(row.recall_id)})`;
    const trigger = str(row, 'recall_trigger', q);
    if (!TRIGGERS.has(trigger)) throw new ReportRowError(`${q}: unknown trigger "${trigger}"`);
    const outcome = textOrNull(row, 'outcome', q);
    if (outcome !== null && !OUTCOMES.has(outcome))
      throw new ReportRowError(`${q}: unknown outcome "${outcome}"`);
    const winningStep = textOrNull(row, 'winning_step', q);
    if (winningStep !== null && !CHANNELS.has(winningStep))
      throw new ReportRowError(`${q}: unknown winning step "${winningStep}"`);
    return {
      recallId: str(row, 'recall_id', q),
      trigger: trigger as RecallDrawRow['trigger'],
      holdout: boolOrNull(row, 'holdout', q) === true,
      startedDayNumber: num(row, 'started_day_number', q),
      closedDayNumber: numOrNull(row, 'closed_day_number', q),
      outcome: outcome as RecallDrawRow['outcome'],
      winningStep: winningStep as RecallDrawRow['winningStep'],
      level: label(row, 'level', q),
      lifecycle: label(row, 'lifecycle', q),
      channel: label(row, 'channel', q),
      strategy: row.strategy === null ? 'reminder' : str(row, 'strategy', q),
      smsCount: numOrNull(row, 'sms_count', q) ?? 0,
      pushCount: numOrNull(row, 'push_count', q) ?? 0,
      inAppCount: numOrNull(row, 'in_app_count', q) ?? 0,
      smsDayNumber: numOrNull(row, 'sms_day_number', q),
      smsSkipped: boolOrNull(row, 'sms_skipped', q) === true,
      rewardFen: numOrNull(row, 'reward_fen', q) ?? 0,
      rewardUnlocked: boolOrNull(row, 'reward_unlocked', q) === true,
      reinvestedFen: numOrNull(row, 'reinvested_fen', q) ?? 0,
      returnDayNumber: numOrNull(row, 'return_day_number', q),
      relapsedWithin30Days: boolOrNull(row, 'relapsed_within_30_days', q),
    };
  });
}
