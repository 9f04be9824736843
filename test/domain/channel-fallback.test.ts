import { describe, expect, it } from 'vitest';
import { assess } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import { routeRecall } from '../../functions/domain/recall.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

// Case 13: a high-risk user who cannot get SMS is still contacted through what they consented to.

const highRisk = {
  lastLoginAt: daysBefore(AS_OF, 20),
  lastInvestAt: daysBefore(AS_OF, 20),
  balanceFen: 5_000,
};

describe('a high-risk user', () => {
  it('without SMS consent falls back to the consented channels, and the plan says so', () => {
    const user = aUser({ ...highRisk, consent: { inApp: true, push: true, sms: false } });
    const assessment = assess(user, DEFAULT_POLICY, AS_OF);

    expect(assessment.level).toBe('high');
    expect(assessment.plan.channels).toEqual(['in_app', 'push']);
    expect(assessment.plan.fallback).toBe('no_sms_consent');
    const routed = routeRecall(assessment.plan, 'high', { holdout: false }, DEFAULT_POLICY, user);
    expect(routed).toMatchObject({
      route: 'escalate',
      channels: ['in_app', 'push'],
      fallback: 'no_sms_consent',
    });
  });

  it('without a phone number falls back too, naming that reason', () => {
    const user = aUser({ ...highRisk, phone: undefined });
    const assessment = assess(user, DEFAULT_POLICY, AS_OF);

    expect(assessment.plan.channels).toEqual(['in_app', 'push']);
    expect(assessment.plan.fallback).toBe('no_phone');
  });

  it('with SMS goes SMS first and has no fallback', () => {
    const user = aUser(highRisk);
    const assessment = assess(user, DEFAULT_POLICY, AS_OF);

    expect(assessment.plan.channels).toEqual(['sms']);
    expect(assessment.plan).not.toHaveProperty('fallback');
    expect(routeRecall(assessment.plan, 'high', { holdout: false }, DEFAULT_POLICY, user).route).toBe(
      'sms_first',
    );
  });
});
