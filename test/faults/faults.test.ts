import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newTablePrefix } from '../support/dynalite.ts';
import { AS_OF } from '../support/fixtures.ts';
import { checkInvariants, INVARIANTS, type InvariantKey, readRunState } from './invariants.ts';
import { runScenario, type ScenarioRecord } from './scenario.ts';

// The fault-injection suite (docs/fault-injection.md). `npm test` runs the seeds below; more with
// `npm run test:faults -- --seeds N`, one with `npm run test:faults -- --seed S`.
const SEEDS = (process.env.FAULT_SEEDS ?? '1,2,3').split(',').map(Number);
const USERS = Number(process.env.FAULT_USERS ?? 250);
const DAYS = Number(process.env.FAULT_DAYS ?? 4);
const RUN_TIMEOUT_MS = 20 * 60_000;

describe.each(SEEDS)('under the faults of seed %i', (seed) => {
  let run: ScenarioRecord | undefined;
  let violations: Record<InvariantKey, string[]> | undefined;

  beforeAll(async () => {
    run = await runScenario({
      seed,
      users: USERS,
      days: DAYS,
      endpoint: inject('dynamoEndpoint'),
      tablePrefix: newTablePrefix(),
      start: AS_OF,
    });
    const state = await readRunState(run);
    violations = checkInvariants(run, state);
    const rewards = `${state.rewards.length} issued, ${state.rewards.filter((r) => r.status === 'unlocked').length} unlocked`;
    console.log(report(seed, run, `deliveries: ${state.deliveries.length}; rewards: ${rewards}`, violations));
  }, RUN_TIMEOUT_MS);

  afterAll(async () => {
    await run?.rt.stop();
  });

  it('injected every kind of fault it plans', () => {
    const missing = Object.entries(run!.plan.counts).filter(([, n]) => n === 0);
    expect(missing).toEqual([]);
  });

  for (const [key, title] of Object.entries(INVARIANTS) as [InvariantKey, string][]) {
    it(title, () => {
      expect(violations![key].slice(0, 20), `${violations![key].length} violations`).toEqual([]);
    });
  }
});

function report(
  seed: number,
  run: ScenarioRecord,
  delivered: string,
  violations: Record<InvariantKey, string[]>,
): string {
  const executions = run.rt.recallWorkflow.list();
  const byStatus = new Map<string, number>();
  for (const e of executions) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
  const events = [...run.events.values()];
  const lines = [
    `fault run: seed ${seed}, ${USERS} users, ${DAYS} days (+${run.drainDays} to drain), ${(run.wallMs / 1000).toFixed(1)} s`,
    `recall executions: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')}; ${delivered}; events: ${events.length} (${events.reduce((s, t) => s + t.attempts, 0)} delivery attempts)`,
    `scans: ${run.scans.map((s) => `${s.name} ${s.status}${s.error ? ` (a task failed with ${s.error})` : ''}`).join('; ')}`,
    'faults injected:',
    run.plan.summary().replace(/^/gm, '  '),
    'invariants:',
    ...(Object.entries(INVARIANTS) as [InvariantKey, string][]).flatMap(([key, title]) => [
      `  ${violations[key].length === 0 ? 'ok  ' : 'FAIL'} ${title}${violations[key].length ? ` (${violations[key].length})` : ''}`,
      ...violations[key].slice(0, 3).map((v) => `         ${v}`),
    ]),
    `reproduce: npm run test:faults -- --seed ${seed} --users ${USERS} --days ${DAYS}`,
  ];
  return lines.join('\n');
}
