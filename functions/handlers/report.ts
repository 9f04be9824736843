import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import middy from '@middy/core';
import { athenaClient, s3Client, snsClient } from '../adapters/clients.ts';
import { ENV, policyFromEnv, requireEnv } from '../adapters/environment.ts';
import { AthenaLakeRunner, loadQueries } from '../adapters/lake-query.ts';
import { createLogger } from '../adapters/logger.ts';
import { SnsOperatorNotifier } from '../adapters/operator-notifier.ts';
import { renderReportPage } from '../adapters/report-font.ts';
import { REPORT_ENV, S3ReportStore } from '../adapters/report-store.ts';
import { isReportLocale } from '../domain/report-labels.ts';
import { type DailyReportDeps, type DailyReportResult, writeDailyReport } from '../use-cases/daily-report.ts';
import { REPORT_QUERIES } from '../use-cases/report.ts';

export interface ReportEvent {
  asOf: string;
}

/** The .sql files: copied next to the bundle in Lambda, the repo's queries/ otherwise. */
export function queryDir(): string {
  const bundled = join(process.env.LAMBDA_TASK_ROOT ?? '/nonexistent', 'queries');
  if (existsSync(bundled)) return bundled;
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'queries');
}

const logger = createLogger('winback-report');
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

/** After the daily summary: runs the report queries on Athena and writes the day's report to the lake bucket. */
export const handler = middy<ReportEvent, DailyReportResult>().handler(async (event) => {
  deps ??= depsFromEnv(process.env);
  const result = await writeDailyReport(event, deps);
  logger.info('daily report written', { day: result.day, html: result.html });
  return result;
});
