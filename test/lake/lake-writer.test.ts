import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { LocalLakeWriter, partKey, S3LakeWriter, scanPartName } from '../../functions/adapters/lake.ts';
import { useTempDir } from '../support/temp-dir.ts';

const tmp = useTempDir('winback-lake-');
const rows = [
  { day: '2026-11-24', userId: 'u1', status: 'active' },
  { day: '2026-11-24', userId: 'u2', status: 'churned' },
];

function lines(gz: Buffer): unknown[] {
  return gunzipSync(gz)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

describe('lake object names', () => {
  it('are Hive-style partitions with the part name', () => {
    expect(partKey('snapshots', '2026-11-24', scanPartName(3, 7))).toBe(
      'snapshots/day=2026-11-24/seg-03-page-0007.jsonl.gz',
    );
  });

  it('refuse a day or part that would escape the partition', () => {
    expect(() => partKey('snapshots', '2026-1-24', 'x')).toThrow(/YYYY-MM-DD/);
    expect(() => partKey('feedback', '2026-11-24', '../x')).toThrow(/part name/);
  });
});

describe('LocalLakeWriter', () => {
  it('writes gzip JSON lines under table/day=…/part.jsonl.gz', async () => {
    const writer = new LocalLakeWriter(tmp.path());
    await writer.writePart('snapshots', '2026-11-24', 'seg-00-page-0000', rows);
    const file = join(tmp.path(), 'snapshots', 'day=2026-11-24', 'seg-00-page-0000.jsonl.gz');
    expect(lines(await readFile(file))).toEqual(rows);
  });

  it('overwrites its own object on a retry instead of adding a copy', async () => {
    const writer = new LocalLakeWriter(tmp.path());
    await writer.writePart('feedback', '2026-11-25', 'u1-1', rows);
    await writer.writePart('feedback', '2026-11-25', 'u1-1', rows.slice(0, 1));
    const dir = join(tmp.path(), 'feedback', 'day=2026-11-25');
    expect(await readdir(dir)).toEqual(['u1-1.jsonl.gz']);
    expect(lines(await readFile(join(dir, 'u1-1.jsonl.gz')))).toEqual(rows.slice(0, 1));
  });

  it('writes nothing for an empty unit', async () => {
    const writer = new LocalLakeWriter(tmp.path());
    await writer.writePart('snapshots', '2026-11-26', 'empty', []);
    await expect(readdir(join(tmp.path(), 'snapshots', 'day=2026-11-26'))).rejects.toThrow(/ENOENT/);
  });
});

describe('S3LakeWriter', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());

  it('puts one gzip object per unit at a deterministic key under the prefix', async () => {
    s3.on(PutObjectCommand).resolves({});
    const writer = new S3LakeWriter(new S3Client({ region: 'eu-west-1' }), 'lake-bucket', 'winback');
    await writer.writePart('snapshots', '2026-11-24', 'seg-01-page-0002', rows);
    await writer.writePart('snapshots', '2026-11-24', 'seg-01-page-0002', rows);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 2);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'lake-bucket',
      Key: 'winback/snapshots/day=2026-11-24/seg-01-page-0002.jsonl.gz',
      ContentType: 'application/gzip',
    });
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input.ContentEncoding).toBeUndefined();
    expect(lines(input.Body as Buffer)).toEqual(rows);
    const [first, second] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Body as Buffer);
    expect(Buffer.compare(first!, second!)).toBe(0);
  });

  it('passes an S3 failure to the caller, which retries the unit', async () => {
    s3.on(PutObjectCommand).rejects(new Error('SlowDown'));
    const writer = new S3LakeWriter(new S3Client({ region: 'eu-west-1' }), 'lake-bucket');
    await expect(writer.writePart('feedback', '2026-11-24', 'f1', rows)).rejects.toThrow('SlowDown');
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: 'feedback/day=2026-11-24/f1.jsonl.gz' });
  });
});
