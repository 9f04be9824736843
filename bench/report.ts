import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport } from '../local/commands/report.ts';
import { writeSyntheticLake } from '../local/report-synthetic-lake.ts';

/**
 * `reportSeconds`: every report query (DuckDB, the embedded engine) over a lake of
 * REPORT_USERS (default 100,000) users × REPORT_DAYS (default 180) days, written directly in the
 * lake contract's format, plus building the JSON and the HTML page. Run alone: `npx tsx bench/report.ts`.
 * REPORT_LAKE=DIR reuses (or keeps) a lake instead of writing a temporary one.
 */
export interface ReportBench {
  reportUsers: number;
  reportDays: number;
  reportUserDays: number;
  reportLakeWriteSeconds: number;
  reportSeconds: number;
}

export async function reportBench(
  users = Number(process.env.REPORT_USERS ?? 100_000),
  days = Number(process.env.REPORT_DAYS ?? 180),
): Promise<ReportBench> {
  const kept = process.env.REPORT_LAKE;
  const root = kept ?? mkdtempSync(join(tmpdir(), 'winback-report-bench-'));
  const lakeDir = join(root, 'lake');
  try {
    let rows = 0;
    let writeMs = 0;
    if (!kept || !(await import('node:fs')).existsSync(join(lakeDir, 'snapshots'))) {
      const start = performance.now();
      let recalls: number;
      ({ rows, recalls } = await writeSyntheticLake({
        root: lakeDir,
        users,
        days,
        start: '2026-05-01',
        feedback: 5_000,
      }));
      writeMs = performance.now() - start;
      console.log(
        `report lake:    ${rows.toLocaleString('en-US')} snapshot rows and ${recalls.toLocaleString('en-US')} recall draws written in ${(writeMs / 1000).toFixed(1)} s`,
      );
    }
    const start = performance.now();
    const { report } = await writeReport({
      lakeDir,
      out: [join(root, 'report.json'), join(root, 'report.html')],
      locale: 'zh-CN',
    });
    const reportSeconds = (performance.now() - start) / 1000;
    const userDays = report.churnStructure.trend.reduce((s, d) => s + d.users, 0);
    console.log(
      `reportSeconds:  ${reportSeconds.toFixed(1)} s for every report query over ${userDays.toLocaleString('en-US')} user-days (${users.toLocaleString('en-US')} users × ${days} days), JSON and HTML`,
    );
    return {
      reportUsers: users,
      reportDays: days,
      reportUserDays: userDays,
      reportLakeWriteSeconds: Number((writeMs / 1000).toFixed(1)),
      reportSeconds: Number(reportSeconds.toFixed(1)),
    };
  } finally {
    if (!kept) rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await reportBench();
