import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assess, ESCALATION, type RecallChannel } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../functions/domain/policy.ts';
import { MS_PER_DAY } from '../../functions/domain/time.ts';
import {
  CHURN_REASONS,
  KNOWN_CHANNELS,
  parseUserRecord,
  type UserRecord,
} from '../../functions/domain/user.ts';
import { AS_OF, aUser } from '../support/fixtures.ts';

const NOW = AS_OF.getTime();
const iso = (ms: number) => new Date(ms).toISOString();

const fenArb = (max: number, edges: number[]) =>
  fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max }));

/** A point between registration and AS_OF, or none. */
const sinceArb = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined });

/**
 * Arbitrary valid users as of AS_OF: schema-valid, and with logins and investments no earlier than
 * registration. Thresholds of the default policy are over-represented.
 */
const userArb: fc.Arbitrary<UserRecord> = fc
  .record({
    registeredAt: fc.integer({ min: NOW - 1500 * MS_PER_DAY, max: NOW }),
    login: sinceArb,
    invest: sinceArb,
    investCount: fc.oneof(fc.constantFrom(0, 2, 3, 10), fc.nat({ max: 500 })),
    maxInvestFen: fenArb(100_000_000, [0, 999_999, 1_000_000]),
    totalInvestedFen: fenArb(200_000_000, [0, 9_999_999, 10_000_000, 50_000_000]),
    balanceFen: fenArb(50_000_000, [0, 9_999, 10_000, 1_000_000]),
    heldBonusProduct: fc.boolean(),
    channel: fc.constantFrom(...KNOWN_CHANNELS, 'partner-x'),
    consent: fc.record({ inApp: fc.boolean(), push: fc.boolean(), sms: fc.boolean() }),
    phone: fc.option(fc.constant('+8613800138000'), { nil: undefined }),
    churnReason: fc.option(fc.constantFrom(...CHURN_REASONS), { nil: undefined }),
  })
  .map(({ registeredAt, login, invest, ...rest }) =>
    aUser({
      ...rest,
      registeredAt: iso(registeredAt),
      lastLoginAt:
        login === undefined ? undefined : iso(registeredAt + Math.floor(login * (NOW - registeredAt))),
      lastInvestAt:
        invest === undefined ? undefined : iso(registeredAt + Math.floor(invest * (NOW - registeredAt))),
    }),
  );

const extraMsArb = fc.integer({ min: 1, max: 400 * MS_PER_DAY });
const score = (user: UserRecord, asOf: Date = AS_OF) => assess(user, DEFAULT_POLICY, asOf).score;
const effectiveLoginMs = (user: UserRecord) => Date.parse(user.lastLoginAt ?? user.registeredAt);

describe('assess: properties over arbitrary valid users', () => {
  it('the generator yields valid user records', () => {
    fc.assert(
      fc.property(userArb, (user) => {
        expect(parseUserRecord(user).ok).toBe(true);
      }),
    );
  });

  it('the score is an integer from 0 to 100 and the verdict is consistent', () => {
    fc.assert(
      fc.property(userArb, (user) => {
        const a = assess(user, DEFAULT_POLICY, AS_OF);
        expect(Number.isInteger(a.score)).toBe(true);
        expect(a.score).toBeGreaterThanOrEqual(0);
        expect(a.score).toBeLessThanOrEqual(100);
        expect(a.userId).toBe(user.userId);
        expect(a.level === 'none').toBe(a.status === 'active');
        if (a.status === 'active') expect(a.plan).toEqual({ channels: [], strategies: [] });
        else expect(a.plan.strategies.length).toBeGreaterThan(0);
        const reachable = (c: RecallChannel) =>
          c === 'in_app'
            ? user.consent.inApp
            : c === 'push'
              ? user.consent.push && user.pushAddress !== undefined
              : user.consent.sms && user.phone !== undefined;
        // High risk goes by SMS alone when SMS can reach the user, else falls back to what can.
        const all = ESCALATION.filter(reachable);
        const expected = a.level === 'high' && all.includes('sms') ? ['sms'] : all;
        if (a.status !== 'active') expect(a.plan.channels).toEqual(expected);
      }),
    );
  });

  it('the score stays within 0–100 under any weights', () => {
    const weightArb = fc.double({ min: 0, max: 1000, noNaN: true });
    const weightsArb = fc.record({
      loginInactivity: weightArb,
      investInactivity: weightArb,
      lowBalance: weightArb,
      fewInvestments: weightArb,
      smallInvestments: weightArb,
      channel: weightArb,
      highValueLapsed: weightArb,
    });
    fc.assert(
      fc.property(userArb, weightsArb, (user, weights) => {
        const s = assess(user, parsePolicy({ score: { weights } }), AS_OF).score;
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(100);
      }),
    );
  });

  it('an older last login never lowers the score', () => {
    fc.assert(
      fc.property(userArb, extraMsArb, (user, extra) => {
        const older = { ...user, lastLoginAt: iso(effectiveLoginMs(user) - extra) };
        expect(score(older)).toBeGreaterThanOrEqual(score(user));
      }),
    );
  });

  it('an older last investment never lowers the score', () => {
    fc.assert(
      fc.property(userArb, extraMsArb, (user, extra) => {
        fc.pre(user.lastInvestAt !== undefined);
        const older = { ...user, lastInvestAt: iso(Date.parse(user.lastInvestAt!) - extra) };
        expect(score(older)).toBeGreaterThanOrEqual(score(user));
      }),
    );
  });

  it('forgetting the last login or investment (counting from registration) never lowers the score', () => {
    fc.assert(
      fc.property(userArb, (user) => {
        expect(score({ ...user, lastLoginAt: undefined })).toBeGreaterThanOrEqual(score(user));
        expect(score({ ...user, lastInvestAt: undefined })).toBeGreaterThanOrEqual(score(user));
      }),
    );
  });

  it('a later asOf never lowers the score', () => {
    fc.assert(
      fc.property(userArb, extraMsArb, (user, extra) => {
        expect(score(user, new Date(NOW + extra))).toBeGreaterThanOrEqual(score(user));
      }),
    );
  });

  it('a lower balance never lowers the score', () => {
    fc.assert(
      fc.property(userArb, fc.double({ min: 0, max: 1, noNaN: true }), (user, share) => {
        const lower = { ...user, balanceFen: Math.floor(user.balanceFen * share) };
        expect(score(lower)).toBeGreaterThanOrEqual(score(user));
      }),
    );
  });

  it('a churned user stays churned at any later asOf', () => {
    fc.assert(
      fc.property(userArb, extraMsArb, (user, extra) => {
        fc.pre(assess(user, DEFAULT_POLICY, AS_OF).status === 'churned');
        expect(assess(user, DEFAULT_POLICY, new Date(NOW + extra)).status).toBe('churned');
      }),
    );
  });
});
