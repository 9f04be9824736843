import { parseArgs } from 'node:util';
import { loadPolicyFile, runAssess } from './commands/assess.ts';
import { runDemo } from './commands/demo.ts';
import { EXPORTS, type ExportKind, runExport, runImport, runRecallHistory } from './commands/store.ts';
import { Runtime } from './runtime.ts';

const HELP = `winback — churn early warning and recall, embedded runtime

Usage: winback <command> [options]

Commands
  demo                      Seed a user base, run the daily scan each simulated morning and the
                            recall escalation through the day; print the summary and recall funnel.
      --users N             users to seed (default 10000; only when the store is empty)
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
                            Serve the HTTP API on 127.0.0.1 (needs WINBACK_API_TOKEN).
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

class UsageError extends Error {}

function day(value: string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UsageError(`--as-of must be YYYY-MM-DD, got "${value}"`);
  // The scan runs at 09:00 in Shanghai: 01:00 UTC of that day.
  const at = new Date(`${value}T01:00:00Z`);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--as-of is not a real date: "${value}"`);
  return at;
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return n;
}

function needDataDir(dataDir: string | undefined, command: string): string {
  if (!dataDir)
    throw new UsageError(`${command} needs --data-dir DIR (the store written by demo, import or serve)`);
  return dataDir;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      users: { type: 'string' },
      seed: { type: 'string' },
      days: { type: 'string' },
      'as-of': { type: 'string' },
      'data-dir': { type: 'string' },
      policy: { type: 'string' },
      segments: { type: 'string' },
      input: { type: 'string' },
      port: { type: 'string' },
      'day-seconds': { type: 'string' },
      'insecure-local': { type: 'boolean' },
      from: { type: 'string' },
      to: { type: 'string' },
      horizon: { type: 'string' },
      locale: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (!command || command === 'help' || command === '--help' || command === '-h' || values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const dataDir = values['data-dir'];
  switch (command) {
    case 'demo': {
      await runDemo({
        users: positiveInt(values.users, 'users', 10_000),
        seed: positiveInt(values.seed, 'seed', 42),
        days: positiveInt(values.days, 'days', 14),
        asOf: day(values['as-of'], new Date('2026-11-24T01:00:00Z')),
        dataDir,
        policy: values.policy ? await loadPolicyFile(values.policy) : undefined,
        segments: values.segments ? positiveInt(values.segments, 'segments', 8) : undefined,
        out: process.stdout,
      });
      return 0;
    }
    case 'assess': {
      const input = values.input ?? positionals[0];
      if (!input) throw new UsageError('assess needs --input FILE (or - for stdin)');
      const today = new Date(`${new Date().toISOString().slice(0, 10)}T01:00:00Z`);
      const result = await runAssess({
        input,
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
      const rt = await Runtime.start({ start: new Date(), dataDir: needDataDir(dataDir, 'import') });
      try {
        const { imported, bad } = await runImport(rt, file, process.stderr);
        process.stderr.write(`imported ${imported} users, ${bad} bad lines\n`);
        return bad > 0 ? 1 : 0;
      } finally {
        await rt.stop();
      }
    }
    case 'export': {
      const kind = positionals[0] as ExportKind | undefined;
      if (!kind || !EXPORTS.includes(kind))
        throw new UsageError(`export needs one of: ${EXPORTS.join(', ')}`);
      const rt = await Runtime.start({ start: new Date(), dataDir: needDataDir(dataDir, 'export') });
      try {
        const n = await runExport(rt, kind, process.stdout);
        process.stderr.write(`exported ${n} ${kind}\n`);
        return 0;
      } finally {
        await rt.stop();
      }
    }
    case 'recall': {
      const userId = positionals[0];
      if (!userId) throw new UsageError('recall needs a user id: winback recall USER_ID --data-dir DIR');
      const rt = await Runtime.start({ start: new Date(), dataDir: needDataDir(dataDir, 'recall') });
      try {
        return await runRecallHistory(rt, userId, process.stdout);
      } finally {
        await rt.stop();
      }
    }
    case 'serve': {
      const { runServe } = await import('./commands/serve.ts');
      return runServe({
        port: positiveInt(values.port, 'port', 8080),
        dataDir,
        daySeconds: values['day-seconds'] ? Number(values['day-seconds']) : undefined,
        insecureLocal: values['insecure-local'] ?? false,
        token: process.env.WINBACK_API_TOKEN,
      });
    }
    case 'report': {
      const { runReportCommand } = await import('./commands/report.ts');
      return runReportCommand({
        dataDir: needDataDir(dataDir, 'report'),
        out: values.out,
        from: values.from,
        to: values.to,
        horizon: values.horizon,
        locale: values.locale,
        policy: values.policy ? await loadPolicyFile(values.policy) : undefined,
        stdout: process.stdout,
        usage: (message) => new UsageError(message),
      });
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (
    error instanceof UsageError ||
    ((error as Error).name === 'TypeError' && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
  ) {
    process.stderr.write(`winback: ${(error as Error).message}\nRun "winback help" for usage.\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`winback: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
