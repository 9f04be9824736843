import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadPolicyFile, readPolicyOverrides, runAssess } from './commands/assess.ts';
import type { ExportKind } from './commands/store.ts';
import { DEMO_DEFAULT_USERS } from './defaults.ts';
import { openStoreDir, type StoreMode } from './store-dir.ts';

const HELP = `winback — churn early warning and recall, embedded runtime

Usage: winback <command> [options]

Commands
  demo                      Seed a user base, run the daily scan each simulated morning and the
                            recall escalation through the day; print the summary and recall funnel.
      --users N             users to seed (default 2000; only when the store is empty)
      --seed S              seed of the synthetic user base and of simulated replies (default 42)
      --days D              simulated days to run (default 14)
      --as-of YYYY-MM-DD    the first day (default 2026-11-24); the scan runs at 09:00 Asia/Shanghai
      --data-dir DIR        keep the store on disk between runs (default: in memory)
      --policy FILE         policy overrides (JSON); invalid fields are named and rejected
      --segments N          parallel scan segments (default 8)
  assess --input FILE       Assess user records from a JSON-lines file ('-' for stdin); one
                            assessment per line on stdout, bad lines on stderr; exit 1 if any was bad.
      --as-of YYYY-MM-DD    day to assess as of (default today, UTC)
      --policy FILE         policy overrides
  import FILE --data-dir DIR
                            Load user records (JSON lines) into the embedded store; bad lines are
                            named on stderr and skipped; exit 1 if any was bad.
  export users|recalls|messages|rewards|outbox --data-dir DIR
                            Write the records as JSON lines on stdout.
  recall USER_ID|RECALL_ID --data-dir DIR
                            Print the user's recall history (or one recall) step by step with timestamps.
  serve [--port 8080] [--data-dir DIR] [--day-seconds S] [--insecure-local]
                            Serve the HTTP API on 127.0.0.1 (needs WINBACK_API_TOKEN). Time follows the
                            wall clock; with --day-seconds a simulated day lasts S seconds and the
                            daily scan runs each simulated morning.
  content check FILE [--policy FILE]
                            Check a message content file (like config/content.json): every strategy,
                            locale and channel present, known variables only, each SMS one segment.
  backfill --users FILE --events FILE --from YYYY-MM-DD --to YYYY-MM-DD --data-dir DIR [--policy FILE]
                            Rebuild past days of assessment history into DIR/lake from profiles (as of
                            the start of the history) and an activity event log (POST /events shape,
                            any order); bad lines are named (file, line, field) and skipped; exit 1 if any.
  report --data-dir DIR --out FILE
                            Write the insight report from the lake (DuckDB over DIR/lake): churn
                            structure, portrait, warning backtest, feedback. FILE .html or .json.
      --from YYYY-MM-DD     first scan day (default: first day in the lake)
      --to YYYY-MM-DD       last scan day (default: last day in the lake)
      --horizon D           backtest horizon in days (default 30)
      --locale zh-CN|en     labels of the HTML report (default zh-CN)
      --policy FILE         policy overrides (thresholds the portrait and charts mark)
  help                      This text.
`;

/** A mistake in the command line: exit 2, one line, nothing opened or written. */
class UsageError extends Error {}

