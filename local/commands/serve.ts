import { once } from 'node:events';
import { join } from 'node:path';
import { JobRepository } from '../../functions/adapters/job-repository.ts';
import { localTime, MS_PER_DAY, MS_PER_MINUTE } from '../../functions/domain/time.ts';
import { type ApiDeps, createApi } from '../../functions/handlers/api.ts';
import type { ScanSummary } from '../../functions/handlers/scan-summary.ts';
import { DEFAULT_CONFIG } from '../../lib/winback-stack.ts';
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
  /** A simulated day lasts this many real seconds; without it the clock follows the wall clock. */
  daySeconds?: number;
  /** Hold simulated time still (tests that move it themselves). */
  frozen?: boolean;
  /** Told after each daily scan the server runs. */
  onScan?: (summary: ScanSummary, asOf: string) => void;
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
    // The runtime's own lake: <data-dir>/lake, or its temporary one when the store is in memory.
    reports: lakeReports(dataDir ? join(dataDir, 'lake') : rt.lakeDir, rt.policy),
    users: rt.users,
    lake: rt.lake,
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
  const stopTicker = opts.frozen
    ? async () => {}
    : runDays(
        runtime,
        opts.daySeconds ? scaledClock(runtime, 86_400 / opts.daySeconds) : () => Date.now(),
        opts.onScan,
      );
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

const SCAN = DEFAULT_CONFIG.scanSchedule;

/** HH:MM of an instant in a zone, in minutes since midnight. */
function clockMinutes(ms: number, timeZone: string): number {
  const hhmm = localTime(ms, timeZone).slice(11, 16);
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** The first daily scan time strictly after `afterMs`: the stack's schedule (09:00 Asia/Shanghai). */
export function nextScanTime(afterMs: number, schedule = SCAN): number {
  const target = schedule.hour * 60 + schedule.minute;
  const from = afterMs - (afterMs % MS_PER_MINUTE) + MS_PER_MINUTE;
  const ahead = (target - clockMinutes(from, schedule.timeZone) + 1440) % 1440;
  let at = from + ahead * MS_PER_MINUTE;
  // On a night the clocks change, elapsed and wall-clock minutes differ by the shift.
  const drift = ((clockMinutes(at, schedule.timeZone) - target + 2160) % 1440) - 720;
  at -= drift * MS_PER_MINUTE;
  return at > afterMs ? at : at + MS_PER_DAY;
}

/** Simulated time `scale` times faster than real time, from wherever the clock stands. */
function scaledClock(rt: Runtime, scale: number): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const target = rt.clock.nowMs() + (now - last) * scale;
    last = now;
    return target;
  };
}

/**
 * Moves simulated time to `target()` every tick (the wall clock, or a scaled clock), and runs the daily scan each time the clock passes the scan time, as EventBridge Scheduler
 * does in AWS: assessments are written and recalls start. A tick that finds the previous one still
 * running (a scan, or steps due at that time) skips; the next one catches up.
 */
function runDays(
  rt: Runtime,
  target: () => number,
  onScan?: (summary: ScanSummary, asOf: string) => void,
): () => Promise<void> {
  let nextScan = nextScanTime(rt.clock.nowMs());
  let running: Promise<void> | undefined;
  const tick = async (to: number) => {
    while (nextScan <= to) {
      const asOf = new Date(nextScan).toISOString();
      await rt.advanceTo(asOf);
      const { summary } = await rt.runDailyScan(asOf);
      onScan?.(summary, asOf);
      nextScan = nextScanTime(nextScan);
    }
    if (to > rt.clock.nowMs()) await rt.advanceTo(new Date(to));
  };
  const timer = setInterval(() => {
    if (running) return;
    running = tick(target())
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
    onScan: (summary, asOf) => {
      const t = summary.totals;
      out.write(
        `daily scan ${localTime(asOf, SCAN.timeZone)}: ${t.byStatus.at_risk} at risk, ${t.byStatus.churned} churned, ${t.recalls.started ?? 0} recalls started\n`,
      );
    },
  });
  const time = opts.daySeconds
    ? `a simulated day lasts ${opts.daySeconds} s; the daily scan runs each simulated ${String(SCAN.hour).padStart(2, '0')}:${String(SCAN.minute).padStart(2, '0')} ${SCAN.timeZone}`
    : `time follows the wall clock; the daily scan runs at ${String(SCAN.hour).padStart(2, '0')}:${String(SCAN.minute).padStart(2, '0')} ${SCAN.timeZone}`;
  out.write(`winback API on ${server.url} (${time}; store: ${opts.dataDir ?? 'in memory'})\n`);
  if (!opts.token) out.write('WARNING: --insecure-local: no token required\n');
  out.write(`  curl -H "Authorization: Bearer $WINBACK_API_TOKEN" ${server.url}/openapi.json\n`);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  out.write('stopping\n');
  await server.close();
  return 0;
}
