import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A clock that only moves when told to. Workflow waits, schedules and "now" in the local runtime read
 * from it, so a test or the CLI can replay days of activity in milliseconds, deterministically.
 *
 * How "work has settled" is detected (see `settle()`):
 * - Work that awaits real I/O (a Lambda handler talking to dynalite, for instance) is invisible to the
 *   event loop heuristics below, so it must be registered with `hold()` / `track()`. The workflow engine
 *   does this for every task invocation. While anything is held, `settle()` waits for it.
 * - Everything else (promise chains, the state machine interpreter, event log consumers) runs on
 *   microtasks or the next few macrotasks. `settle()` therefore waits until `QUIET_TURNS` consecutive
 *   `setImmediate` turns pass with nothing held and no clock activity (no waiter registered or woken).
 * - Nothing here uses real timers, and the turn helper comes from `node:timers/promises` rather than the
 *   global, so `vi.useFakeTimers()` in a test does not freeze the clock's own bookkeeping.
 */
const QUIET_TURNS = 3;

interface Waiter {
  at: number;
  seq: number;
  resolve: () => void;
  detach?: () => void;
}

export class SimulatedClock {
  #now: number;
  #seq = 0;
  // Sorted by (at, seq): wake order is time order, ties in registration order.
  #waiters: Waiter[] = [];
  #busy = 0;
  // Bumped whenever something happens that settle() must not mistake for quiet.
  #activity = 0;
  #busyListeners: Array<() => void> = [];
  // Serializes advanceTo calls so two drivers cannot interleave wake-ups.
  #advancing: Promise<void> = Promise.resolve();

  constructor(start: Date | string | number = Date.UTC(2026, 0, 1)) {
    this.#now = toMs(start);
  }

  now(): Date {
    return new Date(this.#now);
  }

  nowMs(): number {
    return this.#now;
  }

  nowIso(): string {
    return new Date(this.#now).toISOString();
  }

  /** Resolves once simulated time reaches `at` (immediately if it already has). Rejects if `signal` aborts first. */
  until(at: Date | string | number, signal?: AbortSignal): Promise<void> {
    const atMs = toMs(at);
    if (atMs <= this.#now) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { at: atMs, seq: this.#seq++, resolve };
      if (signal) {
        const onAbort = () => {
          this.#remove(waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.#insert(waiter);
    });
  }

  /**
   * Moves time forward to `at`, stopping at every waiter on the way: time is set to that waiter's
   * time, it is woken (with every other waiter due at that same instant), and the work they start
   * settles before the next time is considered. Work that a woken task schedules for a time before
   * `at` is therefore woken at its own time, in order.
   */
  advanceTo(at: Date | string | number): Promise<void> {
    const target = toMs(at);
    const run = this.#advancing.then(() => this.#advance(target));
    this.#advancing = run.catch(() => undefined);
    return run;
  }

  advanceBy(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`advanceBy expects a non-negative number, got ${ms}`);
    // Chain on the queue so "by" is measured from where earlier advances leave the clock.
    const run = this.#advancing.then(() => this.#advance(this.#now + ms));
    this.#advancing = run.catch(() => undefined);
    return run;
  }

  /** Number of registered waiters. */
  pending(): number {
    return this.#waiters.length;
  }

  /** Time of the earliest waiter, if any: lets a driver fast-forward "until nothing is left to do". */
  nextWake(): Date | undefined {
    const first = this.#waiters[0];
    return first ? new Date(first.at) : undefined;
  }

  /** Number of outstanding holds. */
  busy(): number {
    return this.#busy;
  }

  /** Marks real (I/O-bound) work as in flight so settle() waits for it. Returns an idempotent release. */
  hold(): () => void {
    this.#setBusy(this.#busy + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#setBusy(this.#busy - 1);
    };
  }

  /** Holds the clock while `work` runs. */
  async track<T>(work: Promise<T> | (() => Promise<T>)): Promise<T> {
    const release = this.hold();
    try {
      return await (typeof work === 'function' ? work() : work);
    } finally {
      release();
    }
  }

  /**
   * Resolves when no woken work is still runnable: nothing is held, and `QUIET_TURNS` consecutive
   * macrotask turns pass without a waiter being registered or woken. Work that awaits real I/O without
   * `hold()` is not seen; a held task that itself awaits `until()` would never settle, so task handlers
   * must not wait on the clock.
   */
  async settle(): Promise<void> {
    let quiet = 0;
    while (quiet < QUIET_TURNS) {
      if (this.#busy > 0) {
        await new Promise<void>((resolve) => this.#busyListeners.push(resolve));
        quiet = 0;
        continue;
      }
      const before = this.#activity;
      await nextTurn();
      quiet = this.#activity === before && this.#busy === 0 ? quiet + 1 : 0;
    }
  }

  async #advance(target: number): Promise<void> {
    // Let work started before this call reach its next wait, so its wait is measured from "now".
    await this.settle();
    for (;;) {
      const next = this.#waiters[0];
      if (!next || next.at > target) break;
      // Everything due at the same instant wakes together (in registration order) and settles once:
      // recalls started by one scan wait until the same times, and waking them one by one made the
      // embedded runtime run its executions one at a time.
      let due = 1;
      while (due < this.#waiters.length && this.#waiters[due]!.at === next.at) due++;
      const batch = this.#waiters.splice(0, due);
      if (next.at > this.#now) this.#now = next.at;
      this.#activity++;
      for (const waiter of batch) {
        waiter.detach?.();
        waiter.resolve();
      }
      await this.settle();
    }
    if (target > this.#now) this.#now = target;
  }

  #insert(waiter: Waiter): void {
    // Binary search keeps insertion O(log n) to find the slot; there can be thousands of waiting executions.
    let lo = 0;
    let hi = this.#waiters.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.#waiters[mid]!;
      if (other.at < waiter.at || (other.at === waiter.at && other.seq < waiter.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#waiters.splice(lo, 0, waiter);
    this.#activity++;
  }

  #remove(waiter: Waiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
    this.#activity++;
  }

  #setBusy(n: number): void {
    this.#busy = n;
    this.#activity++;
    const listeners = this.#busyListeners;
    this.#busyListeners = [];
    for (const listener of listeners) listener();
  }
}

function toMs(at: Date | string | number): number {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : at;
  if (!Number.isFinite(ms)) throw new RangeError(`Invalid simulated time: ${String(at)}`);
  return ms;
}
