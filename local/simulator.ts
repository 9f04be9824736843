import type { RecallChannel } from '../functions/domain/assessment.ts';
import { MS_PER_DAY, MS_PER_HOUR, toMillis } from '../functions/domain/time.ts';
import type { SendStepInput, SendStepResult } from '../functions/use-cases/recall-steps.ts';
import { recordActivity } from '../functions/use-cases/record-activity.ts';
import type { Runtime } from './runtime.ts';

/**
 * Simulated users for the demo: deterministic in the seed, they come back after a message with a
 * plausible probability per channel, and a few come back on their own (which is what the holdout
 * group measures). A comeback is a login, sometimes with an investment large enough to unlock a reward.
 */
export const COMEBACK_CHANCE: Record<RecallChannel, number> = { in_app: 0.1, push: 0.12, sms: 0.16 };
export const ORGANIC_DAILY_CHANCE = 0.012;
export const INVEST_ON_RETURN_CHANCE = 0.45;

function hashUnit(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 0x1_0000_0000;
}

export class UserSimulator {
  private readonly watched = new Map<string, number>();
  private readonly scheduled = new Set<string>();
  comebacks = 0;

  constructor(
    private readonly rt: Runtime,
    private readonly seed: number,
  ) {
    rt.observers.push({
      onSent: (result, input) => this.afterMessage(result, input),
      onClosed: (closed) => {
        // Holdout users get no message; they may still come back on their own within the window.
        if (closed.holdout) this.watched.set(closed.userId, toMillis(closed.closedAt) + 12 * MS_PER_DAY);
      },
    });
  }

  private afterMessage(result: SendStepResult, input: SendStepInput): void {
    if (result.result !== 'sent') return;
    this.watched.set(input.userId, toMillis(result.at) + 12 * MS_PER_DAY);
    const roll = hashUnit(this.seed, `${input.recallId}|${input.channel}`);
    if (roll >= COMEBACK_CHANCE[input.channel]) return;
    const hours = 1 + Math.floor(hashUnit(this.seed, `${input.recallId}|${input.channel}|h`) * 30);
    this.comeBack(
      input.userId,
      toMillis(result.at) + hours * MS_PER_HOUR,
      `${input.recallId}-${input.channel}`,
    );
  }

  /** Organic returns for the users being watched; called once per simulated day. */
  dailyOrganicReturns(day: string): void {
    const now = this.rt.clock.nowMs();
    for (const [userId, until] of this.watched) {
      if (now > until) {
        this.watched.delete(userId);
        continue;
      }
      if (hashUnit(this.seed, `${userId}|${day}|organic`) < ORGANIC_DAILY_CHANCE) {
        const hours = 2 + Math.floor(hashUnit(this.seed, `${userId}|${day}|h`) * 20);
        this.comeBack(userId, now + hours * MS_PER_HOUR, `${userId}-${day}-organic`);
      }
    }
  }

  private comeBack(userId: string, atMs: number, key: string): void {
    if (this.scheduled.has(key)) return;
    this.scheduled.add(key);
    const at = new Date(atMs).toISOString();
    const invest = hashUnit(this.seed, `${key}|invest`) < INVEST_ON_RETURN_CHANCE;
    const amountFen = (1 + Math.floor(hashUnit(this.seed, `${key}|amount`) * 30)) * 100_000;
    void this.rt.clock.until(at).then(() =>
      this.rt.clock.track(async () => {
        const deps = this.rt.activityDeps;
        await recordActivity({ eventId: `sim-${key}-login`, userId, type: 'login', at }, deps);
        if (invest) {
          await recordActivity(
            {
              eventId: `sim-${key}-invest`,
              userId,
              type: 'investment',
              at,
              amountFen,
              productId: 'demo-fund',
              bonusRate: false,
            },
            deps,
          );
        }
        this.comebacks++;
      }),
    );
  }
}
