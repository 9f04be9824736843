import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MS_PER_DAY } from '../functions/domain/time.ts';
import { startRecall } from '../functions/use-cases/start-recall.ts';
import { Runtime } from '../local/runtime.ts';
import { ensureTables } from '../local/template.ts';
import { countTransitions } from '../local/workflow-engine.ts';
import { user } from './recall-paths.ts';

export interface LocalRuntimeFigures {
  /** Complete escalations (start → in-app → push → SMS → close) per wall second, simulated clock. */
  localRecallsPerSecond: number;
  /** State transitions of those executions per wall second. */
  localTransitionsPerSecond: number;
  /** Store calls (reads and writes) per escalation, from its start to its close. */
  storeWritesPerRecall: number;
  /** Conditional UpdateItems per second against the same store through the same client. */
  storeWriteCeilingPerSecond: number;
  /** The share of the ceiling the recalls reach: recalls/s ÷ (ceiling ÷ calls per recall). */
  recallShareOfCeiling: number;
  recallsMeasured: number;
}

const asOf = new Date('2026-11-24T01:00:00Z');
const START_CONCURRENCY = 32;

/**
 * Runs `recalls` full escalations through the synthesized Recall state machine on the embedded
 * runtime (its own store on a worker thread, the real handlers, the simulated clock), then measures
 * the store's ceiling for conditional single-item writes with the same client, in the same process.
 */
export async function localRuntimeBench(recalls: number): Promise<LocalRuntimeFigures> {
  const rt = await Runtime.start({ start: asOf, policy: { recall: { holdoutShare: 0 } } });
  try {
    const users = Array.from({ length: recalls }, (_, i) => user(`bench-${String(i).padStart(6, '0')}`, {}));
    await rt.users.putMany(users);

    const callsBefore = rt.storeCalls ?? 0;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: START_CONCURRENCY }, async () => {
        while (next < users.length) {
          const u = users[next++]!;
          const result = await startRecall(
            {
              userId: u.userId,
              trigger: 'scheduled',
              level: 'low',
              at: asOf.toISOString(),
              reasonCodes: [],
              respectCooldown: true,
            },
            rt.startDeps,
          );
          if (result.status !== 'started') throw new Error(`bench recall for ${u.userId}: ${result.status}`);
        }
      }),
    );
    // The longest escalation (in-app, push, SMS and their waits) ends within a fortnight.
    for (let d = 1; d <= 15; d++) await rt.advanceTo(new Date(asOf.getTime() + d * MS_PER_DAY));
    const seconds = (performance.now() - started) / 1000;
    const calls = (rt.storeCalls ?? 0) - callsBefore;

    const executions = rt.recallWorkflow.list();
    const unfinished = executions.filter((e) => e.status !== 'SUCCEEDED');
    if (executions.length !== recalls || unfinished.length > 0)
      throw new Error(`${unfinished.length} of ${executions.length} bench recalls did not finish`);
    const full = executions.filter((e) => e.history.some((h) => h.state === 'Send SMS'));
    if (full.length !== recalls) throw new Error(`only ${full.length} of ${recalls} recalls reached SMS`);
    const transitions = executions.reduce((sum, e) => sum + countTransitions(e.history), 0);

    const ceiling = await writeCeiling(rt);
    const localRecallsPerSecond = recalls / seconds;
    const storeWritesPerRecall = calls / recalls;
    return {
      localRecallsPerSecond: round(localRecallsPerSecond, 1),
      localTransitionsPerSecond: Math.round(transitions / seconds),
      storeWritesPerRecall: round(storeWritesPerRecall, 2),
      storeWriteCeilingPerSecond: Math.round(ceiling),
      recallShareOfCeiling: round(localRecallsPerSecond / (ceiling / storeWritesPerRecall), 3),
      recallsMeasured: recalls,
    };
  } finally {
    await rt.stop();
  }
}

/** Conditional UpdateItems per second on a table of its own, at the concurrency the runtime uses. */
async function writeCeiling(rt: Runtime, ms = 3000, concurrency = 32): Promise<number> {
  const table = 'bench_ceiling';
  await ensureTables(rt.clients.client, [
    {
      logicalId: 'BenchCeiling',
      name: table,
      input: {
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      },
    },
  ]);
  // Each writer owns its keys, so its condition (a newer stamp than the stored one) always holds.
  const keysPerWriter = 32;
  const write = (writer: number, n: number) =>
    rt.clients.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { id: `k${writer}-${n % keysPerWriter}` },
        UpdateExpression: 'SET n = if_not_exists(n, :zero) + :one, writtenAt = :at',
        ConditionExpression: 'attribute_not_exists(writtenAt) OR writtenAt < :at',
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':at': String(n).padStart(12, '0') },
      }),
    );
  const stamps = new Array<number>(concurrency).fill(0);
  const run = async (until: number) => {
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, writer) => {
        while (performance.now() < until) {
          await write(writer, stamps[writer]!++);
          done++;
        }
      }),
    );
    return done;
  };
  await run(performance.now() + 300); // warm-up: items exist, JIT is warm
  const start = performance.now();
  const done = await run(start + ms);
  return (done / (performance.now() - start)) * 1000;
}

/** The default demo as a user starts it (`npm start`), as a whole process: wall seconds. */
export async function demoSeconds(args: string[] = []): Promise<number> {
  const start = performance.now();
  let stderr = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/cli.ts', 'demo', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`the demo exited with ${code}:\n${stderr}`);
  return round((performance.now() - start) / 1000, 1);
}

/** The 1-minute load average: other work on the machine shows in every figure here. */
export function machineLoad(): number {
  return round(loadavg()[0] ?? 0, 2);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
