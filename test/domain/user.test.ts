import { describe, expect, it } from 'vitest';
import {
  describeIssues,
  formatIssues,
  maskPhone,
  parseUserProfile,
  parseUserRecord,
  UserProfileSchema,
} from '../../functions/domain/user.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

/** The smallest profile the API accepts: every required field and nothing else. */
const minimalProfile = () => ({
  userId: 'u-42',
  channel: 'invite',
  registeredAt: '2026-01-01T00:00:00Z',
  investCount: 0,
  maxInvestFen: 0,
  totalInvestedFen: 0,
  balanceFen: 0,
  heldBonusProduct: false,
});

const parsers = [
  { name: 'parseUserRecord', parse: parseUserRecord },
  { name: 'parseUserProfile', parse: parseUserProfile },
];

describe('fixtures', () => {
  it('aUser() is a valid record and a valid profile', () => {
    expect(parseUserRecord(aUser())).toEqual({ ok: true, value: aUser() });
    expect(parseUserProfile(aUser())).toEqual({ ok: true, value: aUser() });
  });

  it('aUser applies overrides and daysBefore counts back from asOf', () => {
    expect(aUser({ userId: 'other', balanceFen: 1 })).toMatchObject({
      userId: 'other',
      balanceFen: 1,
      channel: 'organic',
    });
    expect(daysBefore(AS_OF, 1)).toBe('2026-11-23T01:00:00.000Z');
    expect(daysBefore(AS_OF, 30, 23)).toBe('2026-10-25T23:00:00.000Z');
  });
});

describe.each(parsers)('$name', ({ parse }) => {
  it('fills in the defaults: Asia/Shanghai, zh-CN, in-app consent only', () => {
    const result = parse(minimalProfile());
    expect(result).toEqual({
      ok: true,
      value: {
        ...minimalProfile(),
        // Times come back normalized to UTC with milliseconds.
        registeredAt: '2026-01-01T00:00:00.000Z',
        timeZone: 'Asia/Shanghai',
        locale: 'zh-CN',
        consent: { inApp: true, push: false, sms: false },
      },
    });
  });

  it('keeps the optional fields it is given', () => {
    const full = aUser({
      timeZone: 'America/New_York',
      locale: 'en',
      birthday: '1990-12-01',
      churnReason: 'natural',
      preferredProducts: ['fund-a'],
    });
    expect(parse(full)).toEqual({ ok: true, value: full });
  });

  it.each([
    {
      field: 'consent.sms',
      value: { consent: { inApp: true, push: true, sms: 'yes' } },
      message: 'must be true or false',
    },
    { field: 'balanceFen', value: { balanceFen: -1 }, message: 'must not be negative' },
    { field: 'balanceFen', value: { balanceFen: 1.5 }, message: 'must be a whole number of fen' },
    {
      field: 'balanceFen',
      value: { balanceFen: '100' },
      message: 'must be a whole number of fen',
    },
    { field: 'maxInvestFen', value: { maxInvestFen: -5 }, message: 'must not be negative' },
    { field: 'investCount', value: { investCount: 2.5 }, message: expect.any(String) },
    { field: 'userId', value: { userId: 'has space' }, message: 'letters, digits and _ . : - only' },
    {
      field: 'registeredAt',
      value: { registeredAt: '2026-11-24' },
      message: 'must be an ISO-8601 time, e.g. 2026-11-24T09:00:00Z',
    },
    {
      field: 'lastLoginAt',
      value: { lastLoginAt: 'yesterday' },
      message: 'must be an ISO-8601 time, e.g. 2026-11-24T09:00:00Z',
    },
    {
      field: 'timeZone',
      value: { timeZone: 'Mars/Olympus' },
      message: 'must be an IANA time zone, e.g. Asia/Shanghai',
    },
    { field: 'locale', value: { locale: 'fr' }, message: expect.stringContaining('must be one of') },
    { field: 'phone', value: { phone: '13800138000' }, message: 'must be an E.164 phone number' },
    { field: 'birthday', value: { birthday: '1990-13-01' }, message: 'must be a date YYYY-MM-DD' },
    {
      field: 'churnReason',
      value: { churnReason: 'bored' },
      message: expect.stringContaining('must be one of'),
    },
    { field: 'preferredProducts.0', value: { preferredProducts: [''] }, message: expect.any(String) },
  ])('reports $field for $value', ({ field, value, message }) => {
    expect(parse({ ...aUser(), ...value })).toEqual({ ok: false, issues: [{ field, message }] });
  });

  it('reports a missing required field', () => {
    const { investCount: _, ...missing } = aUser();
    expect(parse(missing)).toEqual({
      ok: false,
      issues: [{ field: 'investCount', message: 'required' }],
    });
  });

  it('reports a record that is not an object at (record)', () => {
    expect(parse('user-1')).toEqual({
      ok: false,
      issues: [{ field: '(record)', message: 'must be an object' }],
    });
  });
});

