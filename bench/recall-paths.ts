import type { RecallChannel } from '../functions/domain/assessment.ts';
import { MS_PER_DAY, MS_PER_HOUR } from '../functions/domain/time.ts';
import type { UserRecord } from '../functions/domain/user.ts';
import { recordActivity } from '../functions/use-cases/record-activity.ts';
import { startRecall } from '../functions/use-cases/start-recall.ts';
import { Runtime } from '../local/runtime.ts';
import { countTaskInvocations, countTransitions } from '../local/workflow-engine.ts';

/** Step Functions Standard: $0.025 per 1,000 state transitions (retries count too). */
export const STANDARD_PRICE_PER_1000_TRANSITIONS = 0.025;

export interface RecallPathFigures {
  path: string;
  stateTransitions: number;
  lambdaInvocations: number;
  costPer1000Recalls: number;
}

const asOf = new Date('2026-11-24T01:00:00Z');

export function user(userId: string, overrides: Partial<UserRecord>): UserRecord {
  return {
    userId,
    channel: 'ads',
    registeredAt: '2026-01-01T00:00:00Z',
    lastLoginAt: '2026-11-14T00:00:00Z',
    lastInvestAt: '2026-10-01T00:00:00Z',
    investCount: 5,
    maxInvestFen: 2_000_000,
    totalInvestedFen: 5_000_000,
    balanceFen: 500_000,
    heldBonusProduct: true,
    timeZone: 'Asia/Shanghai',
    locale: 'zh-CN',
    consent: { inApp: true, push: true, sms: true },
    phone: '+8613800138000',
    pushAddress: 'device-token-1',
    ...overrides,
  };
}

/**
 * Runs one recall per path on the synthesized state machine and reads transitions and Lambda
 * invocations off the local execution history.
 */
export async function recallBench(
  endpoint: string,
): Promise<{ paths: RecallPathFigures[]; pricePer1000Transitions: number }> {
  const rt = await Runtime.start({
    start: asOf,
    endpoint,
    tablePrefix: 'bench_',
    policy: { recall: { holdoutShare: 0 } },
  });
  const scenarios: { path: string; user: UserRecord; returnAfter?: RecallChannel }[] = [
    { path: 'returned after in-app', user: user('p-inapp', {}), returnAfter: 'in_app' },
    { path: 'returned after push', user: user('p-push', {}), returnAfter: 'push' },
    { path: 'returned after SMS', user: user('p-sms', {}), returnAfter: 'sms' },
    { path: 'full escalation', user: user('p-never', {}) },
    {
      path: 'high risk, SMS first',
      user: user('p-high', { lastLoginAt: '2026-11-01T00:00:00Z', balanceFen: 5_000 }),
    },
    {
      path: 'skipped (no consent)',
      user: user('p-skip', { consent: { inApp: false, push: false, sms: false } }),
    },
  ];
  try {
    await rt.users.putMany(scenarios.map((s) => s.user));
    rt.observers.push({
      onSent: async (result, input) => {
        const scenario = scenarios.find((s) => s.user.userId === input.userId);
        if (result.result !== 'sent' || scenario?.returnAfter !== input.channel) return;
        const at = new Date(Date.parse(result.at) + MS_PER_HOUR).toISOString();
        void rt.clock
          .until(at)
          .then(() =>
            rt.clock.track(
              recordActivity(
                { eventId: `bench-${input.userId}`, userId: input.userId, type: 'login', at },
                rt.activityDeps,
              ),
            ),
          );
      },
    });
    for (const s of scenarios) {
      await startRecall(
        {
          userId: s.user.userId,
          trigger: 'scheduled',
          level: 'low',
          at: asOf.toISOString(),
          reasonCodes: [],
          respectCooldown: true,
        },
        rt.startDeps,
      );
    }
    for (let d = 1; d <= 15; d++) await rt.advanceTo(new Date(asOf.getTime() + d * MS_PER_DAY));
    return {
      pricePer1000Transitions: STANDARD_PRICE_PER_1000_TRANSITIONS,
      paths: scenarios.map((s) => {
        const execution = rt.recallWorkflow
          .list()
          .find((e) => (e.input as { userId: string }).userId === s.user.userId);
        if (execution?.status !== 'SUCCEEDED')
          throw new Error(`recall for ${s.path} did not finish: ${execution?.status}`);
        const stateTransitions = countTransitions(execution.history);
        return {
          path: s.path,
          stateTransitions,
          lambdaInvocations: countTaskInvocations(execution.history),
          costPer1000Recalls: stateTransitions * STANDARD_PRICE_PER_1000_TRANSITIONS,
        };
      }),
    };
  } finally {
    await rt.stop();
  }
}
