import { describe, expect, it } from 'vitest';
import { applyEvent } from '../../functions/domain/history.ts';
import { generateHistory, historyInMemory } from '../../local/behaviour.ts';

const from = new Date('2026-07-27T01:00:00Z');
const until = new Date('2026-11-24T01:00:00Z');
const eventsUntil = new Date('2026-12-24T01:00:00Z');
const DAY = 86_400_000;
const histories = [...generateHistory({ count: 2_000, seed: 42, from, until, eventsUntil })];

describe('the behaviour model', () => {
  it('is deterministic in the seed, and user N does not depend on how many are generated', () => {
    const again = [...generateHistory({ count: 50, seed: 42, from, until, eventsUntil })];
    expect(again).toEqual(histories.slice(0, 50));
    const other = [...generateHistory({ count: 50, seed: 43, from, until, eventsUntil })];
    expect(other).not.toEqual(histories.slice(0, 50));
  });

  it('describes each user as of the start of the history and emits only later events, in time order', () => {
    const ids = new Set<string>();
    const wrong: string[] = [];
    for (const { user, events } of histories) {
      if (Date.parse(user.registeredAt) >= until.getTime()) wrong.push(`${user.userId} registers too late`);
      for (const t of [user.lastLoginAt, user.lastInvestAt])
        if (t && Date.parse(t) >= from.getTime()) wrong.push(`${user.userId} profile has later activity`);
      let last = 0;
      for (const e of events) {
        if (e.atMs < Math.max(from.getTime(), Date.parse(user.registeredAt)))
          wrong.push(`${e.eventId} too early`);
        if (e.atMs >= eventsUntil.getTime()) wrong.push(`${e.eventId} too late`);
        if (e.atMs < last) wrong.push(`${e.eventId} out of order`);
        if (ids.has(e.eventId)) wrong.push(`${e.eventId} twice`);
        last = e.atMs;
        ids.add(e.eventId);
      }
    }
    expect(wrong).toEqual([]);
    expect(ids.size).toBeGreaterThan(10_000);
  });

  it('brings engaged users back every 7–15 days (about 6½ at the least, with the session hour drawn), with longer breaks now and then', () => {
    const gaps: number[] = [];
    for (const { events } of histories) {
      const logins = events.filter((e) => e.type === 'login').map((e) => e.atMs);
      for (let i = 1; i < logins.length; i++) gaps.push((logins[i]! - logins[i - 1]!) / DAY);
    }
    expect(Math.min(...gaps)).toBeGreaterThan(6.5);
    const usual = gaps.filter((g) => g <= 15.5).length / gaps.length;
    expect(usual).toBeGreaterThan(0.8);
    expect(usual).toBeLessThan(0.97);
  });

  it('invests, withdraws and returns on its own', () => {
    const all = histories.flatMap((h) => h.events);
    expect(all.filter((e) => e.type === 'investment').length).toBeGreaterThan(1_000);
    // Balance reports that go down are withdrawals.
    let withdrawals = 0;
    for (const { user, events } of histories) {
      let balance = user.balanceFen;
      for (const e of events) {
        if (e.type !== 'balance') continue;
        if (e.balanceFen < balance) withdrawals++;
        balance = e.balanceFen;
      }
    }
    expect(withdrawals).toBeGreaterThan(300);
    // A return: a login after 30+ days away.
    const returns = histories.filter(({ user, events }) => {
      let last = Date.parse(user.lastLoginAt ?? user.registeredAt);
      return events.some((e) => {
        if (e.type !== 'login') return false;
        const away = e.atMs - last > 30 * DAY;
        last = e.atMs;
        return away;
      });
    }).length;
    expect(returns).toBeGreaterThan(20);
  });

  it('hands the backfill an event log that rebuilds the same records the events describe', () => {
    const { users, events } = historyInMemory({ count: 200, seed: 42, from, until });
    const replayed = histories.slice(0, 200).map(({ user, events: list }) => {
      const copy = structuredClone(user);
      for (const e of list) if (e.atMs < until.getTime()) applyEvent(copy, e);
      return copy;
    });
    for (let i = 0; i < users.length; i++) events.applyBefore(i, users[i]!, until.getTime());
    expect(users).toEqual(replayed);
  });
});
