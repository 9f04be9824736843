import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { formatRecallsSection } from '../../functions/domain/effectiveness.ts';
import { formatYuan } from '../../functions/domain/templates.ts';
import { MS_PER_DAY, utcDay } from '../../functions/domain/time.ts';
import { DEFAULT_CONFIG } from '../../lib/winback-stack.ts';
import { count, duration, Progress, type ProgressOut, plural } from '../progress.ts';
import { Runtime } from '../runtime.ts';
import { UserSimulator } from '../simulator.ts';

export { DEMO_DEFAULT_USERS } from '../defaults.ts';

import { DEMO_HOLDOUT_SHARE } from '../defaults.ts';

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
  /** Where progress goes (stderr by default): redrawn on a terminal, one line per phase otherwise. */
  progress?: ProgressOut;
}

/** The zone the daily scan runs in (09:00 there); every time the demo prints is in this zone. */
const ZONE = DEFAULT_CONFIG.scanSchedule.timeZone;

/** Counts the demo keeps per simulated day, from the runtime's observers. */
interface DayCounts {
  holdout: number;
  skipped: number;
  sent: number;
}

/**
 * The main job on the embedded default: seed a user base, then for each simulated day run the
 * daily scan each morning and let recalls escalate through the day, with simulated users answering.
 */
export async function runDemo(opts: DemoOptions): Promise<void> {
  const say = (line = '') => opts.out.write(`${line}\n`);
  const started = performance.now();
  const progress = new Progress(opts.progress ?? process.stderr);
  const booting = progress.phase('starting the embedded runtime');
  const rt = await Runtime.start({
    start: opts.asOf,
    dataDir: opts.dataDir,
    policy: demoPolicy(opts.policy),
    config: opts.segments ? { scanSegments: opts.segments } : {},
  });
  booting.finish('stack synthesized, store running');
  try {
    say(
      `winback demo: embedded store ${opts.dataDir ? `in ${opts.dataDir}` : 'in memory'}, tables and state machines from the synthesized stack; times in ${ZONE}`,
    );
    const { users: userCount, history } = await seedUsers(rt, opts, progress, say);

    let today: DayCounts = { holdout: 0, skipped: 0, sent: 0 };
    rt.observers.push({
      onPrepared: (plan) => {
        if (plan.holdout) today.holdout++;
        else if (plan.route === 'skip') today.skipped++;
      },
      onSent: (result) => {
        if (result.result === 'sent') today.sent++;
      },
    });
    const simulator = new UserSimulator(rt, opts.seed);
    if (history) simulator.follow(history);
    let lastDigest = '';
    let lastRecalls: Record<string, number> = {};
    let lastAsOf = opts.asOf;
    for (let day = 0; day < Math.max(1, opts.days); day++) {
      const morning = new Date(opts.asOf.getTime() + day * MS_PER_DAY);
      const label = `day ${day + 1} ${localDay(morning)}`;
      // Counted from here: steps due exactly at this morning (a push 48 h after yesterday's in-app
      // message) run while the clock reaches it, and belong to today.
      today = { holdout: 0, skipped: 0, sent: 0 };
      await rt.advanceTo(morning);

      const scan = progress.phase(`${label}: daily scan`, { total: userCount, unit: 'users' });
      // Recalls the scan starts run their first steps (Prepare, the in-app message) meanwhile.
      const running = () =>
        `${plural(rt.recallWorkflow.running(), 'recall')} running, ${plural(today.sent, 'message')} sent`;
      rt.progress = (n) => scan.tick(n, running());
      const { summary } = await rt.runDailyScan(morning.toISOString());
      rt.progress = undefined;
      const recalls = summary.totals.recalls;
      scan.finish(`${plural(recalls.started ?? 0, 'recall')} started, ${plural(today.sent, 'message')} sent`);

      simulator.dailyOrganicReturns(utcDay(morning));
      await escalateUntil(
        rt,
        new Date(morning.getTime() + MS_PER_DAY - 1),
        progress,
        label,
        () => today.sent,
      );
      say(dayLine(day + 1, morning, summary.totals.byStatus, recalls, today));
      lastDigest = summary.digest;
      lastRecalls = recalls;
      lastAsOf = morning;
    }

    say();
    say(lastDigest.replace(/^(winback daily assessment, as of ).*$/m, `$1${localStamp(lastAsOf)}`));
    say(recallCountsLegend(lastRecalls, rt.policy.recall.cooldownDays));
    say();
    let issued = 0;
    let unlocked = 0;
    let issuedFen = 0;
    for await (const reward of rt.rewards.scanAll()) {
      issued++;
      issuedFen += reward.amountFen;
      if (reward.status === 'unlocked') unlocked++;
    }
    say(
      `rewards: ${plural(issued, 'conditional reward')} issued (${formatYuan(issuedFen)} in all), ${count(unlocked)} unlocked by an investment`,
    );
    let outbox = 0;
    for await (const _ of rt.outbox.scanAll()) outbox++;
    say(
      `outbox: ${plural(outbox, 'push, SMS or operator message')} that would have gone out (in-app messages are in each user's inbox)`,
    );
    // The insight report over the whole history: backfilled days and the live ones.
    const reportDir = opts.dataDir ?? rt.lakeDir;
    const reporting = progress.phase('writing the insight report (DuckDB over the lake)');
    const { writeReport } = await import('./report.ts');
    const { report } = await writeReport({
      lakeDir: rt.lakeDir,
      out: [join(reportDir, 'report.html'), join(reportDir, 'report.json')],
      policy: rt.policy,
    });
    reporting.finish();
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
    say(
      `report: ${count(report.headline.users)} users, ${count(report.headline.churned)} churned, ${count(report.headline.atRisk)} at risk; the warning's precision ${pct(report.headline.precision)}, recall ${pct(report.headline.recall)} (${report.backtest.horizonDays}-day horizon, ${plural(report.backtest.daysEvaluated, 'day')} evaluated)`,
    );
    // The funnel and the uplift from the lake's outcome rows, as the deployed report computes them.
    say(formatRecallsSection(report.recalls));
    say(`report: ${pathToFileURL(join(reportDir, 'report.html')).href} (data: report.json beside it)`);
    say(moreLine(opts.dataDir));
    say(`finished in ${duration((performance.now() - started) / 1000)}`);
  } finally {
    await rt.stop();
  }
}

