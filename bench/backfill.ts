import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeRows, LocalLakeWriter } from '../functions/adapters/lake.ts';
import { assess } from '../functions/domain/assessment.ts';
import { DEFAULT_POLICY } from '../functions/domain/policy.ts';
import { dayNumber, dayOfNumber, scanInstant, snapshotRow } from '../functions/domain/snapshot.ts';
import { historyInMemory, writeHistoryFiles } from '../local/behaviour.ts';
import { backfillDays, runBackfill } from '../local/commands/backfill.ts';
import { generateUsers } from '../local/seed.ts';

/**
 * The lake's figures: `winback backfill` over 100,000 users × 180 days from files (parsing included),
 * the demo's 10,000 × 120 days in memory, and what one scan page costs to write.
 *   BACKFILL_USERS, BACKFILL_DAYS override the sizes. Runs alone (`npx tsx bench/backfill.ts`) or from bench/run.ts.
 */
export interface BackfillBench {
  backfillUserDaysPerSecond: number;
  backfillUsers: number;
  backfillDays: number;
  backfillSeconds: number;
  /** CPU time of the run (user + system): the figure that holds on a machine shared with other work. */
  backfillCpuSeconds: number;
  backfillUserDaysPerCpuSecond: number;
  backfillEvents: number;
  backfillLakeBytes: number;
  demoBackfillSeconds: number;
  demoBackfillCpuSeconds: number;
  lakeBytesPerUserDay: number;
  scanPartWriteMs: number;
}

const LIVE = '2026-11-24';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

export async function backfillBench(): Promise<BackfillBench> {
  const users = Number(process.env.BACKFILL_USERS ?? 100_000);
  const days = Number(process.env.BACKFILL_DAYS ?? 180);
  const work = await mkdtemp(join(tmpdir(), 'winback-bench-backfill-'));
  try {
    const from = dayOfNumber(dayNumber(LIVE) - days);
    const to = dayOfNumber(dayNumber(LIVE) - 1);
    const scan = (day: string) => new Date(scanInstant(day, '09:00', 'Asia/Shanghai'));
    const gen = performance.now();
    const written = await writeHistoryFiles(
      { count: users, seed: 7, from: scan(from), until: scan(LIVE) },
      join(work, 'users.jsonl'),
      join(work, 'events.jsonl'),
    );
    console.log(
      `history files:       ${fmt(written.users)} users, ${fmt(written.events)} events in ${((performance.now() - gen) / 1000).toFixed(1)} s`,
    );
    const cpu = process.cpuUsage();
    const result = await runBackfill({
      users: join(work, 'users.jsonl'),
      events: join(work, 'events.jsonl'),
      from,
      to,
      dataDir: join(work, 'data'),
      stderr: process.stderr,
    });
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    if (result.bad > 0) throw new Error(`the generated history had ${result.bad} bad lines`);
    const lakeBytes = await dirBytes(join(work, 'data', 'lake'));
    const rate = (users * days) / result.seconds;
    console.log(
      `backfill:            ${fmt(rate)} user-days/s (${fmt(users)} users × ${days} days, ${fmt(result.rows)} rows, files parsed and all, in ${result.seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU; lake ${(lakeBytes / 1e6).toFixed(0)} MB)`,
    );

    // The demo's seeding: 10,000 users × 120 days, in memory, as `npm start` runs it.
    const demoFrom = dayOfNumber(dayNumber(LIVE) - 120);
    const demoStart = performance.now();
    const demoCpu = process.cpuUsage();
    const h = historyInMemory({ count: 10_000, seed: 42, from: scan(demoFrom), until: scan(LIVE) });
    const demoLake = join(work, 'demo-lake');
    const demo = await backfillDays({
      users: h.users,
      events: h.events,
      from: demoFrom,
      to,
      policy: DEFAULT_POLICY,
      lake: new LocalLakeWriter(demoLake, { level: 1 }),
    });
    const demoSeconds = (performance.now() - demoStart) / 1000;
    const demoUsed = process.cpuUsage(demoCpu);
    const demoCpuSeconds = (demoUsed.user + demoUsed.system) / 1e6;
    const demoBytes = await dirBytes(demoLake);
    console.log(
      `demo history:        10,000 users × 120 days in ${demoSeconds.toFixed(1)} s wall, ${demoCpuSeconds.toFixed(1)} s CPU (generation included; ${fmt(demo.rows)} rows, ${(demoBytes / demo.rows).toFixed(0)} bytes a row)`,
    );

    // One live scan page: a DynamoDB Scan page of 1 MB holds about 2,000 of these users.
    const asOf = scan(LIVE);
    const page = [...generateUsers({ count: 2_000, seed: 3, asOf })].map((u) =>
      snapshotRow(u, assess(u, DEFAULT_POLICY, asOf), asOf, 'Asia/Shanghai'),
    );
    const partStart = performance.now();
    const rounds = 20;
    let bytes = 0;
    for (let i = 0; i < rounds; i++) bytes = encodeRows(page).length;
    const partMs = (performance.now() - partStart) / rounds;
    console.log(
      `scan page part:      ${partMs.toFixed(1)} ms to encode 2,000 rows (${(bytes / 1024).toFixed(0)} KB gzip, ${(bytes / 2000).toFixed(0)} bytes a user)`,
    );
    return {
      backfillUserDaysPerSecond: Math.round(rate),
      backfillUsers: users,
      backfillDays: days,
      backfillSeconds: Number(result.seconds.toFixed(1)),
      backfillCpuSeconds: Number(cpuSeconds.toFixed(1)),
      backfillUserDaysPerCpuSecond: Math.round((users * days) / cpuSeconds),
      backfillEvents: result.events,
      backfillLakeBytes: lakeBytes,
      demoBackfillSeconds: Number(demoSeconds.toFixed(1)),
      demoBackfillCpuSeconds: Number(demoCpuSeconds.toFixed(1)),
      lakeBytesPerUserDay: Number((bytes / 2000).toFixed(1)),
      scanPartWriteMs: Number(partMs.toFixed(1)),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await backfillBench(), null, 2));
}
