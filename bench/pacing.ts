import { pathToFileURL } from 'node:url';
import type { RecallChannel } from '../functions/domain/assessment.ts';
import { type AllowedHours, epochSecond, firstAllowedSecond, SlotBook } from '../functions/domain/pacing.ts';
import { DEFAULT_POLICY, type Policy } from '../functions/domain/policy.ts';
import { waitHoursAfter } from '../functions/domain/recall.ts';
import { addHours, isQuietTime, nextSendableTime } from '../functions/domain/time.ts';
import { mulberry32 } from '../local/seed.ts';

/**
 * A simulation of the thundering herd: 200,000 recalls, most started by the 09:00 daily scan (at
 * Step Functions' 300 starts per second), some by an operator's segment recall late in the evening
 * (held to 08:00 by quiet hours). Nobody comes back, so every recall runs every step it has: the
 * worst case for the providers. Each send claims its second the way the Recall workflow does
 * (SlotBook = the same search as the DynamoDB slot table), in the order the claims would be made.
 * The same sends without pacing (each at its due second) show the herd it removes.
 *
 *   npx tsx bench/pacing.ts            (PACING_RECALLS=200000 by default)
 */

export interface PacingFigures {
  recalls: number;
  sends: Record<RecallChannel, number>;
  sendRatePerSecond: Record<RecallChannel, number>;
  peakSmsPerSecond: number;
  peakPushPerSecond: number;
  peakInAppPerSecond: number;
  unpacedPeakSmsPerSecond: number;
  unpacedPeakPushPerSecond: number;
  sendsLost: number;
  sendsInQuietHours: number;
  maxSendDelayMinutes: number;
  p99SendDelayMinutes: number;
  probesPerSend: number;
  simulationMs: number;
}

/** 2026-11-24 09:00 in Shanghai: the daily scan starts its recalls. */
const SCAN_START = Date.parse('2026-11-24T01:00:00Z');
/** 22:30 the same evening: an operator recalls a segment; everything is held to 08:00. */
const SEGMENT_START = Date.parse('2026-11-24T14:30:00Z');
const ZONES = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Europe/London', 'America/Los_Angeles'];

interface Recall {
  timeZone: string;
  steps: RecallChannel[];
}

interface Claim {
  atMs: number;
  recall: number;
  step: number;
  dueMs: number;
}

/** A binary min-heap of claims by the time they are made. */
class ClaimQueue {
  private readonly items: Claim[] = [];
  get size(): number {
    return this.items.length;
  }
  push(claim: Claim): void {
    const a = this.items;
    a.push(claim);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p]!.atMs <= a[i]!.atMs) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): Claim {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.atMs < a[m]!.atMs) m = l;
        if (r < a.length && a[r]!.atMs < a[m]!.atMs) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

function peak(counts: Map<number, number>): number {
  let max = 0;
  for (const c of counts.values()) if (c > max) max = c;
  return max;
}

interface Run {
  perSecond: Record<RecallChannel, Map<number, number>>;
  sends: Record<RecallChannel, number>;
  expected: number;
  inQuietHours: number;
  delays: number[];
  probes: number;
}

