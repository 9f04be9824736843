import { once } from 'node:events';
import { join } from 'node:path';
import { JobRepository } from '../../functions/adapters/job-repository.ts';
import { type ApiDeps, createApi } from '../../functions/handlers/api.ts';
import { startHttpServer } from '../http-server.ts';
import { lakeReports } from '../report-task.ts';
import { Runtime } from '../runtime.ts';

export interface ServeOptions {
  port: number;
  /** Loopback by default: the local server is for this machine only. */
  host?: string;
  dataDir?: string;
  /** A DynamoDB-compatible server already running (tests share one). */
  endpoint?: string;
  tablePrefix?: string;
  /** Required from clients as `Authorization: Bearer <token>`. */
  token?: string;
  /** Serve without a token. Allowed on loopback only. */
  insecureLocal?: boolean;
  /** A simulated day lasts this many real seconds; without it simulated time stands still. */
  daySeconds?: number;
  /** Simulated time at start (default: now). */
  start?: Date;
  policy?: unknown;
}

export interface RunningServer {
  url: string;
  runtime: Runtime;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const TICK_MS = 200;

export class ServeConfigError extends Error {
  override readonly name = 'ServeConfigError';
}

/** The API's dependencies on the embedded runtime: its store, its workflow engine, its clock. */
export function apiDepsFor(rt: Runtime, dataDir?: string): ApiDeps {
  return {
    ...(dataDir ? { reports: lakeReports(join(dataDir, 'lake'), rt.policy) } : {}),
    users: rt.users,
    recalls: rt.recalls,
    rewards: rt.rewards,
    inbox: rt.inbox,
    jobs: new JobRepository(rt.clients.doc, rt.tables.Jobs),
    start: rt.startDeps,
    activity: rt.activityDeps,
    policy: rt.policy,
    logger: rt.logger,
    now: () => rt.clock.now(),
  };
}

/** Starts the embedded runtime and serves the API's handlers on it. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!opts.token && !opts.insecureLocal) {
    throw new ServeConfigError('set WINBACK_API_TOKEN, or pass --insecure-local to serve without a token');
  }
  if (!opts.token && !LOOPBACK.has(host)) {
    throw new ServeConfigError('--insecure-local serves on a loopback address only');
  }
  if (opts.daySeconds !== undefined && !(Number.isFinite(opts.daySeconds) && opts.daySeconds > 0)) {
    throw new ServeConfigError('--day-seconds must be a positive number');
  }
  const runtime = await Runtime.start({
    start: opts.start ?? new Date(),
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.tablePrefix ? { tablePrefix: opts.tablePrefix } : {}),
    ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
  });
  // Executions live in one process: pick up the recalls a previous `serve` left open.
  await runtime.resumeOpenRecalls();
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer({
      handler: createApi(apiDepsFor(runtime, opts.dataDir)),
      host,
      port: opts.port,
      ...(opts.token ? { token: opts.token } : {}),
      onError: (error) => runtime.logger.error('local API server error', { error: String(error) }),
    });
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  const stopTicker = opts.daySeconds ? runDays(runtime, opts.daySeconds) : async () => {};
  return {
    url: http.url,
    runtime,
    close: async () => {
      await stopTicker();
      await http.close();
      await runtime.stop();
    },
  };
}

/**
 * Moves simulated time with real time, a day every `daySeconds`: each tick advances the clock by the
 * real time elapsed since the last advance, scaled. A tick that finds the previous advance still
 * running (steps due at that time are executing) skips; the next one catches up.
 */
function runDays(rt: Runtime, daySeconds: number): () => Promise<void> {
  const scale = 86_400 / daySeconds;
  let last = performance.now();
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    const now = performance.now();
    const target = new Date(rt.clock.nowMs() + (now - last) * scale);
    last = now;
    running = rt
      .advanceTo(target)
      .catch((error) => rt.logger.error('advancing simulated time failed', { error: String(error) }))
      .finally(() => {
        running = undefined;
      });
  }, TICK_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export interface RunServeOptions {
  port: number;
  dataDir?: string;
  daySeconds?: number;
  insecureLocal: boolean;
  token?: string;
}

/** `winback serve`: prints the URL, serves until SIGINT or SIGTERM, then stops cleanly. */
export async function runServe(
  opts: RunServeOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const server = await startServer({
    port: opts.port,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.daySeconds !== undefined ? { daySeconds: opts.daySeconds } : {}),
    ...(opts.token ? { token: opts.token } : {}),
    insecureLocal: opts.insecureLocal,
  });
  const time = opts.daySeconds ? `a simulated day lasts ${opts.daySeconds} s` : 'simulated time stands still';
  out.write(`winback API on ${server.url} (${time}; store: ${opts.dataDir ?? 'in memory'})\n`);
  if (!opts.token) out.write('WARNING: --insecure-local: no token required\n');
  out.write(`  curl -H "Authorization: Bearer $WINBACK_API_TOKEN" ${server.url}/openapi.json\n`);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  out.write('stopping\n');
  await server.close();
  return 0;
}