async function seedUsers(
  rt: Runtime,
  opts: DemoOptions,
  progress: Progress,
  say: (line?: string) => void,
): Promise<{ users: number; history?: SeededHistory }> {
  const existing = await rt.clients.doc.send(new ScanCommand({ TableName: rt.tables.Users, Limit: 1 }));
  if ((existing.Items ?? []).length > 0) {
    say('the store already holds users: using them (delete the data dir to start afresh)');
    const resumed = await rt.resumeOpenRecalls();
    if (resumed > 0) say(`resumed ${plural(resumed, 'recall')} left open by the previous run`);
    let users = 0;
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await rt.clients.doc.send(
        new ScanCommand({ TableName: rt.tables.Users, Select: 'COUNT', ExclusiveStartKey: cursor }),
      );
      users += page.Count ?? 0;
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return { users };
  }
  // The base with its past: history days backfilled into the lake, users stored as of today.
  const history = await seedWithHistory(
    rt,
    { users: opts.users, seed: opts.seed, asOf: opts.asOf },
    progress,
  );
  say(
    `seeded ${plural(opts.users, 'user')} with ${history.backfilledDays} days of history (${count(history.rows)} snapshot rows)`,
  );
  return { users: opts.users, history };
}

/** Lets the day's recall steps run to `until`, showing recalls running and messages sent. */
async function escalateUntil(
  rt: Runtime,
  until: Date,
  progress: Progress,
  label: string,
  sentToday: () => number,
): Promise<void> {
  const from = rt.clock.nowMs();
  const span = Math.max(1, until.getTime() - from);
  const phase = progress.phase(`${label}: recall escalation`, { total: 100 });
  const detail = () =>
    `${plural(rt.recallWorkflow.running(), 'recall')} running, ${plural(sentToday(), 'message')} sent, simulated ${localClock(rt.clock.nowMs())}`;
  const timer = setInterval(() => {
    phase.update(Math.round(((rt.clock.nowMs() - from) / span) * 100), detail());
  }, 100);
  try {
    await rt.advanceTo(until);
  } finally {
    clearInterval(timer);
  }
  phase.update(100);
  phase.finish(
    `${plural(sentToday(), 'message')} sent, ${plural(rt.recallWorkflow.running(), 'recall')} still running`,
  );
}

