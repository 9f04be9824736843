import { beforeAll, describe, expect, it } from 'vitest';
import { assess } from '../../functions/domain/assessment.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { useApiServer } from '../support/api-server.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

// The tests move simulated time themselves (the server's clock is held still).
const api = useApiServer();
const call = api.call;

/** The profile as the app's backend would PUT it: a user record without winback's own attributes. */
function profile(overrides: Partial<UserRecord> = {}): Omit<UserRecord, 'userId'> {
  const { userId: _, ...rest } = aUser(overrides);
  return rest;
}

const rt = () => api.server.runtime;
const stored = async (userId: string) => rt().users.get(userId);

describe('PUT /users/{userId}', () => {
  it('creates (201), then updates (200) keeping what winback maintains', async () => {
    expect((await call('PUT', '/users/put-1', profile())).status).toBe(201);
    const user = (await stored('put-1'))!;
    await rt().users.recordAssessment(assess(user as UserRecord, rt().policy, AS_OF), AS_OF.toISOString());
    await rt().users.openRecall('put-1', 'r-kept');

    const { phone: _, ...withoutPhone } = profile({ balanceFen: 123 });
    const update = await call('PUT', '/users/put-1', {
      ...withoutPhone,
      userId: 'put-1',
      balanceAt: AS_OF.toISOString(),
    });
    expect(update.status).toBe(200);
    expect(update.body).toEqual({ userId: 'put-1', created: false });
    const after = (await stored('put-1'))!;
    expect(after.balanceFen).toBe(123);
    expect(after.phone).toBeUndefined();
    expect(after.activeRecallId).toBe('r-kept');
    expect(after.assessment).toMatchObject({ status: 'active' });
  });

  it('never moves lastLoginAt back through a profile', async () => {
    await call('PUT', '/users/put-2', profile({ lastLoginAt: daysBefore(AS_OF, 1) }));
    await call('PUT', '/users/put-2', profile({ lastLoginAt: daysBefore(AS_OF, 9) }));
    expect((await stored('put-2'))!.lastLoginAt).toBe(daysBefore(AS_OF, 1));
  });

  it('400s with every bad field, writes nothing, and echoes no value', async () => {
    const bad = { ...profile(), phone: '13800138000', investCount: -1, nickname: 'x', userId: 'other' };
    const reply = await call('PUT', '/users/put-bad', bad);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
    expect(reply.body.issues).toEqual(
      expect.arrayContaining([
        { in: 'body', field: 'phone', message: 'must be an E.164 phone number' },
        expect.objectContaining({ in: 'body', field: 'investCount' }),
        { in: 'body', field: 'nickname', message: 'unknown field' },
      ]),
    );
    expect(reply.text).not.toContain('13800138000');
    expect(await stored('put-bad')).toBeUndefined();
  });

  it('400s when the body names another user, and on a bad path id', async () => {
    const other = await call('PUT', '/users/put-3', { ...profile(), userId: 'put-4' });
    expect(other.body.issues).toEqual([
      { in: 'body', field: 'userId', message: 'must equal the userId in the path' },
    ]);
    const path = await call('PUT', '/users/has%20space', profile());
    expect(path.status).toBe(400);
    expect(path.body.issues[0]).toMatchObject({ in: 'path', field: 'userId' });
    expect(await stored('put-3')).toBeUndefined();
  });
});

