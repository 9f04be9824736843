import { afterAll, beforeAll, inject } from 'vitest';
import { type RunningServer, startServer } from '../../local/commands/serve.ts';
import { newTablePrefix } from './dynalite.ts';
import { AS_OF } from './fixtures.ts';

type ServeOptions = Parameters<typeof startServer>[0];

export interface ApiReply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary response fields
  body: any;
}

export interface TestApi {
  /** The running server (its url and runtime); throws before the file's beforeAll has run. */
  readonly server: RunningServer;
  readonly token: string;
  /** An authorized request; a string body is sent as written (for malformed JSON), anything else as JSON. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiReply>;
}

/**
 * A `winback serve` of the test file's own (its own tables), started before the file's tests and
 * closed after them. Held still at `start` (AS_OF) unless the file asks otherwise: from a past start,
 * a clock following the wall clock would replay a daily scan for every day since while the tests run.
 */
export function useApiServer(options: Partial<ServeOptions> = {}): TestApi {
  const token = options.token ?? 'test-token-0123456789';
  let running: RunningServer | undefined;
  beforeAll(async () => {
    running = await startServer({
      port: 0,
      endpoint: inject('dynamoEndpoint'),
      tablePrefix: newTablePrefix(),
      start: AS_OF,
      frozen: true,
      ...options,
      token,
    });
  }, 120_000);
  afterAll(() => running?.close());
  const server = (): RunningServer => {
    if (!running) throw new Error('the API server is not running yet');
    return running;
  };
  return {
    get server() {
      return server();
    },
    token,
    async call(method, path, body, headers = {}) {
      const res = await fetch(server().url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
    },
  };
}
