import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LocalReportStore } from '../../functions/adapters/report-store.ts';
import { startServer } from '../../local/commands/serve.ts';
import { newTablePrefix } from '../support/dynalite.ts';
import { AS_OF } from '../support/fixtures.ts';
import { snapshot, writeLake } from './fixture-lake.ts';

const shared = () => ({
  port: 0,
  endpoint: inject('dynamoEndpoint'),
  tablePrefix: newTablePrefix(),
  start: AS_OF,
  token: 'report-token',
  // Held still: from a past start, a wall clock would replay a daily scan for every day since.
  frozen: true,
});
const auth = { headers: { authorization: 'Bearer report-token' } };

const dataDir = mkdtempSync(join(tmpdir(), 'winback-reports-route-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('GET /reports/latest', () => {
  it('is in the OpenAPI document, and answers 404 report_not_found when there is no lake', async () => {
    const server = await startServer(shared());
    try {
      const doc = (await (await fetch(`${server.url}/openapi.json`, auth)).json()) as { paths: object };
      expect(Object.keys(doc.paths)).toContain('/reports/latest');
      const res = await fetch(`${server.url}/reports/latest`, auth);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'report_not_found' });
    } finally {
      await server.close();
    }
  }, 120_000);

  it('winback serve builds it from the local lake, then serves the stored daily report', async () => {
    writeLake(join(dataDir, 'lake'), {
      snapshots: [snapshot('2026-09-01', 'a', { status: 'churned' }), snapshot('2026-09-01', 'b')],
    });
    const server = await startServer({ ...shared(), dataDir });
    try {
      const built = await fetch(`${server.url}/reports/latest`, auth);
      expect(built.status).toBe(200);
      expect(built.headers.get('content-type')).toContain('application/json');
      expect(await built.json()).toMatchObject({ asOfDay: '2026-09-01', headline: { users: 2, churned: 1 } });

      await new LocalReportStore(join(dataDir, 'lake')).put(
        '2026-09-01',
        '<html></html>',
        '{"asOfDay":"stored"}',
      );
      const stored = await fetch(`${server.url}/reports/latest`, auth);
      expect(await stored.json()).toEqual({ asOfDay: 'stored' });
    } finally {
      await server.close();
    }
  }, 120_000);
});
