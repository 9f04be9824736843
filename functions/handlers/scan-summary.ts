import { s3Client, snsClient } from '../adapters/clients.ts';
import { ENV, requireEnv } from '../adapters/environment.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import { type OperatorNotifier, SnsOperatorNotifier } from '../adapters/operator-notifier.ts';
import { REPORT_ENV, reportKeys, S3ReportStore } from '../adapters/report-store.ts';
import { formatTotals, mergeTotals, type ScanTotals } from '../domain/analytics.ts';
import { digestRecallLines } from '../domain/effectiveness.ts';
import { scanMetrics } from '../domain/metrics.ts';
import type { InvalidRecord, ScanSegmentResult } from '../use-cases/scan-segment.ts';
import { observed, powertools, publish } from './powertools.ts';

export interface FailedSegment {
  segment: number;
  failed: true;
  error?: { Error?: string; Cause?: string };
}

export interface ScanSummaryEvent {
  asOf: string;
  /** The execution's start (`$$.Execution.StartTime`), for the scan's duration; `asOf` when absent. */
  startedAt?: string;
  segments: (ScanSegmentResult | FailedSegment)[];
}

export class SegmentsFailedError extends Error {
  override readonly name = 'SegmentsFailed';
}

function isFailed(s: ScanSegmentResult | FailedSegment): s is FailedSegment {
  return 'failed' in s && s.failed === true;
}

export interface ScanSummary {
  asOf: string;
  totals: ScanTotals;
  invalidRecords: InvalidRecord[];
  digest: string;
}

export interface ScanSummaryDeps {
  notifier: OperatorNotifier;
  logger: WinbackLogger;
  /** Sees the run's totals before the digest goes out, also for a run with failed segments. */
  observe?: (totals: ScanTotals) => void;
  /**
   * Where the day's report will be: the report step runs right after the digest (lib/daily-scan.ts),
   * so the digest can already name its place for operators.
   */
  reportLocation?: (day: string) => string;
  /** The last stored report's JSON (yesterday's), for the recall lines; a failed read leaves them out. */
  previousReport?: () => Promise<string | undefined>;
}

/** Folds the segments' totals into the run's summary and sends operators the daily digest. */
export async function scanSummaryHandler(
  event: ScanSummaryEvent,
  deps: ScanSummaryDeps,
): Promise<ScanSummary> {
  if (!Array.isArray(event?.segments))
    throw new TypeError('scan summary needs the segments array of the run');
  const finished = event.segments.filter((s): s is ScanSegmentResult => !isFailed(s));
  const failed = event.segments.filter(isFailed);
  const totals = mergeTotals(finished.map((s) => s.totals));
  deps.observe?.(totals);
  const invalidRecords = finished.flatMap((s) => s.invalidRecords ?? []).slice(0, 50);
  let digest = formatTotals(totals, `winback daily assessment, as of ${event.asOf}`);
  if (invalidRecords.length > 0) {
    digest += `\n\ninvalid records (first ${invalidRecords.length} of ${totals.invalid}):\n`;
    digest += invalidRecords
      .map((r) => `  ${r.userId}: ${r.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`)
      .join('\n');
  }
  if (failed.length > 0) {
    digest += `\n\nFAILED SEGMENTS (their users were not assessed today): ${failed
      .map(
        (f) => `segment ${f.segment}: ${f.error?.Error ?? 'error'} ${(f.error?.Cause ?? '').slice(0, 300)}`,
      )
      .join('; ')}`;
  }
  const recallLines = await previousRecallLines(deps);
  if (recallLines.length > 0) digest += `\n\n${recallLines.join('\n')}`;
  if (deps.reportLocation) {
    digest += `\n\nreport: ${deps.reportLocation(event.asOf.slice(0, 10))} (written right after this digest; GET /reports/latest returns its JSON)`;
  }
  await deps.notifier.notify({
    kind: 'daily_digest',
    subject: `daily digest ${event.asOf.slice(0, 10)}`,
    message: digest,
  });
  deps.logger.info('daily scan finished', { asOf: event.asOf, totals, failedSegments: failed.length });
  if (failed.length > 0) {
    throw new SegmentsFailedError(
      `${failed.length} of ${event.segments.length} segments failed; the digest lists them`,
    );
  }
  return { asOf: event.asOf, totals, invalidRecords, digest };
}

async function previousRecallLines(deps: ScanSummaryDeps): Promise<string[]> {
  if (!deps.previousReport) return [];
  try {
    const text = await deps.previousReport();
    return text === undefined ? [] : digestRecallLines(JSON.parse(text));
  } catch (error) {
    // The digest must go out: the recall lines are a courtesy, the scan's own figures are the digest.
    deps.logger.warn('previous report unreadable; digest sent without its recall lines', {
      error: String(error),
    });
    return [];
  }
}

const tools = powertools('winback-scan-summary');
let notifier: OperatorNotifier | undefined;
let reports: S3ReportStore | undefined;
const lakeBucket = process.env[REPORT_ENV.lakeBucket];

export const handler = observed<ScanSummaryEvent, ScanSummary>(tools).handler(async (event) => {
  notifier ??= new SnsOperatorNotifier(snsClient(), requireEnv(process.env, ENV.operatorTopicArn));
  return scanSummaryHandler(event, {
    notifier,
    logger: tools.logger,
    ...(lakeBucket
      ? {
          reportLocation: (day: string) => `s3://${lakeBucket}/${reportKeys(day).html}`,
          previousReport: () => {
            reports ??= new S3ReportStore(s3Client(), lakeBucket);
            return reports.latest();
          },
        }
      : {}),
    observe: (totals) =>
      publish(tools.metrics, scanMetrics(totals, event.startedAt ?? event.asOf, new Date().toISOString())),
  });
});
