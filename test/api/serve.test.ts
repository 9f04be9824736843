import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import type { ScanSummary } from '../../functions/handlers/scan-summary.ts';
import {
  nextScanTime,
  type RunningServer,
  ServeConfigError,
  startServer,
} from '../../local/commands/serve.ts';
import { newTablePrefix } from '../support/dynalite.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';

const shared = () => ({
  port: 0,
  endpoint: inject('dynamoEndpoint'),
  tablePrefix: newTablePrefix(),
  start: AS_OF,
});

describe('winback serve', () => {
  it('refuses to start without a token unless --insecure-local, and insecure only on loopback', async () => {
    await expect(startServer(shared())).rejects.toThrow(ServeConfigError);
    await expect(startServer({ ...shared(), insecureLocal: true, host: '0.0.0.0' })).rejects.toThrow(
      /loopback/,
    );
    await expect(startServer({ ...shared(), token: 't', daySeconds: 0 })).rejects.toThrow(/day-seconds/);
  });

  describe('with a token', () => {
    let server: RunningServer;
    afterAll(() => server?.close());

    it('401s a missing or wrong token, before routing', async () => {
      server = await startServer({ ...shared(), token: 'right-token', daySeconds: 8.64 });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const none = await fetch(`${server.url}/openapi.json`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      const wrong = await fetch(`${server.url}/nothing`, {
        headers: { authorization: 'Bearer wrong-token' },
      });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${server.url}/openapi.json`, {
        headers: { authorization: 'Bearer right-token' },
      });
      expect(right.status).toBe(200);
    }, 120_000);

    it('--day-seconds moves simulated time with real time', async () => {
      // 8.64 s per day: a real second is 10,000 simulated seconds.
      const from = server.runtime.clock.nowMs();
      await new Promise((r) => setTimeout(r, 700));
      const movedSeconds = (server.runtime.clock.nowMs() - from) / 1000;
      expect(movedSeconds).toBeGreaterThan(2_000);
      expect(movedSeconds).toBeLessThan(20_000);
    });
  });

  it('--insecure-local serves without a token', async () => {
    const server = await startServer({ ...shared(), insecureLocal: true, frozen: true });
    try {
      expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('the next scan time is the next 09:00 in Asia/Shanghai, strictly after the given time', () => {
    const next = (iso: string) => new Date(nextScanTime(Date.parse(iso))).toISOString();
    expect(next('2026-11-24T00:30:00Z')).toBe('2026-11-24T01:00:00.000Z');
    expect(next('2026-11-24T01:00:00Z')).toBe('2026-11-25T01:00:00.000Z');
    expect(next('2026-11-24T16:00:00Z')).toBe('2026-11-25T01:00:00.000Z');
  });

  it('--day-seconds runs the daily scan at each simulated scan time: assessments are written, recalls start', async () => {
    const scans: { asOf: string; summary: ScanSummary }[] = [];
    // Half an hour before the scan; 3 s a day, so the scan is due within a real tenth of a second.
    const start = new Date(AS_OF.getTime() - 30 * 60_000);
    const server = await startServer({
      ...shared(),
      insecureLocal: true,
      start,
      daySeconds: 3,
      onScan: (summary, asOf) => scans.push({ asOf, summary }),
    });
    try {
      await server.runtime.users.put(
        aUser({
          userId: 'u-away',
          lastLoginAt: daysBefore(AS_OF, 20),
          lastInvestAt: daysBefore(AS_OF, 20),
          balanceFen: 5_000,
        }),
      );
      await vi.waitFor(() => expect(scans.length).toBeGreaterThan(0), { timeout: 20_000, interval: 100 });
      expect(scans[0]!.asOf).toBe(AS_OF.toISOString());
      expect(scans[0]!.summary.totals.byStatus.at_risk).toBe(1);
      expect(scans[0]!.summary.totals.recalls.started).toBe(1);
      const stored = await server.runtime.users.get('u-away');
      expect(stored).toMatchObject({ assessment: { status: 'at_risk', assessedAt: AS_OF.toISOString() } });
      expect(stored?.activeRecallId).toMatch(/^r-20261124-u-away/);
    } finally {
      await server.close();
    }
  });

  it('without --day-seconds simulated time follows the wall clock', async () => {
    const server = await startServer({ ...shared(), insecureLocal: true, start: new Date() });
    try {
      await new Promise((r) => setTimeout(r, 600));
      expect(Math.abs(server.runtime.clock.nowMs() - Date.now())).toBeLessThan(1_000);
    } finally {
      await server.close();
    }
  });

  it('a manual recall inside quiet hours says when its first message goes, in the 202 and in GET /recalls/{id}', async () => {
    // 23:30 in Shanghai: quiet until 08:00 the next morning (00:00 UTC).
    const server = await startServer({
      ...shared(),
      insecureLocal: true,
      start: new Date('2026-11-24T15:30:00Z'),
      frozen: true,
    });
    try {
      await server.runtime.users.put(aUser({ userId: 'u-night' }));
      const post = await fetch(`${server.url}/recalls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'u-night' }),
      });
      expect(post.status).toBe(202);
      const started = (await post.json()) as { recallId: string; firstSendAt: string };
      expect(started.firstSendAt).toBe('2026-11-25T00:00:00.000Z');
      const view = (await (await fetch(`${server.url}/recalls/${started.recallId}`)).json()) as {
        firstSendAt: string;
        steps: unknown[];
      };
      expect(view.steps).toEqual([]);
      expect(view.firstSendAt).toBe('2026-11-25T00:00:00.000Z');
      // Once it has gone, firstSendAt is the time it went.
      await server.runtime.advanceTo('2026-11-25T00:30:00Z');
      const after = (await (await fetch(`${server.url}/recalls/${started.recallId}`)).json()) as {
        firstSendAt: string;
        steps: { step: string; result: string; at: string }[];
      };
      expect(after.steps[0]).toMatchObject({
        step: 'in_app',
        result: 'sent',
        at: '2026-11-25T00:00:00.000Z',
      });
      expect(after.firstSendAt).toBe('2026-11-25T00:00:00.000Z');
    } finally {
      await server.close();
    }
  });
});
