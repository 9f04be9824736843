import { describe, expect, it } from 'vitest';
import {
  bar,
  count,
  duration,
  eta,
  finalLine,
  liveLine,
  Progress,
  type ProgressOut,
  plural,
  rate,
} from '../../local/progress.ts';

function sink(isTTY: boolean): ProgressOut & { text: string } {
  return {
    isTTY,
    columns: 200,
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

/** A clock the test moves by hand, in milliseconds. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('progress formatting', () => {
  it('says 1 user, 2 users, 0 users, and takes irregular plurals', () => {
    expect(plural(1, 'user')).toBe('1 user');
    expect(plural(2, 'user')).toBe('2 users');
    expect(plural(0, 'user')).toBe('0 users');
    expect(plural(12_345, 'user')).toBe('12,345 users');
    expect(plural(2, 'push, SMS or operator message')).toBe('2 push, SMS or operator messages');
    expect(plural(3, 'person', 'people')).toBe('3 people');
    expect(count(1234.4)).toBe('1,234');
  });

  it('prints durations short to long', () => {
    expect(duration(0.42)).toBe('0.4 s');
    expect(duration(12.4)).toBe('12 s');
    expect(duration(185)).toBe('3 min 05 s');
    expect(duration(Number.NaN)).toBe('?');
  });

  it('draws the bar in proportion, clamped at both ends', () => {
    expect(bar(0, 10)).toBe('[..........]');
    expect(bar(0.5, 10)).toBe('[#####.....]');
    expect(bar(1.7, 10)).toBe('[##########]');
    expect(bar(Number.NaN, 4)).toBe('[....]');
  });

  it('gives a rate and an ETA only once there is something to go on', () => {
    expect(rate(0, 1, 'users')).toBe('');
    expect(rate(500, 2, 'users')).toBe('250 users/s');
    expect(eta(0, 100, 1)).toBe('');
    expect(eta(25, 100, 10)).toBe('ETA 30 s');
    expect(eta(100, 100, 10)).toBe('');
    expect(eta(5, undefined, 10)).toBe('');
  });

  it('shows counts, rate and ETA on the live line; a share of a unitless total', () => {
    expect(
      liveLine({ label: 'day 1: daily scan', done: 2_500, total: 10_000, unit: 'users', elapsed: 2 }),
    ).toBe('day 1: daily scan  [######..................]  2,500/10,000 users  1,250 users/s  ETA 6.0 s');
    expect(
      liveLine({ label: 'escalation', done: 40, total: 100, elapsed: 4, detail: '12 recalls running' }),
    ).toBe('escalation  [##########..............]  40%  12 recalls running  ETA 6.0 s');
  });

  it('leaves one summary line per finished phase', () => {
    expect(
      finalLine({ label: 'seeding users', done: 10_000, total: 10_000, unit: 'users', elapsed: 4 }),
    ).toBe('seeding users: 10,000 users, 4.0 s, 2,500 users/s');
    expect(
      finalLine({ label: 'escalation', done: 100, total: 100, elapsed: 2, detail: '3 messages sent' }),
    ).toBe('escalation: 3 messages sent, 2.0 s');
  });
});

describe('Progress', () => {
  it('off a terminal writes exactly one line per phase, however often it is updated', () => {
    const out = sink(false);
    const clock = manualClock();
    const progress = new Progress(out, clock.now);
    const seeding = progress.phase('seeding users', { total: 1000, unit: 'users' });
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      seeding.tick(100);
    }
    seeding.finish();
    const day = progress.phase('day 1: recall escalation', { total: 100 });
    day.update(50, '4 recalls running');
    clock.advance(500);
    day.finish('7 messages sent');
    day.finish('twice');
    expect(out.text).toBe(
      'seeding users: 1,000 users, 1.0 s, 1,000 users/s\nday 1: recall escalation: 7 messages sent, 0.5 s\n',
    );
  });

  it('on a terminal redraws one line in place, at most every 100 ms, and ends it with a newline', () => {
    const out = sink(true);
    const clock = manualClock();
    const phase = new Progress(out, clock.now).phase('scan', { total: 4, unit: 'users' });
    phase.tick();
    clock.advance(50);
    phase.tick(); // too soon: not drawn
    clock.advance(60);
    phase.tick();
    phase.tick(); // 4 of 4, but only 0 ms after the last frame: not drawn, finish() says it
    phase.finish();
    const frames = out.text.split('\r\x1b[2K').filter(Boolean);
    expect(frames).toHaveLength(3);
    expect(frames[0]).toMatch(/^scan {2}\[\.+\] {2}0\/4 users/);
    expect(frames[1]).toMatch(/^scan {2}\[#+\.+\] {2}3\/4 users/);
    expect(frames[2]).toBe('scan: 4 users, 0.1 s, 36 users/s\n');
    expect(out.text.endsWith('\n')).toBe(true);
  });
});
