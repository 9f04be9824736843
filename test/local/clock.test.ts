import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../local/clock.ts';

const T0 = '2026-03-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000);

describe('SimulatedClock', () => {
  it('reports the start time and only moves when advanced', async () => {
    const clock = new SimulatedClock(new Date(T0));
    expect(clock.nowIso()).toBe(T0);
    await clock.advanceBy(1500);
    expect(clock.nowIso()).toBe('2026-03-01T00:00:01.500Z');
    await clock.advanceTo(at(0));
    expect(clock.nowIso()).toBe('2026-03-01T00:00:01.500Z');
  });

  it('resolves until() at once for a time already reached', async () => {
    const clock = new SimulatedClock(new Date(T0));
    await clock.until(T0);
    await clock.until(at(-10));
    expect(clock.pending()).toBe(0);
  });

  it('wakes waiters in time order, each at its own time', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const woke: string[] = [];
    for (const s of [30, 10, 20]) {
      void clock.until(at(s)).then(() => woke.push(`${s}@${clock.nowIso()}`));
    }
    expect(clock.pending()).toBe(3);
    expect(clock.nextWake()?.toISOString()).toBe(at(10).toISOString());
    await clock.advanceBy(25_000);
    expect(woke).toEqual([`10@${at(10).toISOString()}`, `20@${at(20).toISOString()}`]);
    expect(clock.pending()).toBe(1);
    await clock.advanceBy(60_000);
    expect(woke).toHaveLength(3);
    expect(clock.nowIso()).toBe(at(85).toISOString());
  });

  it('wakes every waiter due at one instant together, so their I/O overlaps', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const log: string[] = [];
    // Each woken task holds the clock while it "talks to the store"; the first lets go only once
    // the second has started, which can only happen when both were woken before settling.
    let secondStarted!: () => void;
    const second = new Promise<void>((resolve) => {
      secondStarted = resolve;
    });
    void clock.until(at(10)).then(() =>
      clock.track(async () => {
        log.push(`first ${clock.nowIso()}`);
        await second;
        log.push('first done');
      }),
    );
    void clock.until(at(10)).then(() =>
      clock.track(async () => {
        log.push(`second ${clock.nowIso()}`);
        secondStarted();
      }),
    );
    void clock.until(at(11)).then(() => log.push(`later ${clock.nowIso()}`));
    await clock.advanceTo(at(20));
    expect(log).toEqual([
      `first ${at(10).toISOString()}`,
      `second ${at(10).toISOString()}`,
      'first done',
      `later ${at(11).toISOString()}`,
    ]);
  });

  it('runs work scheduled by a woken task before the target time at its own time', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const log: string[] = [];
    void (async () => {
      await clock.until(at(10));
      log.push(`a ${clock.nowIso()}`);
      await clock.until(at(15));
      log.push(`b ${clock.nowIso()}`);
    })();
    void clock.until(at(20)).then(() => log.push(`c ${clock.nowIso()}`));
    await clock.advanceTo(at(100));
    expect(log).toEqual([
      `a ${at(10).toISOString()}`,
      `b ${at(15).toISOString()}`,
      `c ${at(20).toISOString()}`,
    ]);
  });

  it('lets woken work doing real I/O finish (under hold) before moving on', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const log: string[] = [];
    void (async () => {
      await clock.until(at(1));
      await clock.track(new Promise((resolve) => setTimeout(resolve, 30)));
      log.push(`io done ${clock.nowIso()}`);
      await clock.until(at(2));
      log.push(`second ${clock.nowIso()}`);
    })();
    await clock.advanceBy(10_000);
    expect(log).toEqual([`io done ${at(1).toISOString()}`, `second ${at(2).toISOString()}`]);
  });

  it('settles work started before an advance, so its waits are measured from the old time', async () => {
    const clock = new SimulatedClock(new Date(T0));
    let wokeAt = '';
    void (async () => {
      await clock.track(new Promise((resolve) => setTimeout(resolve, 20)));
      await clock.until(clock.nowMs() + 5000);
      wokeAt = clock.nowIso();
    })();
    await clock.advanceBy(60_000);
    expect(wokeAt).toBe(at(5).toISOString());
  });

  it('serializes concurrent advances', async () => {
    const clock = new SimulatedClock(new Date(T0));
    await Promise.all([clock.advanceBy(1000), clock.advanceBy(1000)]);
    expect(clock.nowIso()).toBe(at(2).toISOString());
  });

  it('removes a waiter whose signal aborts', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const controller = new AbortController();
    const waiting = clock.until(at(5), controller.signal);
    expect(clock.pending()).toBe(1);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(clock.pending()).toBe(0);
  });

  it('rejects invalid times', () => {
    const clock = new SimulatedClock(new Date(T0));
    expect(() => clock.until('not a date')).toThrow(RangeError);
    expect(() => clock.advanceBy(-1)).toThrow(RangeError);
  });
});
