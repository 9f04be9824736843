import { describe, expect, it } from 'vitest';
import { assess } from '../../functions/domain/assessment.ts';
import { applyEvent, registeredBy } from '../../functions/domain/history.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import {
  dayInZone,
  dayNumber,
  dayOfNumber,
  feedbackRow,
  scanInstant,
  snapshotRow,
} from '../../functions/domain/snapshot.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

const CONTRACT_KEYS = [
  'day',
  'dayNumber',
  'userId',
  'status',
  'level',
  'score',
  'lifecycle',
  'channel',
  'reasonCodes',
  'registeredMonth',
  'investCount',
  'maxInvestFen',
  'totalInvestedFen',
  'balanceFen',
  'heldBonusProduct',
  'daysSinceLogin',
  'daysSinceInvest',
  'churnReason',
];

describe('day numbers', () => {
  it.each([
    ['1970-01-01', 0],
    ['1970-01-02', 1],
    ['2026-11-24', 20781],
    ['2024-03-01', 19783],
  ])('%s is day %i', (day, n) => {
    expect(dayNumber(day)).toBe(n);
    expect(dayOfNumber(n)).toBe(day);
  });

  it('refuses what is not a real day', () => {
    expect(() => dayNumber('2026-02-30')).toThrow(/real day/);
    expect(() => dayNumber('24/11/2026')).toThrow(/YYYY-MM-DD/);
  });

  it('names the day in the scan time zone, not in UTC', () => {
    // 17:00 UTC is already the next morning in Shanghai.
    expect(dayInZone(Date.parse('2026-11-23T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-24');
    expect(dayInZone(Date.parse('2026-11-23T17:00:00Z'), 'UTC')).toBe('2026-11-23');
  });

  it('finds the UTC instant of a local scan time, across a clock change', () => {
    expect(new Date(scanInstant('2026-11-24', '09:00', 'Asia/Shanghai')).toISOString()).toBe(
      '2026-11-24T01:00:00.000Z',
    );
    expect(new Date(scanInstant('2026-07-01', '09:00', 'America/New_York')).toISOString()).toBe(
      '2026-07-01T13:00:00.000Z',
    );
    expect(new Date(scanInstant('2026-12-01', '09:00', 'America/New_York')).toISOString()).toBe(
      '2026-12-01T14:00:00.000Z',
    );
  });
});

describe('snapshotRow', () => {
  it('has exactly the contract keys and no contact details', () => {
    const user = aUser({ birthday: '1990-01-01', preferredProducts: ['gold'] });
    const row = snapshotRow(user, assess(user, DEFAULT_POLICY, AS_OF), AS_OF, 'Asia/Shanghai');
    expect(Object.keys(row).sort()).toEqual([...CONTRACT_KEYS].sort());
    const text = JSON.stringify(row);
    expect(text).not.toContain(user.phone);
    expect(text).not.toContain(user.pushAddress);
  });

  it('carries what the assessment saw and concluded', () => {
    const user = aUser({
      userId: 'u-7',
      channel: 'distribution',
      registeredAt: '2026-03-15T10:00:00.000Z',
      lastLoginAt: daysBefore(AS_OF, 31),
      lastInvestAt: daysBefore(AS_OF, 40),
      investCount: 2,
      maxInvestFen: 50_000,
      totalInvestedFen: 80_000,
      balanceFen: 0,
      churnReason: 'economic',
    });
    const assessment = assess(user, DEFAULT_POLICY, AS_OF);
    const row = snapshotRow(user, assessment, AS_OF, 'Asia/Shanghai');
    expect(row).toMatchObject({
      day: '2026-11-24',
      dayNumber: 20781,
      userId: 'u-7',
      status: 'churned',
      level: assessment.level,
      score: assessment.score,
      lifecycle: 'growth',
      channel: 'distribution',
      registeredMonth: '2026-03',
      investCount: 2,
      maxInvestFen: 50_000,
      totalInvestedFen: 80_000,
      balanceFen: 0,
      heldBonusProduct: false,
      daysSinceLogin: 31,
      daysSinceInvest: 40,
      churnReason: 'economic',
    });
    expect(row.reasonCodes).toEqual(assessment.reasons.map((r) => r.code));
    expect(row.reasonCodes).toContain('inactive_login');
  });

  it('writes null for a user who never invested and gave no reason', () => {
    const user = aUser({ lastInvestAt: undefined, investCount: 0, maxInvestFen: 0, totalInvestedFen: 0 });
    const row = snapshotRow(user, assess(user, DEFAULT_POLICY, AS_OF), AS_OF, 'Asia/Shanghai');
    expect(row.daysSinceInvest).toBeNull();
    expect(row.churnReason).toBeNull();
  });

  it('counts days since login from registration when the user never logged in', () => {
    const user = aUser({ registeredAt: daysBefore(AS_OF, 12), lastLoginAt: undefined });
    expect(snapshotRow(user, assess(user, DEFAULT_POLICY, AS_OF), AS_OF, 'UTC').daysSinceLogin).toBe(12);
  });
});

describe('feedbackRow', () => {
  it('gets a deterministic id and the UTC day of the answer', () => {
    const row = feedbackRow('u-1', 'economic', ['fees'], '2026-11-24T23:30:00.000Z');
    expect(row).toEqual({
      day: '2026-11-24',
      dayNumber: 20781,
      userId: 'u-1',
      feedbackId: 'u-1-20261124233000000',
      churnReason: 'economic',
      issues: ['fees'],
      at: '2026-11-24T23:30:00.000Z',
    });
    expect(feedbackRow('u-1', 'other', [], '2026-11-24T23:30:00.000Z').feedbackId).toBe(row.feedbackId);
  });
});

describe('applyEvent', () => {
  it('moves times forward only, adds investments and keeps the latest balance', () => {
    const user = aUser({
      lastLoginAt: '2026-11-10T00:00:00.000Z',
      lastInvestAt: undefined,
      investCount: 0,
      maxInvestFen: 0,
      totalInvestedFen: 0,
      balanceFen: 500,
    });
    applyEvent(user, { type: 'login', atMs: Date.parse('2026-11-01T00:00:00Z') });
    expect(user.lastLoginAt).toBe('2026-11-10T00:00:00.000Z');
    applyEvent(user, {
      type: 'investment',
      atMs: Date.parse('2026-11-12T00:00:00Z'),
      amountFen: 300,
      bonusRate: false,
    });
    applyEvent(user, {
      type: 'investment',
      atMs: Date.parse('2026-11-13T00:00:00Z'),
      amountFen: 900,
      bonusRate: true,
    });
    applyEvent(user, { type: 'balance', atMs: Date.parse('2026-11-14T00:00:00Z'), balanceFen: 1_700 });
    expect(user).toMatchObject({
      investCount: 2,
      totalInvestedFen: 1_200,
      maxInvestFen: 900,
      heldBonusProduct: true,
      lastInvestAt: '2026-11-13T00:00:00.000Z',
      balanceFen: 1_700,
    });
  });

  it('registers a user strictly before the scan instant', () => {
    const user = aUser({ registeredAt: '2026-11-24T01:00:00.000Z' });
    expect(registeredBy(user, Date.parse('2026-11-24T01:00:00Z'))).toBe(false);
    expect(registeredBy(user, Date.parse('2026-11-24T01:00:00.001Z'))).toBe(true);
  });
});
