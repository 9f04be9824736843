import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { useApiServer } from '../support/api-server.ts';
import { AS_OF, aUser } from '../support/fixtures.ts';

const api = useApiServer();
beforeAll(async () => {
  await api.server.runtime.users.put(aUser({ userId: 'fb-1' }));
});

const post = (path: string, body: unknown) => api.call('POST', path, body);

describe('feedback history', () => {
  it('keeps every answer as a feedback row, where the record keeps only the last', async () => {
    expect(
      (await post('/users/fb-1/feedback', { reason: 'economic', satisfaction: 2, issues: ['low_yield'] }))
        .status,
    ).toBe(200);
    await api.server.runtime.advanceTo(new Date(AS_OF.getTime() + 3_600_000));
    expect((await post('/users/fb-1/feedback', { reason: 'policy', satisfaction: 3 })).status).toBe(200);
    expect((await post('/users/nobody/feedback', { reason: 'other', satisfaction: 3 })).status).toBe(404);

    const dir = join(api.server.runtime.lakeDir, 'feedback', 'day=2026-11-24');
    const files = (await readdir(dir)).sort();
    const rows = await Promise.all(
      files.map(async (f) => JSON.parse(gunzipSync(await readFile(join(dir, f))).toString('utf8'))),
    );
    expect(rows).toEqual([
      {
        day: '2026-11-24',
        dayNumber: 20781,
        userId: 'fb-1',
        feedbackId: 'fb-1-20261124010000000',
        churnReason: 'economic',
        issues: ['low_yield'],
        at: '2026-11-24T01:00:00.000Z',
      },
      {
        day: '2026-11-24',
        dayNumber: 20781,
        userId: 'fb-1',
        feedbackId: 'fb-1-20261124020000000',
        churnReason: 'policy',
        issues: [],
        at: '2026-11-24T02:00:00.000Z',
      },
    ]);
    expect(files).toEqual(['fb-1-20261124010000000.jsonl.gz', 'fb-1-20261124020000000.jsonl.gz']);
  });
});
