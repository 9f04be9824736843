import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/**
 * Named parameters of a report query, written `:name` in the .sql file: whole numbers (day
 * numbers, fen, days) or `YYYY-MM-DD` days (which let Athena prune the `day` partitions).
 */
export type QueryParams = Readonly<Record<string, number | string>>;

export type QueryRow = Record<string, unknown>;

/** Runs one report query over the lake tables `snapshots`, `feedback` and `recalls` (see docs/reports.md). */
export interface LakeQueryRunner {
  run(sql: string, params?: QueryParams): Promise<QueryRow[]>;
  close(): Promise<void>;
}

export class QueryParameterError extends Error {
  override readonly name = 'QueryParameterError';
}

/**
 * Writes the parameters into the query text as literals. Both engines then run the same plain
 * text (Athena's positional `?` and DuckDB's `$n` differ, and a `:name` may appear several times).
 * Only whole numbers and `'YYYY-MM-DD'` days are accepted, so nothing but digits and dashes ever
 * enters the SQL.
 */
export function bindParams(sql: string, params: QueryParams = {}): string {
  return sql.replace(/(?<![:\w]):([a-z][a-z0-9_]*)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new QueryParameterError(`query parameter :${name} was not given`);
    if (typeof value === 'string') {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value))
        throw new QueryParameterError(`query parameter :${name} must be a YYYY-MM-DD day, got "${value}"`);
      return `'${value}'`;
    }
    if (!Number.isSafeInteger(value))
      throw new QueryParameterError(`query parameter :${name} must be a whole number, got ${value}`);
    return String(value);
  });
}

/** A count the engine returned as text or bigint, as a number; refuses what a number cannot hold. */
function exactNumber(value: string | bigint, column: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n)))
    throw new RangeError(`column ${column}: ${String(value)} does not fit a JavaScript number`);
  return n;
}

// --- DuckDB (embedded) ---------------------------------------------------------------------------

/** Column types of the lake rows (docs/reports.md, the lake contract). */
const SNAPSHOT_COLUMNS: Record<string, string> = {
  day: 'VARCHAR',
  dayNumber: 'INTEGER',
  userId: 'VARCHAR',
  status: 'VARCHAR',
  level: 'VARCHAR',
  score: 'INTEGER',
  lifecycle: 'VARCHAR',
  channel: 'VARCHAR',
  reasonCodes: 'VARCHAR[]',
  registeredMonth: 'VARCHAR',
  investCount: 'INTEGER',
  maxInvestFen: 'BIGINT',
  totalInvestedFen: 'BIGINT',
  balanceFen: 'BIGINT',
  heldBonusProduct: 'BOOLEAN',
  daysSinceLogin: 'INTEGER',
  daysSinceInvest: 'INTEGER',
  churnReason: 'VARCHAR',
};

const FEEDBACK_COLUMNS: Record<string, string> = {
  day: 'VARCHAR',
  dayNumber: 'INTEGER',
  userId: 'VARCHAR',
  feedbackId: 'VARCHAR',
  churnReason: 'VARCHAR',
  issues: 'VARCHAR[]',
  at: 'VARCHAR',
};

/** One row per recall or holdout draw, as Prepare starts it and Close closes it (effectiveness.ts). */
const RECALL_COLUMNS: Record<string, string> = {
  day: 'VARCHAR',
  recallId: 'VARCHAR',
  userId: 'VARCHAR',
  trigger: 'VARCHAR',
  startedDay: 'VARCHAR',
  startedDayNumber: 'INTEGER',
  closedDay: 'VARCHAR',
  closedDayNumber: 'INTEGER',
  outcome: 'VARCHAR',
  winningStep: 'VARCHAR',
  holdout: 'BOOLEAN',
  level: 'VARCHAR',
  lifecycle: 'VARCHAR',
  channel: 'VARCHAR',
  strategies: 'VARCHAR[]',
  strategy: 'VARCHAR',
  stepsSent: 'VARCHAR[]',
  smsCount: 'INTEGER',
  pushCount: 'INTEGER',
  inAppCount: 'INTEGER',
  smsDayNumber: 'INTEGER',
  smsSkipped: 'BOOLEAN',
  rewardFen: 'BIGINT',
  rewardUnlocked: 'BOOLEAN',
  reinvestedFen: 'BIGINT',
  relapsedWithin30Days: 'BOOLEAN',
};

export const LAKE_COLUMNS = {
  snapshots: SNAPSHOT_COLUMNS,
  feedback: FEEDBACK_COLUMNS,
  recalls: RECALL_COLUMNS,
} as const;
export type QueryTable = keyof typeof LAKE_COLUMNS;

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

