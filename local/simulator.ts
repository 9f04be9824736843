import { forEachLimited } from '../functions/adapters/user-repository.ts';
import type { RecallChannel } from '../functions/domain/assessment.ts';
import type { HistoryEvent } from '../functions/domain/history.ts';
import { MS_PER_DAY, MS_PER_HOUR, toMillis } from '../functions/domain/time.ts';
import type { SendStepInput, SendStepResult } from '../functions/use-cases/recall-steps.ts';
import { recordActivity } from '../functions/use-cases/record-activity.ts';
import type { SeededHistory } from './commands/seed-history.ts';
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

  private history: SeededHistory | undefined;
  naturalEvents = 0;

  /**
   * Plays the seeded base's own behaviour on the live days: the logins, investments and balance
   * changes the behaviour model drew for each user go through the store as the app's backend would
   * send them, an hour's worth at a time.
   */
  follow(history: SeededHistory): void {
    this.history = history;
  }

  private scheduleNaturalDay(fromMs: number): void {
    const history = this.history;
    if (!history) return;
    const byHour = new Map<number, { userId: string; index: number; event: HistoryEvent }[]>();
    for (let i = 0; i < history.users.length; i++) {
      const userId = history.users[i]!.userId;
      history.events.takeBefore(i, fromMs + MS_PER_DAY, (event) => {
        const hour = Math.floor((event.atMs - fromMs) / MS_PER_HOUR) + 1;
        const list = byHour.get(hour) ?? [];
        list.push({ userId, index: i, event });
        byHour.set(hour, list);
      });
    }
    for (const [hour, batch] of byHour) {
      const at = new Date(fromMs + hour * MS_PER_HOUR).toISOString();
      void this.rt.clock.until(at).then(() =>
        this.rt.clock.track(async () => {
          const users = this.rt.users;
          await forEachLimited(batch, 16, async ({ userId, index, event }) => {
            const at = new Date(event.atMs).toISOString();
            if (event.type === 'login') await users.advanceTime(userId, 'lastLoginAt', at);
            else if (event.type === 'balance') await users.setBalance(userId, event.balanceFen, at);
            else {
              await users.addInvestment(
                userId,
                event.amountFen,
                event.bonusRate,
                `nat-${index}-${event.atMs}`,
              );
              await users.advanceTime(userId, 'lastInvestAt', at);
            }
            this.naturalEvents++;
          });
        }),
      );
    }
  }

  /** Organic returns for the users being watched, and the base's own behaviour; called once per simulated day. */
  dailyOrganicReturns(day: string): void {
    const now = this.rt.clock.nowMs();
    this.scheduleNaturalDay(now);
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