/** Runs every recall's sends in the order they fall due; `pace` claims slots, otherwise each send goes at its due second. */
function simulate(total: number, policy: Policy, seed: number, pace: boolean): Run {
  const quiet = policy.recall.quietHours;
  const rates = policy.recall.sendRatePerSecond;
  // Deterministic, so two runs give the same figures.
  const rnd = mulberry32(seed);
  const allowed = (channel: RecallChannel, timeZone: string): AllowedHours =>
    channel === 'in_app' ? { timeZone } : { timeZone, quiet };

  const recalls: Recall[] = [];
  const queue = new ClaimQueue();
  const scanned = Math.round(total * 0.85);
  for (let i = 0; i < total; i++) {
    const r = rnd();
    const timeZone = r < 0.92 ? 'Asia/Shanghai' : ZONES[1 + Math.floor(((r - 0.92) / 0.08) * 3)]!;
    // A quarter are high-risk users recalled by SMS first; the rest escalate in-app → push → SMS.
    const steps: RecallChannel[] = rnd() < 0.25 ? ['sms'] : ['in_app', 'push', 'sms'];
    recalls.push({ timeZone, steps });
    const startMs = i < scanned ? SCAN_START + (i / 300) * 1000 : SEGMENT_START + ((i - scanned) / 50) * 1000;
    // Prepare: the first send waits for sending hours, whatever the channel.
    queue.push({
      atMs: startMs,
      recall: i,
      step: 0,
      dueMs: Date.parse(nextSendableTime(startMs, timeZone, quiet)),
    });
  }

  const book = new SlotBook();
  const run: Run = {
    perSecond: { sms: new Map(), push: new Map(), in_app: new Map() },
    sends: { sms: 0, push: 0, in_app: 0 },
    expected: 0,
    inQuietHours: 0,
    delays: [],
    probes: 0,
  };
  while (queue.size > 0) {
    const claim = queue.pop();
    const recall = recalls[claim.recall]!;
    const channel = recall.steps[claim.step]!;
    run.expected++;
    const hours = allowed(channel, recall.timeZone);
    const earliest = firstAllowedSecond(epochSecond(claim.dueMs), hours);
    let second = earliest;
    if (pace) {
      const choice = book.allocate(channel, claim.dueMs, rates[channel], hours);
      run.probes += choice.probes;
      second = choice.second;
    }
    run.perSecond[channel].set(second, (run.perSecond[channel].get(second) ?? 0) + 1);
    run.sends[channel]++;
    if (hours.quiet && isQuietTime(second * 1000, recall.timeZone, quiet)) run.inQuietHours++;
    run.delays.push((second - earliest) / 60);

    const next = claim.step + 1;
    if (next < recall.steps.length) {
      // The send step computes the next due time from the send and the wait after it.
      const sentMs = second * 1000;
      const due = nextSendableTime(addHours(sentMs, waitHoursAfter(channel, policy)), recall.timeZone, quiet);
      queue.push({ atMs: sentMs, recall: claim.recall, step: next, dueMs: Date.parse(due) });
    }
  }
  return run;
}

export function pacingBench(
  options: { recalls?: number; policy?: Policy; seed?: number } = {},
): PacingFigures {
  const started = performance.now();
  const total = options.recalls ?? 200_000;
  const policy = options.policy ?? DEFAULT_POLICY;
  const seed = options.seed ?? 42;
  const paced = simulate(total, policy, seed, true);
  const unpaced = simulate(total, policy, seed, false);
  const delays = paced.delays.sort((a, b) => a - b);
  const sent = paced.sends.sms + paced.sends.push + paced.sends.in_app;
  return {
    recalls: total,
    sends: paced.sends,
    sendRatePerSecond: { ...policy.recall.sendRatePerSecond },
    peakSmsPerSecond: peak(paced.perSecond.sms),
    peakPushPerSecond: peak(paced.perSecond.push),
    peakInAppPerSecond: peak(paced.perSecond.in_app),
    unpacedPeakSmsPerSecond: peak(unpaced.perSecond.sms),
    unpacedPeakPushPerSecond: peak(unpaced.perSecond.push),
    sendsLost: paced.expected - sent,
    sendsInQuietHours: paced.inQuietHours,
    maxSendDelayMinutes: Number((delays.at(-1) ?? 0).toFixed(1)),
    p99SendDelayMinutes: Number((delays[Math.floor(delays.length * 0.99)] ?? 0).toFixed(1)),
    probesPerSend: Number((paced.probes / Math.max(sent, 1)).toFixed(2)),
    simulationMs: Math.round(performance.now() - started),
  };
}

export function printPacing(f: PacingFigures): void {
  const fmt = (n: number) => n.toLocaleString('en-US');
  console.log(
    `pacing (${fmt(f.recalls)} recalls, ${fmt(f.sends.sms)} SMS / ${fmt(f.sends.push)} push / ${fmt(f.sends.in_app)} in-app):`,
  );
  console.log(
    `  peakSmsPerSecond ${f.peakSmsPerSecond} (limit ${f.sendRatePerSecond.sms}, unpaced ${fmt(f.unpacedPeakSmsPerSecond)})`,
  );
  console.log(
    `  peakPushPerSecond ${f.peakPushPerSecond} (limit ${f.sendRatePerSecond.push}, unpaced ${fmt(f.unpacedPeakPushPerSecond)})`,
  );
  console.log(`  peakInAppPerSecond ${f.peakInAppPerSecond} (limit ${f.sendRatePerSecond.in_app})`);
  console.log(`  sendsLost ${f.sendsLost}, sendsInQuietHours ${f.sendsInQuietHours}`);
  console.log(
    `  maxSendDelayMinutes ${f.maxSendDelayMinutes} (p99 ${f.p99SendDelayMinutes}), ${f.probesPerSend} slot probes per send, ${fmt(f.simulationMs)} ms`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = pacingBench({ recalls: Number(process.env.PACING_RECALLS ?? 200_000) });
  printPacing(figures);
  console.log(JSON.stringify(figures));
}
