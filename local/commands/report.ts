import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDbLakeRunner, loadQueries } from '../../functions/adapters/lake-query.ts';
import { renderReportPage } from '../../functions/adapters/report-font.ts';
import { type Policy, parsePolicy } from '../../functions/domain/policy.ts';
import type { Report } from '../../functions/domain/report.ts';
import { isReportLocale, type ReportLocale } from '../../functions/domain/report-labels.ts';
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

export interface ReportCommand {
  dataDir: string;
  out?: string;
  from?: string;
  to?: string;
  horizon?: string;
  locale?: string;
  policy?: Policy;
  stdout: NodeJS.WritableStream;
  /** Builds the CLI's usage error (exit 2) for a bad flag. */
  usage: (message: string) => Error;
}

/** `winback report`: checks the flags, writes the file, prints where it is. */
export async function runReportCommand(cmd: ReportCommand): Promise<number> {
  if (!cmd.out) throw cmd.usage('report needs --out FILE (.html for the page, .json for the data)');
  if (!/\.(html|json)$/i.test(cmd.out)) throw cmd.usage(`--out must end in .html or .json, got "${cmd.out}"`);
  for (const [flag, value] of [
    ['from', cmd.from],
    ['to', cmd.to],
  ] as const) {
    if (value !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(value))
      throw cmd.usage(`--${flag} must be YYYY-MM-DD, got "${value}"`);
  }
  const horizon = cmd.horizon === undefined ? 30 : Number(cmd.horizon);
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > 365)
    throw cmd.usage(`--horizon must be a whole number of days from 1 to 365, got "${cmd.horizon}"`);
  const locale = cmd.locale ?? 'zh-CN';
  if (!isReportLocale(locale)) throw cmd.usage(`--locale must be zh-CN or en, got "${locale}"`);
  const lakeDir = lakeOf(cmd.dataDir);
  const { report, files } = await writeReport({
    lakeDir,
    out: cmd.out,
    from: cmd.from,
    to: cmd.to,
    horizon,
    locale,
    policy: cmd.policy,
  });
  const h = report.headline;
  cmd.stdout.write(
    `report as of ${report.asOfDay ?? '(no scan day)'}: ${h.users} users, ${h.churned} churned, ${h.atRisk} at risk; ` +
      `backtest over ${report.backtest.daysEvaluated} days\n${pathToFileURL(files[0]!).href}\n`,
  );
  return 0;
}
