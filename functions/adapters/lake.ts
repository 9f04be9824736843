import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { constants, gzip, gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export type LakeTable = 'snapshots' | 'feedback' | 'recalls';

/**
 * Appends history to the lake: one object per writer unit (a scan page, a backfill chunk, a feedback
 * answer). The object name is derived from the unit, so a retried unit overwrites its own object and
 * never adds a second copy of its rows.
 */
export interface LakeWriter {
  writePart(table: LakeTable, day: string, part: string, rows: object[]): Promise<void>;
}

const PART = /^[A-Za-z0-9_.:-]{1,200}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `snapshots/day=2026-11-24/seg-03-page-0007.jsonl.gz`: Hive-style, so Athena and DuckDB both see `day`. */
export function partKey(table: LakeTable, day: string, part: string): string {
  if (!DAY.test(day)) throw new RangeError(`lake day must be YYYY-MM-DD, got "${day}"`);
  if (!PART.test(part))
    throw new RangeError(`lake part name must be letters, digits or _ . : -, got "${part}"`);
  return `${table}/day=${day}/${part}.jsonl.gz`;
}

/** The live scan's part name for one page of one segment. */
export function scanPartName(segment: number, page: number): string {
  return `seg-${String(segment).padStart(2, '0')}-page-${String(page).padStart(4, '0')}`;
}

/**
 * Gzip JSON lines. A scan page is written once and read many times by reports; level 6 (the default)
 * costs about twice level 1 and saves a tenth of the bytes, so the backfill, which writes months at
 * once, asks for level 1.
 */
export function encodeRows(rows: readonly object[], level: number = constants.Z_DEFAULT_COMPRESSION): Buffer {
  let text = '';
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  return gzipSync(text, { level });
}

const gzipAsync = promisify(gzip);

/** As encodeRows, with the compression on libuv's thread pool: the caller's thread builds the next part meanwhile. */
export async function encodeRowsAsync(
  rows: readonly object[],
  level: number = constants.Z_DEFAULT_COMPRESSION,
): Promise<Buffer> {
  let text = '';
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  return gzipAsync(text, { level });
}

export interface LakeWriterOptions {
  /** zlib level; see encodeRows. */
  level?: number;
}

/** The embedded lake: files under `rootDir`, each written to a temporary name and renamed into place. */
export class LocalLakeWriter implements LakeWriter {
  constructor(
    readonly rootDir: string,
    private readonly options: LakeWriterOptions = {},
  ) {}

  async writePart(table: LakeTable, day: string, part: string, rows: object[]): Promise<void> {
    if (rows.length === 0) return;
    const path = join(this.rootDir, partKey(table, day, part));
    await mkdir(dirname(path), { recursive: true });
    // A reader (or a crash) never sees half a file: rename replaces the old object in one step.
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, await encodeRowsAsync(rows, this.options.level));
    await rename(temporary, path);
  }
}

/** The lake on S3; a PutObject replaces an object whole, which is what makes a retry overwrite. */
export class S3LakeWriter implements LakeWriter {
  private readonly prefix: string;
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    prefix = '',
    private readonly options: LakeWriterOptions = {},
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  async writePart(table: LakeTable, day: string, part: string, rows: object[]): Promise<void> {
    if (rows.length === 0) return;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `${this.prefix}${partKey(table, day, part)}`,
        Body: await encodeRowsAsync(rows, this.options.level),
        // Not Content-Encoding: gzip, or HTTP clients would unpack it and Athena's reader would not.
        ContentType: 'application/gzip',
      }),
    );
  }
}
