import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningServer, startServer } from '../../local/commands/serve.ts';
import { newTablePrefix } from '../support/dynalite.ts';
import { AS_OF, aUser } from '../support/fixtures.ts';

const TOKEN = 'test-token-0123456789';
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    port: 0,
    endpoint: inject('dynamoEndpoint'),
    tablePrefix: newTablePrefix(),
    token: TOKEN,
    start: AS_OF,
    // Held at AS_OF: a clock that follows the wall clock from a past start replays every daily scan
    // since then while the tests run, and a scan's stored assessment races case 12's "before the first scan".
    frozen: true,
  });
  await server.runtime.users.put(aUser({ userId: 'fb-1' }));
});
afterAll(() => server?.close());

const post = (path: string, body: unknown) =>
  fetch(server.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('feedback history', () => {
  it('keeps every answer as a feedback row, where the record keeps only the last', async () => {
    expect(
      (await post('/users/fb-1/feedback', { reason: 'economic', satisfaction: 2, issues: ['low_yield'] }))
        .status,
    ).toBe(200);
    await server.runtime.advanceTo(new Date(AS_OF.getTime() + 3_600_000));
    expect((await post('/users/fb-1/feedback', { reason: 'policy', satisfaction: 3 })).status).toBe(200);
    expect((await post('/users/nobody/feedback', { reason: 'other', satisfaction: 3 })).status).toBe(404);

    const dir = join(server.runtime.lakeDir, 'feedback', 'day=2026-11-24');
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
