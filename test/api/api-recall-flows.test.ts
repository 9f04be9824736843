import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobRepository, type SegmentJob } from '../../functions/adapters/job-repository.ts';
import { addDays, addHours } from '../../functions/domain/time.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { useApiServer } from '../support/api-server.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

// Its own server: segment jobs scan the whole Users table, so this file owns every user in it.
const api = useApiServer({
  token: 'flows-token',
  // No holdout: every matched user's recall runs, so the counts below are exact.
  policy: { recall: { holdoutShare: 0 } },
});
const call = api.call;

async function putUser(overrides: Partial<UserRecord> & { userId: string }): Promise<void> {
  const { userId, ...profile } = aUser(overrides);
  expect((await call('PUT', `/users/${userId}`, profile)).status).toBe(201);
}

const rt = () => api.server.runtime;

describe('a manual recall', () => {
  it('closes as returned when a login event arrives before the check', async () => {
    // Lapsed twenty days: at risk but not high, so the escalation starts in-app and waits two days.
    await putUser({ userId: 'back-1', lastLoginAt: daysBefore(AS_OF, 20), channel: 'organic' });
    const started = await call('POST', '/recalls', { userId: 'back-1' });
    expect(started.status).toBe(202);
    const { recallId } = started.body;
    await rt().idle();

    const inbox = await call('GET', '/users/back-1/inbox');
    expect(inbox.body.messages).toHaveLength(1);
    expect(inbox.body.messages[0].recallId).toBe(recallId);

    const loginAt = addHours(AS_OF, 3);
    await rt().advanceTo(loginAt);
    const login = await call('POST', '/events', {
      eventId: 'back-login',
      userId: 'back-1',
      type: 'login',
      at: loginAt,
    });
    expect(login.body.results[0].status).toBe('applied');
    await rt().advanceTo(addDays(AS_OF, 3));

    const view = await call('GET', `/recalls/${recallId}`);
    expect(view.body).toMatchObject({
      status: 'closed',
      outcome: { outcome: 'returned', returnedAt: loginAt, returnedBy: 'login', winningStep: 'in_app' },
    });
    expect(view.body.steps).toEqual([expect.objectContaining({ step: 'in_app', result: 'sent' })]);
    expect(rt().recallWorkflow.describe(recallId)!.status).toBe('SUCCEEDED');
  });
});

describe('segment recalls', () => {
  const SEGMENT = ['seg-1', 'seg-2', 'seg-3', 'seg-4', 'seg-5'];

  beforeAll(async () => {
    for (const userId of SEGMENT) {
      await putUser({ userId, channel: 'invite', lastLoginAt: daysBefore(AS_OF, 20) });
    }
    // Same channel but active, and at risk but another channel: neither is in the segment.
    await putUser({ userId: 'seg-active', channel: 'invite' });
    await putUser({ userId: 'seg-other', channel: 'ads', lastLoginAt: daysBefore(AS_OF, 20) });
  });

  const filter = { channel: 'invite', status: ['at_risk', 'churned'] };

  it('dry run counts and samples without starting anything', async () => {
    const reply = await call('POST', '/recalls/segments', { filter, dryRun: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ dryRun: true, matched: 5, complete: true });
    expect(reply.body.sample.sort()).toEqual(SEGMENT);
    expect(
      rt()
        .recallWorkflow.list()
        .filter((e) => e.name.startsWith('s-')),
    ).toHaveLength(0);
  });

  it('pauses when its page budget runs out and resumes from the cursor without a duplicate', async () => {
    const first = await call('POST', '/recalls/segments', {
      filter,
      strategy: 'care',
      pageSize: 2,
      maxPages: 1,
    });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'paused', pages: 1, processed: 2 });
    expect(first.body.cursor).toEqual(expect.any(String));
    const { jobId } = first.body;
    expect((await call('GET', `/recalls/segments/${jobId}`)).body).toEqual(first.body);

    // A run that died after starting its page's recalls but before writing progress: rewind the job.
    const before = (await jobOf(jobId))!;
    await rewind(jobId, before.version);
    const repeated = await call('POST', `/recalls/segments/${jobId}/resume`, { maxPages: 1 });
    expect(repeated.body).toMatchObject({ status: 'paused', pages: 1, processed: 2 });

    let progress = repeated.body;
    for (let runs = 0; progress.status !== 'done' && runs < 10; runs++) {
      progress = (await call('POST', `/recalls/segments/${jobId}/resume`)).body;
    }
    expect(progress).toMatchObject({ status: 'done', processed: 8, matched: 5, started: 5, cursor: null });
    expect((await call('POST', `/recalls/segments/${jobId}/resume`)).status).toBe(409);

    await rt().idle();
    const executions = rt()
      .recallWorkflow.list()
      .filter((e) => e.name.endsWith(`-${jobId}`));
    expect(executions.map((e) => (e.input as { userId: string }).userId).sort()).toEqual(SEGMENT);
    for (const userId of SEGMENT) {
      const recalls = (await rt().recalls.listForUser(userId)).filter((r) => r.trigger === 'segment');
      expect(recalls).toHaveLength(1);
      expect(recalls[0]).toMatchObject({ strategy: 'care' });
    }

    // A second job over the same segment finds everyone recalled already.
    const second = await call('POST', '/recalls/segments', { filter, maxPages: 10 });
    expect(second.body).toMatchObject({ status: 'done', started: 0, skipped: { already_active: 5 } });
  });

  it('404s an unknown job and 400s a bad filter or job id', async () => {
    expect((await call('GET', '/recalls/segments/jabcdef123456')).status).toBe(404);
    expect((await call('POST', '/recalls/segments/jabcdef123456/resume')).status).toBe(404);
    expect((await call('GET', '/recalls/segments/NOT-A-JOB')).status).toBe(400);
    const empty = await call('POST', '/recalls/segments', { filter: {} });
    expect(empty.status).toBe(400);
    const bad = await call('POST', '/recalls/segments', {
      filter: {
        status: 'sleepy',
        registeredBetween: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      },
      pageSize: 0,
    });
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'filter.registeredBetween',
      'filter.status',
      'pageSize',
    ]);
  });
});

function jobOf(jobId: string): Promise<SegmentJob | undefined> {
  return new JobRepository(rt().clients.doc, rt().tables.Jobs).get(jobId);
}

/** Puts the job back before its first page, as if that page's progress had never been written. */
async function rewind(jobId: string, version: number): Promise<void> {
  await rt().clients.doc.send(
    new UpdateCommand({
      TableName: rt().tables.Jobs,
      Key: { jobId },
      UpdateExpression: 'SET #s = :running, counts = :zero, pages = :zero_pages, version = :v REMOVE #c',
      ExpressionAttributeNames: { '#s': 'status', '#c': 'cursor' },
      ExpressionAttributeValues: {
        ':running': 'running',
        ':zero': { processed: 0, matched: 0, started: 0, skipped: {} },
        ':zero_pages': 0,
        ':v': version + 1,
      },
    }),
  );
}