/** Every option any command takes; `COMMAND_OPTIONS` says which command takes which. */
const OPTIONS = {
  users: { type: 'string' },
  seed: { type: 'string' },
  days: { type: 'string' },
  'as-of': { type: 'string' },
  'data-dir': { type: 'string' },
  policy: { type: 'string' },
  segments: { type: 'string' },
  input: { type: 'string' },
  events: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  horizon: { type: 'string' },
  locale: { type: 'string' },
  out: { type: 'string' },
  port: { type: 'string' },
  'day-seconds': { type: 'string' },
  'insecure-local': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * The options each command accepts; another one is refused by name. A command missing here takes
 * any option in OPTIONS (add yours to keep the check).
 */
const COMMAND_OPTIONS: Record<string, readonly (keyof typeof OPTIONS)[]> = {
  demo: ['users', 'seed', 'days', 'as-of', 'data-dir', 'policy', 'segments'],
  assess: ['input', 'as-of', 'policy'],
  import: ['input', 'data-dir'],
  export: ['data-dir'],
  recall: ['data-dir'],
  serve: ['port', 'data-dir', 'day-seconds', 'insecure-local'],
  content: ['policy'],
  backfill: ['users', 'events', 'from', 'to', 'data-dir', 'policy'],
  report: ['data-dir', 'out', 'from', 'to', 'horizon', 'locale', 'policy'],
};

/**
 * `--users -5` reaches the number check instead of parseArgs' "argument is ambiguous": a value that
 * looks like a negative number is joined to its option.
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const option = arg.startsWith('--')
      ? (OPTIONS as Record<string, { type: string }>)[arg.slice(2)]
      : undefined;
    if (option?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** parseArgs' own messages talk about positionals and '--'; these say what to type instead. */
function parseCommandLine(command: string, args: readonly string[]) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>
  >;
  try {
    parsed = parseArgs({ args: joinNegativeValues(args), allowPositionals: true, options: OPTIONS });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? 'an option';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new UsageError(`unknown option ${option} for "${command}"`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(
        message.includes('argument missing') || message.includes('ambiguous')
          ? `${option} needs a value, e.g. ${option} 10`
          : `${option} takes no value`,
      );
    throw error;
  }
  const allowed = COMMAND_OPTIONS[command];
  if (allowed) {
    for (const name of Object.keys(parsed.values)) {
      if (name !== 'help' && !allowed.includes(name as keyof typeof OPTIONS))
        throw new UsageError(`"${command}" takes no --${name}`);
    }
  }
  return parsed;
}

function day(value: string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UsageError(`--as-of must be YYYY-MM-DD, got "${value}"`);
  // The scan runs at 09:00 in Shanghai: 01:00 UTC of that day.
  const at = new Date(`${value}T01:00:00Z`);
  // Date rolls 2026-02-31 over into March; a day that does not exist is refused instead.
  if (Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== value)
    throw new UsageError(`--as-of is not a real date: "${value}"`);
  return at;
}

/** A whole number from `min` up (`--seed` may be 0, `--users` and `--days` start at 1). */
function wholeNumber(
  value: string | undefined,
  name: string,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range}, got "${value}"`);
  }
  return n;
}

function port(value: string | undefined): number {
  if (value === undefined) return 8080;
  if (!/^\d+$/.test(value) || Number(value) > 65_535)
    throw new UsageError(`--port must be a port number from 1 to 65535 (0: any free port), got "${value}"`);
  return Number(value);
}

function daySeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0))
    throw new UsageError(`--day-seconds must be a number of seconds above 0, got "${value}"`);
  return n;
}

function needDataDir(dataDir: string | undefined, command: string): string {
  if (!dataDir)
    throw new UsageError(`${command} needs --data-dir DIR (the store written by demo, import or serve)`);
  return dataDir;
}

/**
 * Runs `fn` with the data dir checked and locked (see store-dir.ts), and releases it afterwards.
 * Without a data dir the store lives in memory and there is nothing to check.
 */
async function withStore<T>(
  dataDir: string | undefined,
  mode: StoreMode,
  command: string,
  fn: (dataDir: string | undefined) => Promise<T>,
): Promise<T> {
  if (dataDir === undefined) return fn(undefined);
  const lock = openStoreDir(dataDir, mode, command);
  try {
    return await fn(dataDir);
  } finally {
    lock.release();
  }
}

async function readableFile(path: string, flag: string): Promise<string> {
  if (path === '-') return path;
  try {
    if (!(await stat(path)).isFile()) throw new UsageError(`${flag} ${path} is not a file`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${flag} ${path}: no such file`);
  }
  return path;
}

