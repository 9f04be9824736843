import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type FunnelRecall, formatFunnel, recallFunnel } from '../../functions/domain/funnel.ts';
import { formatYuan } from '../../functions/domain/templates.ts';
import { MS_PER_DAY, utcDay } from '../../functions/domain/time.ts';
import { parseUserRecord } from '../../functions/domain/user.ts';
import { ProgressBar } from '../progress.ts';
import { Runtime } from '../runtime.ts';
import { UserSimulator } from '../simulator.ts';
import { type SeededHistory, seedWithHistory } from './seed-history.ts';

export interface DemoOptions {
  users: number;
  seed: number;
  days: number;
  asOf: Date;
  dataDir?: string;
  policy?: unknown;
  segments?: number;
  out: NodeJS.WritableStream;
}

/**
 * The main job on the embedded default: seed a user base, then for each simulated day run the
 * daily scan each morning and let recalls escalate through the day, with simulated users answering.
 */
export async function runDemo(opts: DemoOptions): Promise<void> {
  const say = (line = '') => opts.out.write(`${line}\n`);
  const started = Date.now();
  const rt = await Runtime.start({
    start: opts.asOf,
    dataDir: opts.dataDir,
    policy: opts.policy,
    config: opts.segments ? { scanSegments: opts.segments } : {},
  });
  try {
    say(
      `winback demo: embedded store ${opts.dataDir ? `in ${opts.dataDir}` : 'in memory'}, tables and state machines from the synthesized stack`,
    );
    let history: SeededHistory | undefined;
    const existing = await rt.clients.doc.send(new ScanCommand({ TableName: rt.tables.Users, Limit: 1 }));
    if ((existing.Items ?? []).length > 0) {
      say('the store already holds users: using them (delete the data dir to start afresh)');
      const resumed = await rt.resumeOpenRecalls();
      if (resumed > 0) say(`resumed ${resumed} recalls left open by the previous run`);
    } else {
      // The base with its past: history days backfilled into the lake, users stored as of today.
      history = await seedWithHistory(rt, { users: opts.users, seed: opts.seed, asOf: opts.asOf });
      say(
        `seeded ${opts.users} users with ${history.backfilledDays} days of history (${history.rows} snapshot rows)`,
      );
      // Paths and times differ between runs; stdout stays comparable.
      process.stderr.write(`history backfilled into ${rt.lakeDir} in ${history.seconds.toFixed(1)} s\n`);
    }

    const simulator = new UserSimulator(rt, opts.seed);
    if (history) simulator.follow(history);
    let lastDigest = '';
    for (let day = 0; day < Math.max(1, opts.days); day++) {
      const morning = new Date(opts.asOf.getTime() + day * MS_PER_DAY);
      await rt.advanceTo(morning);
      const bar = new ProgressBar(`day ${day + 1} ${utcDay(morning)}: daily scan`, opts.users);
      rt.progress = (n) => bar.tick(n);
      const { summary } = await rt.runDailyScan(morning.toISOString());
      bar.finish();
      lastDigest = summary.digest;
      const started = summary.totals.recalls.started ?? 0;
      say(
        `day ${day + 1} ${utcDay(morning)}: ${summary.totals.byStatus.at_risk} at risk, ${summary.totals.byStatus.churned} churned, ${started} recalls started`,
      );
      simulator.dailyOrganicReturns(utcDay(morning));
      await rt.advanceTo(new Date(morning.getTime() + MS_PER_DAY - 1));
    }

    say();
    say(lastDigest);
    say();
    say(formatFunnel(recallFunnel(await funnelRecalls(rt), 12)));
    let issued = 0;
    let unlocked = 0;
    let issuedFen = 0;
    for await (const reward of rt.rewards.scanAll()) {
      issued++;
      issuedFen += reward.amountFen;
      if (reward.status === 'unlocked') unlocked++;
    }
    say(
      `rewards: ${issued} conditional rewards issued (${formatYuan(issuedFen)} in all), ${unlocked} unlocked`,
    );
    let outbox = 0;
    for await (const _ of rt.outbox.scanAll()) outbox++;
    say(
      `outbox: ${outbox} push, SMS and operator messages that would have been sent (winback export messages)`,
    );
    // TODO(integrator): write the report here with the report helper's function, e.g.
    //   const report = await writeReport({ lakeDir: rt.lakeDir, outDir: opts.dataDir ?? dirname(rt.lakeDir) });
    //   say(`report: ${pathToFileURL(report.htmlPath)}`);
    process.stderr.write(`history: ${rt.lakeDir} (snapshots/day=…/*.jsonl.gz)\n`);
    say(`finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await rt.stop();
  }
}

async function funnelRecalls(rt: Runtime): Promise<FunnelRecall[]> {
  const out: FunnelRecall[] = [];
  for await (const r of rt.recalls.scanAll()) {
    let userLastActiveAt: string | undefined;
    if (r.holdout) {
      const parsed = parseUserRecord(await rt.users.get(r.userId));
      if (parsed.ok) {
        const u = parsed.value;
        userLastActiveAt = [u.lastLoginAt, u.lastInvestAt]
          .filter((x): x is string => !!x)
          .sort()
          .at(-1);
      }
    }
    out.push({
      holdout: r.holdout,
      startedAt: r.startedAt,
      outcome: r.outcome,
      winningStep: r.winningStep,
      userLastActiveAt,
    });
  }
  return out;
}
