import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalLakeWriter } from '../../functions/adapters/lake.ts';
import { createQuietLogger } from '../../functions/adapters/logger.ts';
import { UserRepository } from '../../functions/adapters/user-repository.ts';
import { assess } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import type { SnapshotRow } from '../../functions/domain/snapshot.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { noRecalls, scanSegment } from '../../functions/use-cases/scan-segment.ts';
import { generateUsers } from '../../local/seed.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';
import { AS_OF } from '../support/fixtures.ts';
import { useTempDir } from '../support/temp-dir.ts';

const dynamo = useLocalDynamo();
const tmp = useTempDir('winback-scan-lake-');
const seeded: UserRecord[] = [...generateUsers({ count: 120, seed: 7, asOf: AS_OF })];
let users: UserRepository;

async function readPart(dir: string, name: string): Promise<SnapshotRow[]> {
  return gunzipSync(await readFile(join(dir, name)))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as SnapshotRow);
}

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => d.name === 'Users');
  const [table] = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  users = new UserRepository(dynamo.doc, table!.name);
  await users.putMany(seeded);
});

describe('the daily scan appends history', () => {
  const deps = (root: string, remainingMs = () => Number.POSITIVE_INFINITY) => ({
    users,
    policy: DEFAULT_POLICY,
    recalls: noRecalls,
    logger: createQuietLogger(),
    remainingMs,
    reserveMs: 0,
    pageLimit: 25,
    lake: new LocalLakeWriter(root),
  });

  it('writes one row per assessed user, one part per segment and page, named by the scan day', async () => {
    const root = join(tmp.path(), 'full');
    for (const segment of [0, 1]) {
      await scanSegment({ asOf: AS_OF.toISOString(), segment, totalSegments: 2 }, deps(root));
    }
    const dir = join(root, 'snapshots', 'day=2026-11-24');
    const parts = (await readdir(dir)).sort();
    expect(parts.every((p) => /^seg-0[01]-page-\d{4}\.jsonl\.gz$/.test(p))).toBe(true);
    const rows = (await Promise.all(parts.map((p) => readPart(dir, p)))).flat();
    expect(rows.map((r) => r.userId).sort()).toEqual(seeded.map((u) => u.userId).sort());
    for (const row of rows) {
      const user = seeded.find((u) => u.userId === row.userId)!;
      const a = assess(user, DEFAULT_POLICY, AS_OF);
      expect([row.status, row.score, row.dayNumber]).toEqual([a.status, a.score, 20781]);
    }
  });

  it('continues the page numbering across a hand-over, and a retried invocation overwrites its parts', async () => {
    const root = join(tmp.path(), 'handover');
    // Time runs out after the first page of every invocation: each one reads exactly one page.
    const shortOfTime = () => 0;
    const input = { asOf: AS_OF.toISOString(), segment: 0, totalSegments: 1 };
    const first = await scanSegment(input, deps(root, shortOfTime));
    expect(first.page).toBe(1);
    const second = await scanSegment(
      { ...input, cursor: first.cursor, page: first.page },
      deps(root, shortOfTime),
    );
    expect(second.page).toBe(2);
    // The Lambda is retried from the same input: same part name, nothing added.
    await scanSegment({ ...input, cursor: first.cursor, page: first.page }, deps(root, shortOfTime));
    const dir = join(root, 'snapshots', 'day=2026-11-24');
    expect((await readdir(dir)).sort()).toEqual(['seg-00-page-0000.jsonl.gz', 'seg-00-page-0001.jsonl.gz']);
    const ids = [
      ...(await readPart(dir, 'seg-00-page-0000.jsonl.gz')),
      ...(await readPart(dir, 'seg-00-page-0001.jsonl.gz')),
    ].map((r) => r.userId);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
  });
});
