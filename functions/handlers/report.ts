import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { athenaClient, s3Client, snsClient } from '../adapters/clients.ts';
import { ENV, policyFromEnv, requireEnv } from '../adapters/environment.ts';
import { AthenaLakeRunner, loadQueries } from '../adapters/lake-query.ts';
import { SnsOperatorNotifier } from '../adapters/operator-notifier.ts';
import { renderReportPage } from '../adapters/report-font.ts';
import { REPORT_ENV, S3ReportStore } from '../adapters/report-store.ts';
import { upliftMetrics } from '../domain/metrics.ts';
import { isReportLocale } from '../domain/report-labels.ts';
import { type DailyReportDeps, type DailyReportResult, writeDailyReport } from '../use-cases/daily-report.ts';
import { REPORT_QUERIES } from '../use-cases/report.ts';
import { observed, powertools, publish } from './powertools.ts';

export interface ReportEvent {
  asOf: string;
}

/** The .sql files: copied next to the bundle in Lambda, the repo's queries/ otherwise. */
export function queryDir(): string {
  const bundled = join(process.env.LAMBDA_TASK_ROOT ?? '/nonexistent', 'queries');
  if (existsSync(bundled)) return bundled;
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'queries');
}

const tools = powertools('winback-report');
let deps: DailyReportDeps | undefined;

function depsFromEnv(env: NodeJS.ProcessEnv): DailyReportDeps {
  const policy = policyFromEnv(env);
  const locale = env[REPORT_ENV.locale] || 'zh-CN';
  if (!isReportLocale(locale))
    throw new RangeError(`${REPORT_ENV.locale} must be zh-CN or en, got "${locale}"`);
  return {
    runner: new AthenaLakeRunner(
      athenaClient(),
      requireEnv(env, REPORT_ENV.workgroup),
      requireEnv(env, REPORT_ENV.database),
    ),
    queries: loadQueries(queryDir(), REPORT_QUERIES),
    store: new S3ReportStore(s3Client(), requireEnv(env, REPORT_ENV.lakeBucket)),
    notifier: new SnsOperatorNotifier(snsClient(), requireEnv(env, ENV.operatorTopicArn)),
    policy,
    horizonDays: Number(env[REPORT_ENV.horizonDays] || 30),
    render: (report) => renderReportPage(report, { locale, loginDaysOver: policy.warnings.loginDaysOver }),
  };
}

/**
 * After the daily summary: runs the report queries on Athena, writes the day's report to the lake
 * bucket, and publishes the uplift by strategy (the return-rate-drop alarm watches it).
 */
export const handler = observed<ReportEvent, DailyReportResult>(tools).handler(async (event) => {
  deps ??= depsFromEnv(process.env);
  const result = await writeDailyReport(event, deps);
  publish(tools.metrics, upliftMetrics(result.upliftByStrategy));
  tools.logger.info('daily report written', { day: result.day, html: result.html });
  return result;
});
