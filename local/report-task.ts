import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbLakeRunner, loadQueries } from '../functions/adapters/lake-query.ts';
import type { OperatorNotifier } from '../functions/adapters/operator-notifier.ts';
import { renderReportPage } from '../functions/adapters/report-font.ts';
import { LocalReportStore } from '../functions/adapters/report-store.ts';
import type { Policy } from '../functions/domain/policy.ts';
import type { ReportLocale } from '../functions/domain/report-labels.ts';
import { writeDailyReport } from '../functions/use-cases/daily-report.ts';
import { REPORT_QUERIES, reportFromLake } from '../functions/use-cases/report.ts';
import { QUERY_DIR } from './commands/report.ts';
import type { LocalTask } from './workflow-engine.ts';

export interface LocalReportTaskOptions {
  /** The local lake root: `<data-dir>/lake` (reports land in `<lake>/reports/`, as in the bucket). */
  lakeDir: string;
  notifier: OperatorNotifier;
  policy: Policy;
  locale?: ReportLocale;
  horizonDays?: number;
}

/**
 * The embedded runtime's stand-in for the report Lambda: the same use case and the same .sql
 * files, on DuckDB over the local lake, the report written to the local lake's reports/ folder.
 * Mapped onto the DailyScan's "Write the daily report" task by its handler tag (`report`).
 */
export function localReportTask(options: LocalReportTaskOptions): LocalTask {
  return async (payload) => {
    const runner = new DuckDbLakeRunner(options.lakeDir, { materialize: true });
    try {
      return await writeDailyReport(payload as { asOf: string }, {
        runner,
        queries: loadQueries(QUERY_DIR, REPORT_QUERIES),
        store: new LocalReportStore(options.lakeDir),
        notifier: options.notifier,
        policy: options.policy,
        horizonDays: options.horizonDays ?? 30,
        render: (report) =>
          renderReportPage(report, {
            locale: options.locale ?? 'zh-CN',
            loginDaysOver: options.policy.warnings.loginDaysOver,
          }),
      });
    } finally {
      await runner.close();
    }
  };
}

/** What the runtime answers when no lake is wired for reports: the step passes, nothing is written. */
export const skippedReportTask: LocalTask = async () => ({
  day: null,
  html: null,
  json: null,
  skipped: true,
});

/**
 * `GET /reports/latest` for `winback serve`: the report the daily scan stored in the local lake,
 * or, before the first one, a report built now from the lake's history (DuckDB); undefined (404)
 * when there is no lake yet.
 */
export function lakeReports(lakeDir: string, policy: Policy): { latest(): Promise<string | undefined> } {
  const stored = new LocalReportStore(lakeDir);
  return {
    latest: async () => {
      const text = await stored.latest();
      if (text !== undefined || !existsSync(join(lakeDir, 'snapshots'))) return text;
      const runner = new DuckDbLakeRunner(lakeDir, { materialize: true });
      try {
        const report = await reportFromLake(runner, loadQueries(QUERY_DIR, REPORT_QUERIES), {
          horizonDays: 30,
          policy,
        });
        return `${JSON.stringify(report, null, 2)}\n`;
      } finally {
        await runner.close();
      }
    },
  };
}
