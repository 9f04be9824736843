import type { UserRecord } from '../../functions/domain/user.ts';

const MS_PER_DAY = 86_400_000;

/** The fixed "now" of the test suite: 09:00 in Asia/Shanghai on 2026-11-24. */
export const AS_OF = new Date('2026-11-24T01:00:00Z');

/**
 * An ISO-8601 UTC time `days` before `asOf`. Without `hour` it is exactly `days` × 24 h earlier,
 * so `wholeDaysBetween` gives back `days`; with `hour` it is that UTC hour (0–23) on the UTC
 * calendar day `days` days before `asOf`, for tests about where in the day a time falls.
 */
export function daysBefore(asOf: Date, days: number, hour?: number): string {
  const at = new Date(asOf.getTime() - days * MS_PER_DAY);
  if (hour !== undefined) at.setUTCHours(hour, 0, 0, 0);
  return at.toISOString();
}

/**
 * A valid, active, mature user as of `AS_OF` under the default policy: logged in and invested a day
 * ago, a healthy balance, many and large enough investments, a low-risk channel, every channel
 * consented and addressable. No warning reason fires, so each test changes only what it is about.
 */
export function aUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    userId: 'user-1',
    channel: 'organic',
    registeredAt: daysBefore(AS_OF, 400),
    lastLoginAt: daysBefore(AS_OF, 1),
    lastInvestAt: daysBefore(AS_OF, 1),
    investCount: 12,
    maxInvestFen: 1_500_000,
    totalInvestedFen: 6_000_000,
    balanceFen: 2_000_000,
    heldBonusProduct: false,
    timeZone: 'Asia/Shanghai',
    locale: 'zh-CN',
    phone: '+8613800138000',
    pushAddress: 'device-token-1',
    consent: { inApp: true, push: true, sms: true },
    ...overrides,
  };
}
