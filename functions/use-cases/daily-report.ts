/**
 * Write the day's report after the daily scan.
 * 1. Build the report from the lake (the same .sql files on Athena or DuckDB).
 * 2. Render the HTML page.
 * 3. Store report.html and report.json for the report day, then latest.json.
 * 4. Tell operators where it is (the digest's follow-up: the digest goes out before the report).
 */
import type { OperatorNotifier } from '../adapters/operator-notifier.ts';
import type { ReportStore, StoredReport } from '../adapters/report-store.ts';
import { formatUplift, type UpliftRow } from '../domain/effectiveness.ts';
import type { Policy } from '../domain/policy.ts';
import { dayOfNumber, type Report } from '../domain/report.ts';
import { type QueryRunner, type ReportQueries, reportFromLake } from './report.ts';

export interface DailyReportDeps {
  runner: QueryRunner;
  queries: ReportQueries;
  store: ReportStore;
  notifier: OperatorNotifier;
  policy: Policy;
  horizonDays: number;
  render: (report: Report) => string;
}

export interface DailyReportResult extends StoredReport {
  users: number;
  churned: number;
  atRisk: number;
  precision: number | null;
  recall: number | null;
  daysEvaluated: number;
  /** Recalls that closed with the user back on the day before the report day. */
  returnedYesterday: number;
  upliftPoints: number | null;
  upliftCi95: { low: number; high: number } | null;
  /** For the return-rate-drop alarm (metrics.ts upliftMetrics). */
  upliftByStrategy: UpliftRow[];
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);

export async function writeDailyReport(
  input: { asOf: string },
  deps: DailyReportDeps,
): Promise<DailyReportResult> {
  const report = await reportFromLake(deps.runner, deps.queries, {
    horizonDays: deps.horizonDays,
    policy: deps.policy,
  });
  const day = report.asOfDay ?? input.asOf.slice(0, 10);
  const stored = await deps.store.put(day, deps.render(report), `${JSON.stringify(report, null, 2)}\n`);
  const h = report.headline;
  const r = report.recalls;
  const yuan = (fen: number | null) => (fen === null ? 'n/a' : `¥${(fen / 100).toFixed(2)}`);
  await deps.notifier.notify({
    kind: 'daily_report',
    subject: `daily report ${day}`,
    message: [
      `winback daily report, as of ${day}: ${h.users} users, ${h.churned} churned, ${h.atRisk} at risk.`,
      `Warning over the last ${report.backtest.daysEvaluated} judged days (horizon ${report.backtest.horizonDays}): precision ${pct(h.precision)}, recall ${pct(h.recall)}.`,
      `Recalls: ${r.yesterday.returned} users came back on ${dayOfNumber(r.yesterday.dayNumber)}; ${r.funnel.stillRunning} recalls still running.`,
      `Recall ${formatUplift(r.uplift, r.uplift.minSamplePerArm)}, over windows of ${r.uplift.windowDays} days that have ended.`,
      `Cost per incremental return: ${yuan(r.costPerIncrementalReturnFen)}.`,
      `Report: ${stored.html}`,
      `Data:   ${stored.json} (also ${stored.latest}, and GET /reports/latest)`,
    ].join('\n'),
  });
  return {
    ...stored,
    users: h.users,
    churned: h.churned,
    atRisk: h.atRisk,
    precision: h.precision,
    recall: h.recall,
    daysEvaluated: report.backtest.daysEvaluated,
    returnedYesterday: r.yesterday.returned,
    upliftPoints: r.uplift.upliftPoints,
    upliftCi95: r.uplift.ci95,
    upliftByStrategy: r.uplift.byStrategy,
  };
}
