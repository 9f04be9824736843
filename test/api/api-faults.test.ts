import { beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../functions/domain/user.ts';
import { useApiServer } from '../support/api-server.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

// The API under bad or early input: each case of issue 9 that a request can reach.

const api = useApiServer();
const call = api.call;

function profile(overrides: Partial<UserRecord> = {}): Omit<UserRecord, 'userId'> {
  const { userId: _, ...rest } = aUser(overrides);
  return rest;
}

describe('case 11: GET /users/{userId}/inbox with a malformed nextToken', () => {
  beforeAll(async () => {
    await call('PUT', '/users/tok-1', profile());
  });

  it.each(['a', 'AAAA', '_w', 'not-a-token-from-a-page'])(
    'answers 400 naming nextToken for %s',
    async (token) => {
      const reply = await call('GET', `/users/tok-1/inbox?nextToken=${token}`);
      expect(reply.status).toBe(400);
      expect(reply.body.issues[0]).toMatchObject({ in: 'query', field: 'nextToken' });
    },
  );
});

describe('case 12: GET /users/{userId}/assessment before the first scan', () => {
  it('answers 200 with a fresh assessment for a known user', async () => {
    await call('PUT', '/users/early-1', profile({ lastLoginAt: daysBefore(AS_OF, 20) }));
    const reply = await call('GET', '/users/early-1/assessment');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ userId: 'early-1', fresh: true, status: 'at_risk' });
  });

  it('answers 404 only for an unknown user', async () => {
    const reply = await call('GET', '/users/nobody-here/assessment');
    expect(reply.status).toBe(404);
    expect(reply.body.error).toBe('user_not_found');
  });
});

describe('case 4: times after the server clock', () => {
  beforeAll(async () => {
    await call('PUT', '/users/skew-1', profile({ lastLoginAt: daysBefore(AS_OF, 20) }));
  });

  it('refuses an event more than the policy skew ahead with a 400 naming the field', async () => {
    const reply = await call('POST', '/events', {
      events: [
        { eventId: 'skew-ok', userId: 'skew-1', type: 'login', at: AS_OF.toISOString() },
        { eventId: 'skew-far', userId: 'skew-1', type: 'login', at: '9999-12-31T00:00:00Z' },
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.issues).toEqual([expect.objectContaining({ in: 'body', field: 'events.1.at' })]);
    expect((await api.server.runtime.users.get('skew-1'))?.lastLoginAt).toBe(daysBefore(AS_OF, 20));
  });

  it('accepts a time a few minutes ahead (clock skew between servers)', async () => {
    const soon = new Date(api.server.runtime.clock.nowMs() + 5 * 60_000).toISOString();
    const reply = await call('POST', '/events', {
      eventId: 'skew-soon',
      userId: 'skew-1',
      type: 'login',
      at: soon,
    });
    expect(reply.status).toBe(200);
  });

  it('refuses a profile whose times lie in the future', async () => {
    const reply = await call('PUT', '/users/skew-2', profile({ lastLoginAt: '9999-12-31T00:00:00.000Z' }));
    expect(reply.status).toBe(400);
    expect(reply.body.issues).toEqual([expect.objectContaining({ in: 'body', field: 'lastLoginAt' })]);
    expect(await api.server.runtime.users.get('skew-2')).toBeUndefined();
  });
});

describe('case 8: a profile PUT after events', () => {
  it('does not undo counters or a newer balance that events applied', async () => {
    const snapshot = profile({
      investCount: 3,
      totalInvestedFen: 300_000,
      maxInvestFen: 100_000,
      balanceFen: 200_000,
    });
    expect((await call('PUT', '/users/snap-1', snapshot)).status).toBe(201);
    const at = api.server.runtime.clock.nowIso();
    const invest = {
      eventId: 'snap-inv-1',
      userId: 'snap-1',
      type: 'investment',
      at,
      amountFen: 150_000,
      productId: 'p',
      bonusRate: false,
    };
    expect((await call('POST', '/events', invest)).body.results[0].status).toBe('applied');
    const balance = { eventId: 'snap-bal-1', userId: 'snap-1', type: 'balance', at, balanceFen: 350_000 };
    expect((await call('POST', '/events', balance)).body.results[0].status).toBe('applied');

    // The backend's older snapshot arrives after the events.
    expect((await call('PUT', '/users/snap-1', snapshot)).status).toBe(200);

    const stored = await api.server.runtime.users.get('snap-1');
    expect(stored).toMatchObject({
      investCount: 4,
      totalInvestedFen: 450_000,
      maxInvestFen: 150_000,
      balanceFen: 350_000,
    });
    expect((await call('POST', '/events', invest)).body.results[0].status).toBe('duplicate');
  });

  it('moves counters forward when the snapshot knows more', async () => {
    await call(
      'PUT',
      '/users/snap-2',
      profile({ investCount: 3, totalInvestedFen: 300_000, maxInvestFen: 100_000 }),
    );
    await call(
      'PUT',
      '/users/snap-2',
      profile({ investCount: 5, totalInvestedFen: 500_000, maxInvestFen: 200_000 }),
    );
    expect(await api.server.runtime.users.get('snap-2')).toMatchObject({
      investCount: 5,
      totalInvestedFen: 500_000,
      maxInvestFen: 200_000,
    });
  });
});