describe('parseUserProfile', () => {
  it('rejects an unknown consent channel given through the API', () => {
    const result = parseUserProfile({
      ...aUser(),
      consent: { inApp: true, push: true, sms: true, fax: true },
    });
    expect(result).toEqual({ ok: false, issues: [{ field: 'consent.fax', message: 'unknown field' }] });
  });
  it('rejects unknown fields', () => {
    expect(parseUserProfile({ ...aUser(), vipLevel: 3 })).toEqual({
      ok: false,
      issues: [{ field: 'vipLevel', message: 'unknown field' }],
    });
  });

  it('rejects the fields winback maintains itself', () => {
    expect(parseUserProfile({ ...aUser(), activeRecallId: 'r-1' })).toEqual({
      ok: false,
      issues: [{ field: 'activeRecallId', message: 'unknown field' }],
    });
  });
});

describe('parseUserRecord', () => {
  it('tolerates unknown stored attributes', () => {
    const result = parseUserRecord({ ...aUser(), vipLevel: 3, writtenBy: 'winback@2' });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value).toMatchObject(aUser());
  });

  it('tolerates an unknown attribute inside consent, written by a newer writer', () => {
    const result = parseUserRecord({
      ...aUser(),
      consent: { inApp: true, push: true, sms: true, email: true },
    });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value.consent).toMatchObject({ inApp: true, push: true, sms: true });
  });

  it('reads the attributes winback maintains', () => {
    const stored = {
      ...aUser(),
      assessment: {
        status: 'at_risk',
        level: 'low',
        score: 42,
        lifecycle: 'mature',
        reasons: [{ code: 'inactive_login', value: 10, threshold: 7 }],
        assessedAt: '2026-11-24T01:00:00.000Z',
      },
      activeRecallId: 'r-1',
      lastRecallClosedAt: '2026-10-01T08:00:00+08:00',
      lastRecallOutcome: 'returned',
      relapseWatchUntil: '2026-10-31T00:00:00Z',
      updatedAt: '2026-11-24T01:00:00Z',
    };
    // Every time comes back in one form, UTC with milliseconds, whatever offset it was written with.
    expect(parseUserRecord(stored)).toEqual({
      ok: true,
      value: {
        ...stored,
        lastRecallClosedAt: '2026-10-01T00:00:00.000Z',
        relapseWatchUntil: '2026-10-31T00:00:00.000Z',
        updatedAt: '2026-11-24T01:00:00.000Z',
      },
    });
  });

  it('reports a bad stored assessment by its path', () => {
    const stored = {
      ...aUser(),
      assessment: {
        status: 'gone',
        level: 'low',
        score: 1,
        lifecycle: 'mature',
        reasons: [],
        assessedAt: 'x',
      },
    };
    const result = parseUserRecord(stored);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues.map((i) => i.field)).toEqual(['assessment.status', 'assessment.assessedAt']);
  });
});

describe('issues', () => {
  it('describeIssues and formatIssues give field: message pairs', () => {
    const result = UserProfileSchema.safeParse({
      ...aUser(),
      balanceFen: -1,
      consent: { inApp: 1, push: true, sms: true },
    });
    expect(result.success).toBe(false);
    if (result.success) return;
    const issues = describeIssues(result.error);
    expect(issues).toEqual([
      { field: 'balanceFen', message: 'must not be negative' },
      { field: 'consent.inApp', message: 'must be true or false' },
    ]);
    expect(formatIssues(issues)).toBe(
      'balanceFen: must not be negative; consent.inApp: must be true or false',
    );
  });
});

describe('maskPhone', () => {
  it.each([
    { phone: '+8613800138000', masked: '+86****8000' },
    { phone: '+12125550123', masked: '+12****0123' },
    { phone: '1234', masked: '****' },
    { phone: '', masked: '****' },
  ])('$phone → $masked', ({ phone, masked }) => {
    expect(maskPhone(phone)).toBe(masked);
  });
});
