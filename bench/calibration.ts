import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLakeWriter } from '../functions/adapters/lake.ts';
import { parsePolicy } from '../functions/domain/policy.ts';
import { dayNumber, dayOfNumber, scanInstant } from '../functions/domain/snapshot.ts';
import { historyInMemory } from '../local/behaviour.ts';
import { calibrate } from '../local/calibration.ts';
import { backfillDays } from '../local/commands/backfill.ts';

/**
 * `npx tsx bench/calibration.ts`: the demo's synthetic base (10,000 users, seed 42) over 120 days,
 * backfilled with the default policy (or POLICY='{"warnings":{...}}'), and the playbook targets and
 * warning backtest measured on that lake with DuckDB. USERS overrides the size; LAKE=<dir> measures
 * an existing lake.
 */
const policy = parsePolicy(process.env.POLICY ? JSON.parse(process.env.POLICY) : {});
const live = '2026-11-24';
const from = dayOfNumber(dayNumber(live) - 120);
const to = dayOfNumber(dayNumber(live) - 1);
const at = (day: string) => new Date(scanInstant(day, '09:00', 'Asia/Shanghai'));
// LAKE=<dir> measures an existing lake instead (for example the one `npm start` prints at the end).
const dir = process.env.LAKE ?? (await mkdtemp(join(tmpdir(), 'winback-calibration-')));
try {
  if (!process.env.LAKE) {
    const h = historyInMemory({
      count: Number(process.env.USERS ?? 10_000),
      seed: 42,
      from: at(from),
      until: at(live),
    });
    const lake = new LocalLakeWriter(dir, { level: 1 });
    await backfillDays({ users: h.users, events: h.events, from, to, policy, lake });
  }
  const { churnRateByStageAndChannel, loginThresholds, ...figures } = await calibrate(dir);
  console.log(JSON.stringify(figures, null, 2));
  console.log('\nchurn rate by stage × channel on', figures.asOfDay);
  for (const x of churnRateByStageAndChannel)
    console.log(
      `  ${x.stage.padEnd(7)} ${x.channel.padEnd(20)} ${String(x.users).padStart(6)} ${(100 * x.churnRate).toFixed(1)}%`,
    );
  console.log('\nlogin threshold (days) → precision, recall, flagged share of user-days');
  for (const x of loginThresholds)
    console.log(
      `  > ${String(x.days).padStart(2)}  ${x.precision.toFixed(3)}  ${x.recall.toFixed(3)}  ${x.flaggedShare.toFixed(3)}`,
    );
} finally {
  if (!process.env.LAKE) await rm(dir, { recursive: true, force: true });
}
