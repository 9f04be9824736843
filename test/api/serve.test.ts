import { afterAll, describe, expect, inject, it } from 'vitest';
import { type RunningServer, ServeConfigError, startServer } from '../../local/commands/serve.ts';
import { newTablePrefix } from '../support/dynalite.ts';
import { AS_OF } from '../support/fixtures.ts';

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
    });

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
    const server = await startServer({ ...shared(), insecureLocal: true });
    try {
      expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