/** One line per day on stdout: what the scan found and what the recalls did with it. */
export function dayLine(
  day: number,
  morning: Date,
  byStatus: { at_risk: number; churned: number },
  recalls: Record<string, number>,
  today: DayCounts,
): string {
  const started = recalls.started ?? 0;
  const messaged = started - today.holdout - today.skipped;
  const startedText =
    started === 0
      ? '0 recalls started'
      : `${plural(started, 'recall')} started (${count(messaged)} messaged, ${count(today.holdout)} holdout, ${count(today.skipped)} skipped)`;
  return `day ${day} ${localStamp(morning)}: ${count(byStatus.at_risk)} at risk, ${count(byStatus.churned)} churned; ${startedText}, ${count(recalls.already_active ?? 0)} already in a recall, ${count(recalls.cooldown ?? 0)} in cool-down; ${plural(today.sent, 'message')} sent`;
}

/** Explains each recall count of the digest, in the words of the policy. */
export function recallCountsLegend(recalls: Record<string, number>, cooldownDays: number): string {
  const lines = ['what the recall counts of the last scan mean:'];
  const known: Record<string, string> = {
    started:
      'a recall opened for the user today (holdout: no message, the comparison group; skipped: no consent or address, or active again at Prepare)',
    already_active: 'the user is still in an earlier recall (one recall at a time)',
    cooldown: `the user's last recall closed less than ${plural(cooldownDays, 'day')} ago (policy recall.cooldownDays)`,
    resumed: 'a recall opened earlier but not yet running was started again',
    error: 'the recall could not be started; the next scan tries again',
  };
  for (const [decision, n] of Object.entries(recalls).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${decision.padEnd(15)} ${count(n).padStart(6)}  ${known[decision] ?? 'see docs/speed.md'}`);
  }
  if (lines.length === 1) lines.push('  (no at-risk or churned user was considered)');
  return lines.join('\n');
}

/**
 * The demo's policy: the given one, with a holdout of DEMO_HOLDOUT_SHARE unless it names its own.
 * Only the first day's recalls have a finished window by the last simulated day; at the default 5%
 * their holdout is about 30 users under the default thresholds, under the 100 per arm the uplift needs before it says a number.
 */
export function demoPolicy(policy: unknown): unknown {
  // Anything but an object goes on as given, to be refused by the policy's own check.
  if (policy !== undefined && (typeof policy !== 'object' || policy === null || Array.isArray(policy)))
    return policy;
  const given = (typeof policy === 'object' && policy !== null ? policy : {}) as Record<string, unknown>;
  const recall = (typeof given.recall === 'object' && given.recall !== null ? given.recall : {}) as Record<
    string,
    unknown
  >;
  if ('holdoutShare' in recall) return policy;
  return { ...given, recall: { ...recall, holdoutShare: DEMO_HOLDOUT_SHARE } };
}

/** Where to look next. */
export function moreLine(dataDir: string | undefined): string {
  if (!dataDir)
    return 'more: run with --data-dir DIR to keep the store, then `winback export outbox --data-dir DIR` lists every message and `winback recall USER_ID --data-dir DIR` shows one user step by step';
  return `more: \`winback export outbox --data-dir ${dataDir}\` lists every message; \`winback recall USER_ID --data-dir ${dataDir}\` shows one user step by step`;
}

const stampFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const dayFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  weekday: 'short',
  day: 'numeric',
  month: 'short',
});
const clockFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** "Tue 24 Nov, 09:00 Asia/Shanghai". */
export function localStamp(at: Date | number): string {
  return `${stampFormat.format(at)} ${ZONE}`;
}

function localDay(at: Date | number): string {
  return dayFormat.format(at);
}

function localClock(at: Date | number): string {
  return clockFormat.format(at);
}