/** The runtime (CDK, the SDK) loads only once the command line and the data dir are known to be good. */
const loadStoreCommands = () => Promise.all([import('./commands/store.ts'), import('./runtime.ts')]);

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  const { values, positionals } = parseCommandLine(command, rest);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const dataDir = values['data-dir'];
  switch (command) {
    case 'demo': {
      const options = {
        users: wholeNumber(values.users, 'users', DEMO_DEFAULT_USERS),
        seed: wholeNumber(values.seed, 'seed', 42, 0),
        days: wholeNumber(values.days, 'days', 14, 1, 3650),
        asOf: day(values['as-of'], new Date('2026-11-24T01:00:00Z')),
        // The overrides as written: the demo adds its own holdout share unless the file names one.
        policy: values.policy ? await readPolicyOverrides(values.policy) : undefined,
        segments: values.segments ? wholeNumber(values.segments, 'segments', 8, 1, 1000) : undefined,
        out: process.stdout,
      };
      await withStore(dataDir, 'create', 'demo', async (dir) => {
        const { runDemo } = await import('./commands/demo.ts');
        await runDemo({ ...options, dataDir: dir });
      });
      return 0;
    }
    case 'assess': {
      const input = values.input ?? positionals[0];
      if (!input) throw new UsageError('assess needs --input FILE (or - for stdin)');
      const today = new Date(`${new Date().toISOString().slice(0, 10)}T01:00:00Z`);
      const result = await runAssess({
        input: await readableFile(input, '--input'),
        asOf: day(values['as-of'], today),
        policy: await loadPolicyFile(values.policy),
        stdout: process.stdout,
        stderr: process.stderr,
        stdin: process.stdin,
      });
      process.stderr.write(`assessed ${result.assessed} users, ${result.bad} bad lines\n`);
      return result.exitCode;
    }
    case 'import': {
      const file = positionals[0] ?? values.input;
      if (!file) throw new UsageError('import needs a file: winback import users.jsonl --data-dir DIR');
      await readableFile(file, 'import');
      return withStore(needDataDir(dataDir, 'import'), 'create', 'import', async (dir) => {
        const [{ runImport }, { Runtime }] = await loadStoreCommands();
        const rt = await Runtime.start({ start: new Date(), dataDir: dir });
        try {
          const { imported, bad } = await runImport(rt, file, process.stderr);
          process.stderr.write(`imported ${imported} users, ${bad} bad lines\n`);
          return bad > 0 ? 1 : 0;
        } finally {
          await rt.stop();
        }
      });
    }
    case 'export': {
      const kind = positionals[0] as ExportKind | undefined;
      const { EXPORTS } = await import('./commands/store.ts');
      if (!kind || !EXPORTS.includes(kind))
        throw new UsageError(`export needs one of: ${EXPORTS.join(', ')}`);
      return withStore(needDataDir(dataDir, 'export'), 'existing', 'export', async (dir) => {
        const [{ runExport }, { Runtime }] = await loadStoreCommands();
        const rt = await Runtime.start({ start: new Date(), dataDir: dir });
        try {
          const n = await runExport(rt, kind, process.stdout);
          process.stderr.write(`exported ${n} ${kind}\n`);
          return 0;
        } finally {
          await rt.stop();
        }
      });
    }
    case 'recall': {
      const userId = positionals[0];
      if (!userId) throw new UsageError('recall needs a user id: winback recall USER_ID --data-dir DIR');
      return withStore(needDataDir(dataDir, 'recall'), 'existing', 'recall', async (dir) => {
        const [{ runRecallHistory }, { Runtime }] = await loadStoreCommands();
        const rt = await Runtime.start({ start: new Date(), dataDir: dir });
        try {
          return await runRecallHistory(rt, userId, process.stdout);
        } finally {
          await rt.stop();
        }
      });
    }
    case 'serve': {
      const options = {
        port: port(values.port),
        daySeconds: daySeconds(values['day-seconds']),
        insecureLocal: values['insecure-local'] ?? false,
        token: process.env.WINBACK_API_TOKEN,
      };
      return withStore(dataDir, 'create', 'serve', async (dir) => {
        const { runServe } = await import('./commands/serve.ts');
        return runServe({ ...options, dataDir: dir });
      });
    }
    case 'content': {
      const { runContentCheck } = await import('./commands/content.ts');
      const [action, file] = positionals;
      if (action !== 'check' || !file) throw new UsageError('content needs: winback content check FILE');
      return runContentCheck(
        await readableFile(file, 'content check'),
        await loadPolicyFile(values.policy),
        process.stdout,
        process.stderr,
      );
    }
    case 'backfill': {
      const { runBackfill } = await import('./commands/backfill.ts');
      if (!values.users || !values.events || !values.from || !values.to)
        throw new UsageError('backfill needs --users FILE --events FILE --from YYYY-MM-DD --to YYYY-MM-DD');
      const policy = values.policy ? await loadPolicyFile(values.policy) : undefined;
      const inputs = {
        users: await readableFile(values.users, '--users'),
        events: await readableFile(values.events, '--events'),
        from: values.from,
        to: values.to,
      };
      // The lake lives in the store folder, so backfill marks and locks it like any writer.
      const result = await withStore(needDataDir(dataDir, 'backfill'), 'create', 'backfill', (dir) =>
        runBackfill({ ...inputs, dataDir: dir!, policy, stderr: process.stderr, progress: process.stderr }),
      );
      process.stderr.write(
        `backfilled ${result.days} days of ${result.users} users (${result.rows} snapshot rows, ${result.events} events) in ${result.seconds.toFixed(1)} s; ${result.bad} bad lines\n`,
      );
      return result.exitCode;
    }
    case 'report': {
      const { runReportCommand } = await import('./commands/report.ts');
      const options = {
        out: values.out,
        from: values.from,
        to: values.to,
        horizon: values.horizon,
        locale: values.locale,
        policy: values.policy ? await loadPolicyFile(values.policy) : undefined,
        stdout: process.stdout,
        usage: (message: string) => new UsageError(message),
      };
      return withStore(needDataDir(dataDir, 'report'), 'existing', 'report', (dir) =>
        runReportCommand({ ...options, dataDir: dir! }),
      );
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Errors a user can fix from the message alone: one line, no stack. */
const EXPECTED = new Set([
  'StoreDirError',
  'ServeConfigError',
  'InvalidPolicyError',
  'InputFileError',
  'ContentError',
]);

function oneLine(error: unknown): string {
  const { code, message, port: busy } = error as { code?: string; message?: string; port?: number };
  if (code === 'EADDRINUSE')
    return `port ${busy ?? ''} is in use; pick another with --port`.replace('  ', ' ');
  if (code === 'EACCES' && busy !== undefined)
    return `port ${busy} needs privileges; pick one above 1023 with --port`;
  return String(message ?? error).split('\n')[0]!;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || (error as Error).name === 'BackfillUsageError') {
    process.stderr.write(`winback: ${(error as Error).message}; see "winback help"\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`winback: ${oneLine(error)}\n`);
    // The stack is for a bug report, not for a mistake the line above already explains.
    if (process.env.WINBACK_DEBUG && !EXPECTED.has((error as Error).name)) console.error(error);
    else if (!EXPECTED.has((error as Error).name) && !(error as { code?: string }).code)
      process.stderr.write('winback: this looks like a bug; WINBACK_DEBUG=1 shows the details\n');
    process.exitCode = 1;
  }
}