function hasParts(tableDir: string): boolean {
  if (!existsSync(tableDir)) return false;
  return readdirSync(tableDir, { withFileTypes: true }).some(
    (d) => d.isDirectory() && readdirSync(join(tableDir, d.name)).some((f) => f.endsWith('.jsonl.gz')),
  );
}

/**
 * `CREATE VIEW` for one lake table (or `CREATE TABLE`, which reads the files once); with no files
 * yet, an empty relation of the same columns.
 */
export function lakeViewSql(rootDir: string, table: QueryTable, kind: 'VIEW' | 'TABLE' = 'VIEW'): string {
  const columns = LAKE_COLUMNS[table];
  const dir = join(rootDir, table);
  if (!hasParts(dir)) {
    const typed = Object.entries(columns)
      .map(([name, type]) => `CAST(NULL AS ${type}) AS "${name}"`)
      .join(', ');
    return `CREATE ${kind} ${table} AS SELECT ${typed} WHERE false`;
  }
  const struct = Object.entries(columns)
    .map(([name, type]) => `"${name}": ${sqlString(type)}`)
    .join(', ');
  return `CREATE ${kind} ${table} AS SELECT * FROM read_json(${sqlString(`${dir}/*/*.jsonl.gz`)}, columns = {${struct}}, format = 'newline_delimited', compression = 'gzip', hive_partitioning = false)`;
}

type DuckDb = typeof import('@duckdb/node-api');

/**
 * DuckDB is loaded on first use through a specifier esbuild cannot follow: the Lambda bundles
 * (which run Athena) then carry no native DuckDB binding; the embedded runtime has node_modules.
 */
const DUCKDB_MODULE = '@duckdb/node-api';
async function loadDuckDb(): Promise<DuckDb> {
  return (await import(DUCKDB_MODULE)) as DuckDb;
}

export interface DuckDbRunnerOptions {
  /**
   * Read the lake into in-memory tables once instead of views that re-read the files on every
   * query. The report runs ten queries, and parsing gzip JSON dominates each of them, so the
   * report materializes; a single ad-hoc query does not need to.
   */
  materialize?: boolean;
  /**
   * DuckDB's memory limit. The materialized copy lives in a temporary database file (compressed,
   * about 25 bytes a row against about 270 in memory), so 18 million user-days fit in this.
   */
  memoryLimit?: string;
}

/**
 * The report queries on DuckDB over `<rootDir>/snapshots/day=…/*.jsonl.gz` and `<rootDir>/feedback/…`.
 * Opens a database on first use (in memory for views, a temporary file when materializing);
 * `close()` closes the connection and the instance (an open instance keeps the process alive)
 * and removes the temporary file.
 */
export class DuckDbLakeRunner implements LakeQueryRunner {
  private instance: DuckDBInstance | undefined;
  private connection: DuckDBConnection | undefined;
  /** One connection runs one statement at a time: callers may `Promise.all`, the runner queues. */
  private queue: Promise<unknown> = Promise.resolve();
  private scratch: string | undefined;
  private bigNumbers = new Set<number>();

  constructor(
    readonly rootDir: string,
    private readonly options: DuckDbRunnerOptions = {},
  ) {}

  private async connect(): Promise<DuckDBConnection> {
    if (this.connection) return this.connection;
    const { DuckDBInstance, DuckDBTypeId } = await loadDuckDb();
    this.bigNumbers = new Set<number>([
      DuckDBTypeId.BIGINT,
      DuckDBTypeId.UBIGINT,
      DuckDBTypeId.HUGEINT,
      DuckDBTypeId.UHUGEINT,
      DuckDBTypeId.DECIMAL,
    ]);
    if (this.options.materialize) {
      this.scratch = mkdtempSync(join(tmpdir(), 'winback-lake-query-'));
      this.instance = await DuckDBInstance.create(join(this.scratch, 'lake.duckdb'), {
        memory_limit: this.options.memoryLimit ?? '1GB',
        temp_directory: this.scratch,
        // Reading thousands of small parts (the recalls table has one per recall) into a table in
        // file order ran out of a 1 GB limit with two threads; every query orders its own output.
        preserve_insertion_order: 'false',
      });
    } else {
      this.instance = await DuckDBInstance.create(':memory:');
    }
    const connection = await this.instance.connect();
    this.connection = connection;
    const kind = this.options.materialize ? 'TABLE' : 'VIEW';
    for (const table of Object.keys(LAKE_COLUMNS) as QueryTable[])
      await connection.run(lakeViewSql(this.rootDir, table, kind));
    return connection;
  }

  run(sql: string, params?: QueryParams): Promise<QueryRow[]> {
    const next = this.queue.then(() => this.runNow(sql, params));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(sql: string, params?: QueryParams): Promise<QueryRow[]> {
    const connection = await this.connect();
    const reader = await connection.runAndReadAll(bindParams(sql, params));
    // BIGINT counts and DECIMAL sums arrive as strings from getRowObjectsJson: turn those columns,
    // and only those, into numbers (text columns such as a day stay text).
    const names = reader.columnNames();
    const numeric = reader.columnTypes().map((t) => this.bigNumbers.has(t.typeId));
    return reader.getRowObjectsJson().map((row) => {
      const out: QueryRow = {};
      names.forEach((name, i) => {
        const value = row[name];
        out[name] = numeric[i] && typeof value === 'string' ? exactNumber(value, name) : value;
      });
      return out;
    });
  }

  async close(): Promise<void> {
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
    this.instance = undefined;
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
  }
}

// --- Athena (AWS) ---------------------------------------------------------------------------------

export class AthenaQueryError extends Error {
  override readonly name = 'AthenaQueryError';
}

export interface AthenaRunnerOptions {
  /** First wait between status checks; doubles up to `maxPollMs`. */
  firstPollMs?: number;
  maxPollMs?: number;
  /** Gives up (and says so) after this long; the Lambda timeout must be longer. */
  timeoutMs?: number;
  /** Injected in tests; a real timer otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

const NUMERIC_ATHENA = new Set([
  'tinyint',
  'smallint',
  'integer',
  'int',
  'bigint',
  'double',
  'float',
  'real',
]);

function athenaValue(text: string | undefined, column: ColumnInfo): unknown {
  if (text === undefined) return null;
  const type = (column.Type ?? 'varchar').toLowerCase();
  if (NUMERIC_ATHENA.has(type) || type.startsWith('decimal')) return exactNumber(text, column.Name ?? '?');
  if (type === 'boolean') return text === 'true';
  return text;
}

/**
 * The report queries on Athena: StartQueryExecution in the lake's workgroup and database, then
 * GetQueryExecution with a growing pause until the query ends, then every page of GetQueryResults.
 */
export class AthenaLakeRunner implements LakeQueryRunner {
  private readonly firstPollMs: number;
  private readonly maxPollMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly athena: AthenaClient,
    private readonly workgroup: string,
    private readonly database: string,
    options: AthenaRunnerOptions = {},
  ) {
    this.firstPollMs = options.firstPollMs ?? 250;
    this.maxPollMs = options.maxPollMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async run(sql: string, params?: QueryParams): Promise<QueryRow[]> {
    const started = await this.athena.send(
      new StartQueryExecutionCommand({
        QueryString: bindParams(sql, params),
        WorkGroup: this.workgroup,
        QueryExecutionContext: { Database: this.database },
      }),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new AthenaQueryError('Athena StartQueryExecution returned no QueryExecutionId');
    await this.waitFor(id);
    return this.readResults(id);
  }

  private async waitFor(id: string): Promise<void> {
    let pause = this.firstPollMs;
    let waited = 0;
    for (;;) {
      const { QueryExecution } = await this.athena.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
      );
      const state = QueryExecution?.Status?.State;
      if (state === 'SUCCEEDED') return;
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = QueryExecution?.Status?.StateChangeReason ?? 'no reason given';
        throw new AthenaQueryError(`Athena query ${id} ${state.toLowerCase()}: ${reason}`);
      }
      if (waited >= this.timeoutMs)
        throw new AthenaQueryError(`Athena query ${id} still ${state ?? 'unknown'} after ${waited} ms`);
      await this.sleep(pause);
      waited += pause;
      pause = Math.min(pause * 2, this.maxPollMs);
    }
  }

  private async readResults(id: string): Promise<QueryRow[]> {
    const rows: QueryRow[] = [];
    let columns: ColumnInfo[] | undefined;
    let nextToken: string | undefined;
    let first = true;
    do {
      const page = await this.athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, NextToken: nextToken }),
      );
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const data = page.ResultSet?.Rows ?? [];
      // A SELECT's first page starts with the column names as a row.
      for (const row of first ? data.slice(1) : data) {
        const out: QueryRow = {};
        columns.forEach((column, i) => {
          out[column.Name ?? `_${i}`] = athenaValue(row.Data?.[i]?.VarCharValue, column);
        });
        rows.push(out);
      }
      first = false;
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  async close(): Promise<void> {}
}

// --- Query files ----------------------------------------------------------------------------------

/**
 * Reads the report queries (`<dir>/<name>.sql`). Locally `dir` is the repo's queries/; in Lambda the
 * bundle carries a copy next to the handler.
 */
export function loadQueries<N extends string>(dir: string, names: readonly N[]): Record<N, string> {
  const out = {} as Record<N, string>;
  for (const name of names) out[name] = readFileSync(join(dir, `${name}.sql`), 'utf8');
  return out;
}
