/**
 * Build the insight report from the lake.
 * 1. Find the first and last scan day in the lake; the window defaults to all of it.
 * 2. Read the status trend over the window; its last day is the report day (asOfDay).
 * 3. Run the structure, portrait, backtest, feedback and recall queries (independent, so together).
 * 4. Fold the rows into the report (pure, functions/domain/report.ts).
 */
import type { Policy } from '../domain/policy.ts';
import {
  buildReport,
  dayNumberOf,
  dayOfNumber,
  type Report,
  type ReportRows,
  type Row,
} from '../domain/report.ts';

export const REPORT_QUERIES = [
  'history-bounds',
  'trend',
  'churn-structure',
  'cohorts',
  'portrait',
  'portrait-channels',
  'backtest-cells',
  'backtest-reasons',
  'feedback-reasons',
  'feedback-issues',
  'recall-draws',
] as const;
export type ReportQueryName = (typeof REPORT_QUERIES)[number];
export type ReportQueries = Readonly<Record<ReportQueryName, string>>;

/** What the use case needs of a query runner (functions/adapters/lake-query.ts). */
export interface QueryRunner {
  run(sql: string, params?: Readonly<Record<string, number | string>>): Promise<Row[]>;
}

export interface ReportRequest {
  /** `YYYY-MM-DD`; default: the first scan day in the lake. */
  from?: string;
  /** `YYYY-MM-DD`; default: the last scan day in the lake. */
  to?: string;
  horizonDays: number;
  policy: Policy;
}

export class ReportRequestError extends Error {
  override readonly name = 'ReportRequestError';
}

export async function reportFromLake(
  runner: QueryRunner,
  queries: ReportQueries,
  request: ReportRequest,
): Promise<Report> {
  const { horizonDays } = request;
  if (!Number.isInteger(horizonDays) || horizonDays < 1 || horizonDays > 365)
    throw new ReportRequestError(`horizon must be a whole number of days from 1 to 365, got ${horizonDays}`);

  const [bounds] = await runner.run(queries['history-bounds']);
  const first = typeof bounds?.first_day_number === 'number' ? bounds.first_day_number : null;
  const last = typeof bounds?.last_day_number === 'number' ? bounds.last_day_number : null;
  const today = last ?? first ?? 0;
  const fromDay = request.from ? dayNumberOf(request.from) : (first ?? today);
  const toDay = request.to ? dayNumberOf(request.to) : (last ?? today);
  if (fromDay > toDay)
    throw new ReportRequestError(`--from ${dayOfNumber(fromDay)} is after --to ${dayOfNumber(toDay)}`);

  // Each query bounds both the day number and the `day` text: Athena prunes partitions on the latter.
  const trend = await runner.run(queries.trend, {
    from_day: fromDay,
    to_day: toDay,
    from_date: dayOfNumber(fromDay),
    to_date: dayOfNumber(toDay),
  });
  const asOf = trend.at(-1)?.day_number;
  const asOfDay = typeof asOf === 'number' ? asOf : toDay;
  // A day D is judged only when D + horizon is still in the history.
  const lastJudged = last === null ? null : Math.min(toDay, last - horizonDays);
  const judged = lastJudged !== null && lastJudged >= fromDay ? lastJudged : null;

  const day = { as_of_day: asOfDay, as_of_date: dayOfNumber(asOfDay) };
  const portraitParams = {
    ...day,
    trust_line_fen: request.policy.warnings.trustLineFen,
    low_balance_under_fen: request.policy.warnings.lowBalanceUnderFen,
  };
  const lastJudgedDay = judged ?? fromDay - 1;
  const btParams = {
    from_day: fromDay,
    last_judged_day: lastJudgedDay,
    horizon_days: horizonDays,
    from_date: dayOfNumber(fromDay),
    horizon_end_date: dayOfNumber(lastJudgedDay + horizonDays),
  };
  const none = async (): Promise<Row[]> => [];
  const drawParams = {
    from_date: dayOfNumber(fromDay),
    to_date: dayOfNumber(toDay),
    login_days_over: request.policy.warnings.loginDaysOver,
    last_day_number: last ?? toDay,
  };
  const [structure, cohorts, portrait, channels, cells, reasons, fbReasons, fbIssues, draws] =
    await Promise.all([
      runner.run(queries['churn-structure'], day),
      runner.run(queries.cohorts, day),
      runner.run(queries.portrait, portraitParams),
      runner.run(queries['portrait-channels'], day),
      judged === null ? none() : runner.run(queries['backtest-cells'], btParams),
      judged === null ? none() : runner.run(queries['backtest-reasons'], btParams),
      runner.run(queries['feedback-reasons']),
      runner.run(queries['feedback-issues']),
      runner.run(queries['recall-draws'], drawParams),
    ]);
  const rows: ReportRows = {
    trend,
    'churn-structure': structure,
    cohorts,
    portrait,
    'portrait-channels': channels,
    'backtest-cells': cells,
    'backtest-reasons': reasons,
    'feedback-reasons': fbReasons,
    'feedback-issues': fbIssues,
    'recall-draws': draws,
  };
  return buildReport(rows, {
    from: dayOfNumber(fromDay),
    to: dayOfNumber(toDay),
    horizonDays,
    lastJudgedDay: judged === null ? null : dayOfNumber(judged),
    lastLakeDay: last === null ? null : dayOfNumber(last),
    policy: request.policy,
  });
}
