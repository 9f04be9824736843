import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SmsStepRow } from '../domain/effectiveness.ts';
import { ENV } from './environment.ts';

/**
 * Where the daily report goes: `reports/<day>/report.html`, `reports/<day>/report.json` and
 * `reports/latest.json` under the lake root (the lake bucket on AWS, `<data-dir>/lake` locally).
 * The day's objects are written before latest.json, so latest never points at a half-written day.
 */
export interface StoredReport {
  day: string;
  html: string;
  json: string;
  latest: string;
}

export interface ReportStore {
  put(day: string, html: string, json: string): Promise<StoredReport>;
  /** The JSON text of the latest report, or undefined when none was written yet. */
  latest(): Promise<string | undefined>;
}

export const REPORTS_PREFIX = 'reports/';

export function reportKeys(
  day: string,
  prefix = REPORTS_PREFIX,
): { html: string; json: string; latest: string } {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`a report day must be YYYY-MM-DD, got "${day}"`);
  return {
    html: `${prefix}${day}/report.html`,
    json: `${prefix}${day}/report.json`,
    latest: `${prefix}latest.json`,
  };
}

export class S3ReportStore implements ReportStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix = REPORTS_PREFIX,
  ) {}

  async put(day: string, html: string, json: string): Promise<StoredReport> {
    const keys = reportKeys(day, this.prefix);
    const put = (Key: string, Body: string, ContentType: string) =>
      this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body, ContentType }));
    await put(keys.html, html, 'text/html; charset=utf-8');
    await put(keys.json, json, 'application/json');
    await put(keys.latest, json, 'application/json');
    const uri = (key: string) => `s3://${this.bucket}/${key}`;
    return { day, html: uri(keys.html), json: uri(keys.json), latest: uri(keys.latest) };
  }

  async latest(): Promise<string | undefined> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}latest.json` }),
      );
      return await out.Body?.transformToString('utf-8');
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}

/** The same layout on disk, under the local lake root. */
export class LocalReportStore implements ReportStore {
  constructor(
    private readonly root: string,
    private readonly prefix = REPORTS_PREFIX,
  ) {}

  async put(day: string, html: string, json: string): Promise<StoredReport> {
    const keys = reportKeys(day, this.prefix);
    const write = async (key: string, body: string) => {
      const path = join(this.root, key);
      await mkdir(dirname(path), { recursive: true });
      // Write then rename: a reader never sees half a file.
      await writeFile(`${path}.tmp`, body);
      await rename(`${path}.tmp`, path);
      return path;
    };
    const html2 = await write(keys.html, html);
    const json2 = await write(keys.json, json);
    const latest = await write(keys.latest, json);
    return { day, html: html2, json: json2, latest };
  }

  async latest(): Promise<string | undefined> {
    const path = join(this.root, this.prefix, 'latest.json');
    return existsSync(path) ? readFile(path, 'utf8') : undefined;
  }
}

/** Environment of the report function (set by lib/daily-scan.ts) and of the API's report route. */
export const REPORT_ENV = {
  /** The same variable the lake writers read (ENV.lakeBucket): one bucket holds history and reports. */
  lakeBucket: ENV.lakeBucket,
  workgroup: 'LAKE_WORKGROUP',
  database: 'LAKE_DATABASE',
  locale: 'REPORT_LOCALE',
  horizonDays: 'REPORT_HORIZON_DAYS',
} as const;

/**
 * The last report's SMS-step figures (`recalls.smsStep` of latest.json), read at most once per
 * `maxAgeMs` per container: Prepare asks on every recall, the figures change once a day. A missing
 * or unreadable report gives undefined, which keeps the SMS step (nothing is skipped without figures);
 * `onUnreadable` hears why a report could not be read.
 */
export function smsStepFiguresFrom(
  store: Pick<ReportStore, 'latest'>,
  maxAgeMs = 60 * 60 * 1000,
  clock: () => number = Date.now,
  onUnreadable: (error: unknown) => void = () => {},
): () => Promise<readonly SmsStepRow[] | undefined> {
  let cached: { at: number; rows: readonly SmsStepRow[] | undefined } | undefined;
  return async () => {
    if (cached && clock() - cached.at < maxAgeMs) return cached.rows;
    let rows: readonly SmsStepRow[] | undefined;
    try {
      const text = await store.latest();
      const smsStep =
        text === undefined
          ? undefined
          : (JSON.parse(text) as { recalls?: { smsStep?: unknown } }).recalls?.smsStep;
      rows = Array.isArray(smsStep) ? (smsStep as SmsStepRow[]) : undefined;
    } catch (error) {
      onUnreadable(error);
      rows = undefined;
    }
    cached = { at: clock(), rows };
    return rows;
  };
}