describe('POST /events', () => {
  // Hours counted from 20 h before the server's (simulated) now: no event lies in its future.
  const at = (hours: number) => new Date(AS_OF.getTime() + (hours - 20) * 3_600_000).toISOString();

  beforeAll(async () => {
    await call(
      'PUT',
      '/users/ev-1',
      profile({ investCount: 2, totalInvestedFen: 50_000, maxInvestFen: 30_000 }),
    );
  });

  it('applies a repeated eventId once', async () => {
    const event = {
      eventId: 'inv-1',
      userId: 'ev-1',
      type: 'investment',
      at: at(1),
      amountFen: 10_000,
      productId: 'p1',
      bonusRate: false,
    };
    expect((await call('POST', '/events', event)).body.results).toEqual([
      { eventId: 'inv-1', status: 'applied', unlockedRewards: [] },
    ]);
    expect((await call('POST', '/events', event)).body.results).toEqual([
      { eventId: 'inv-1', status: 'duplicate' },
    ]);
    expect(await stored('ev-1')).toMatchObject({ investCount: 3, totalInvestedFen: 60_000 });
  });

  it('counts two concurrent investments both', async () => {
    const invest = (eventId: string, amountFen: number) =>
      call('POST', '/events', {
        eventId,
        userId: 'ev-1',
        type: 'investment',
        at: at(2),
        amountFen,
        productId: 'p2',
        bonusRate: true,
      });
    const replies = await Promise.all([invest('inv-2', 1_000), invest('inv-3', 2_000)]);
    expect(replies.map((r) => r.body.results[0].status)).toEqual(['applied', 'applied']);
    expect(await stored('ev-1')).toMatchObject({
      investCount: 5,
      totalInvestedFen: 63_000,
      maxInvestFen: 30_000,
      heldBonusProduct: true,
    });
  });

  it('keeps the newest login when an older one arrives later, and answers per event in a batch', async () => {
    const reply = await call('POST', '/events', {
      events: [
        { eventId: 'login-new', userId: 'ev-1', type: 'login', at: at(5) },
        { eventId: 'login-old', userId: 'ev-1', type: 'login', at: at(3) },
        { eventId: 'bal-1', userId: 'ev-1', type: 'balance', at: at(3), balanceFen: 42 },
        { eventId: 'login-x', userId: 'nobody', type: 'login', at: at(3) },
        { eventId: 'open-x', userId: 'ev-1', type: 'message_opened', at: at(3), messageId: 'none' },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.results.map((r: { status: string }) => r.status)).toEqual([
      'applied',
      'applied',
      'applied',
      'unknown_user',
      'unknown_message',
    ]);
    expect(await stored('ev-1')).toMatchObject({ lastLoginAt: at(5), balanceFen: 42 });
  });

  it('rejects a batch with one bad event whole, naming the field by index', async () => {
    const reply = await call('POST', '/events', {
      events: [
        { eventId: 'ok-1', userId: 'ev-1', type: 'balance', at: at(6), balanceFen: 1 },
        { eventId: 'bad-1', userId: 'ev-1', type: 'investment', at: 'yesterday', amountFen: 1.5 },
      ],
    });
    expect(reply.status).toBe(400);
    const fields = reply.body.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(
      expect.arrayContaining(['events.1.at', 'events.1.amountFen', 'events.1.productId']),
    );
    expect((await stored('ev-1'))!.balanceFen).toBe(42);
    const single = await call('POST', '/events', { eventId: 'e', userId: 'ev-1', type: 'logout', at: at(1) });
    expect(single.body.issues).toEqual([expect.objectContaining({ field: 'type' })]);
  });

  it('400s on malformed JSON, a missing body and more than 100 events; 413 over 64 KB', async () => {
    const malformed = await call('POST', '/events', '{"eventId": "+8613800138000",');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('invalid_json');
    expect(malformed.text).not.toContain('8613800138000');
    expect((await call('POST', '/events')).body.issues).toEqual([
      { in: 'body', field: '(body)', message: 'a JSON body is required' },
    ]);
    const many = Array.from({ length: 101 }, (_, i) => ({
      eventId: `m${i}`,
      userId: 'ev-1',
      type: 'login',
      at: at(1),
    }));
    expect((await call('POST', '/events', { events: many })).body.issues[0].field).toBe('events');
    const huge = await call('POST', '/events', { events: [], padding: 'x'.repeat(70_000) });
    expect(huge.status).toBe(413);
    expect((await call('POST', '/events', '{}', { 'content-type': 'text/plain' })).status).toBe(415);
  });
});

describe('users: assessment, feedback, inbox', () => {
  beforeAll(async () => {
    await call('PUT', '/users/as-1', profile({ lastLoginAt: daysBefore(AS_OF, 20) }));
  });

  it('GET assessment: fresh before the scan stored one; ?fresh=true assesses now; then the stored one', async () => {
    const none = await call('GET', '/users/as-1/assessment');
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ userId: 'as-1', fresh: true });

    const fresh = await call('GET', '/users/as-1/assessment?fresh=true');
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ userId: 'as-1', fresh: true, status: 'at_risk' });
    expect(fresh.body.reasons.map((r: { code: string }) => r.code)).toContain('inactive_login');
    expect(fresh.body.plan.channels.length).toBeGreaterThan(0);

    const user = (await stored('as-1')) as UserRecord;
    await rt().users.recordAssessment(assess(user, rt().policy, AS_OF), AS_OF.toISOString());
    const kept = await call('GET', '/users/as-1/assessment');
    expect(kept.body).toMatchObject({ fresh: false, status: 'at_risk', assessedAt: AS_OF.toISOString() });
    expect((await call('GET', '/users/as-1/assessment?fresh=yes')).status).toBe(400);
    expect((await call('GET', '/users/nobody/assessment')).body.error).toBe('user_not_found');
  });

  it('POST feedback sets churnReason and stores the answer; 400 on bad fields; 404 unknown user', async () => {
    const reply = await call('POST', '/users/as-1/feedback', {
      reason: 'economic',
      satisfaction: 2,
      issues: ['low_yield'],
      comment: 'rates fell',
    });
    expect(reply.status).toBe(200);
    expect(await stored('as-1')).toMatchObject({
      churnReason: 'economic',
      lastFeedback: { reason: 'economic', satisfaction: 2, issues: ['low_yield'], at: AS_OF.toISOString() },
    });
    const bad = await call('POST', '/users/as-1/feedback', {
      reason: 'bored',
      satisfaction: 6,
      issues: ['noise'],
      comment: 'c'.repeat(1001),
    });
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(
      ['comment', 'issues.0', 'reason', 'satisfaction'].sort(),
    );
    const missing = await call('POST', '/users/nobody/feedback', { reason: 'other', satisfaction: 3 });
    expect(missing.status).toBe(404);
  });

  it('GET inbox pages newest first and marks nothing opened', async () => {
    for (const [i, hours] of [1, 2, 3].entries()) {
      const createdAt = new Date(AS_OF.getTime() - hours * 3_600_000).toISOString();
      await rt().inbox.deliver({
        userId: 'as-1',
        messageId: `${createdAt}#r${i}#in_app`,
        title: `t${i}`,
        body: 'b',
        createdAt,
      });
    }
    const first = await call('GET', '/users/as-1/inbox?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.messages.map((m: { title: string }) => m.title)).toEqual(['t0', 't1']);
    const second = await call('GET', `/users/as-1/inbox?limit=2&nextToken=${first.body.nextToken}`);
    expect(second.body.messages.map((m: { title: string }) => m.title)).toEqual(['t2']);
    expect([...first.body.messages, ...second.body.messages].some((m) => m.openedAt)).toBe(false);
    expect((await call('GET', '/users/as-1/inbox?limit=500')).body.issues[0].field).toBe('limit');
    expect((await call('GET', '/users/as-1/inbox?page=2')).body.issues[0]).toMatchObject({
      in: 'query',
      field: 'page',
    });
  });
});

