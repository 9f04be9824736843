import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDbLakeRunner, loadQueries } from '../../functions/adapters/lake-query.ts';
import { renderReportPage } from '../../functions/adapters/report-font.ts';
import { type Policy, parsePolicy } from '../../functions/domain/policy.ts';
import type { Report } from '../../functions/domain/report.ts';
import type { ReportLocale } from '../../functions/domain/report-labels.ts';
import { REPORT_QUERIES, reportFromLake } from '../../functions/use-cases/report.ts';

export const QUERY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'queries');

export class NoLakeError extends Error {
  override readonly name = 'NoLakeError';
}

export interface WriteReportOptions {
  /** The lake root (`<data-dir>/lake`), holding snapshots/ and feedback/. */
  lakeDir: string;
  /** Where to write: `.html` for the page, `.json` for the data; several paths write each. */
  out: string | string[];
  from?: string;
  to?: string;
  /** Backtest horizon in days (default 30). */
  horizon?: number;
  locale?: ReportLocale;
  policy?: Policy;
}

/** The lake of a data dir, or a clear error when there is none yet. */
export function lakeOf(dataDir: string): string {
  const lakeDir = join(dataDir, 'lake');
  if (!existsSync(join(lakeDir, 'snapshots')))
    throw new NoLakeError(
      `no lake in ${dataDir}: expected ${join(lakeDir, 'snapshots')}/day=YYYY-MM-DD/*.jsonl.gz ` +
        '(run "winback demo --data-dir DIR" or "winback backfill … --data-dir DIR" first)',
    );
  return lakeDir;
}

/** Runs every report query on DuckDB over the lake and writes the report as HTML and/or JSON. */
export async function writeReport(options: WriteReportOptions): Promise<{ report: Report; files: string[] }> {
  const outs = Array.isArray(options.out) ? options.out : [options.out];
  for (const out of outs)
    if (!/\.(html|json)$/i.test(out)) throw new RangeError(`--out must end in .html or .json, got "${out}"`);
  const policy = options.policy ?? parsePolicy({});
  const runner = new DuckDbLakeRunner(options.lakeDir, { materialize: true });
  let report: Report;
  try {
    report = await reportFromLake(runner, loadQueries(QUERY_DIR, REPORT_QUERIES), {
      from: options.from,
      to: options.to,
      horizonDays: options.horizon ?? 30,
      policy,
    });
  } finally {
    await runner.close();
  }
  for (const out of outs) {
    await mkdir(dirname(resolve(out)), { recursive: true });
    const body = /\.json$/i.test(out)
      ? `${JSON.stringify(report, null, 2)}\n`
      : renderReportPage(report, {
          locale: options.locale ?? 'zh-CN',
          loginDaysOver: policy.warnings.loginDaysOver,
        });
    await writeFile(out, body);
  }
  return { report, files: outs.map((o) => resolve(o)) };
}