describe('recalls', () => {
  beforeAll(async () => {
    await call('PUT', '/users/rc-1', profile({ lastLoginAt: daysBefore(AS_OF, 20) }));
  });

  it('starts a manual recall (202), 409s with its id while it is open, and shows it', async () => {
    const started = await call('POST', '/recalls', {
      userId: 'rc-1',
      reason: 'vip_call',
      note: 'called twice',
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      status: 'started',
      recallId: expect.stringMatching(/^m-20261124-rc-1-/),
    });
    expect(started.body.executionArn).toContain(started.body.recallId);
    expect(started.body.consoleUrl).toBeTruthy();

    const again = await call('POST', '/recalls', { userId: 'rc-1' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'recall_already_active', recallId: started.body.recallId });

    await rt().idle();
    const view = await call('GET', `/recalls/${started.body.recallId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      recallId: started.body.recallId,
      userId: 'rc-1',
      trigger: 'manual',
      status: 'active',
      note: 'called twice',
      outcome: null,
    });
    expect(view.body.reasonCodes[0]).toBe('vip_call');
    expect(view.body.plan.channels.length).toBeGreaterThan(0);
    expect(view.body.steps[0]).toMatchObject({ result: 'sent', at: AS_OF.toISOString() });
  });

  it('404s an unknown user or recall; 400s bad fields', async () => {
    expect((await call('POST', '/recalls', { userId: 'nobody' })).body.error).toBe('user_not_found');
    expect((await call('GET', '/recalls/m-20261124-nobody-1')).status).toBe(404);
    const bad = await call('POST', '/recalls', {
      userId: 'rc-1',
      startAt: 'email',
      strategy: 'bribe',
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'extra',
      'startAt',
      'strategy',
    ]);
    expect((await call('GET', '/recalls/has.dot')).body.issues[0]).toMatchObject({
      in: 'path',
      field: 'recallId',
    });
  });
});

describe('routing and documents', () => {
  it('404s unknown routes and 405s wrong methods with Allow', async () => {
    const unknown = await call('GET', '/nothing/here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('route_not_found');
    const wrong = await call('DELETE', '/users/u1');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('PUT');
    const segments = await call('PUT', '/recalls/segments');
    expect(segments.status).toBe(405);
    expect(segments.headers.get('allow')).toBe('POST');
  });

  it('serves an OpenAPI 3.1 document of every route from the zod schemas', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths).sort()).toEqual(
      [
        '/events',
        '/openapi.json',
        '/recalls',
        '/recalls/segments',
        '/recalls/segments/{jobId}',
        '/recalls/segments/{jobId}/resume',
        '/recalls/{recallId}',
        '/reports/latest',
        '/users/{userId}',
        '/users/{userId}/assessment',
        '/users/{userId}/feedback',
        '/users/{userId}/inbox',
      ].sort(),
    );
    const feedback = doc.body.paths['/users/{userId}/feedback'].post;
    const schema = feedback.requestBody.content['application/json'].schema;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.satisfaction).toMatchObject({ type: 'integer', minimum: 1, maximum: 5 });
    expect(feedback.parameters).toEqual([
      expect.objectContaining({ name: 'userId', in: 'path', required: true }),
    ]);
  });
});
