import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { ActivityLog } from '../functions/adapters/activity-log.ts';
import { Inbox } from '../functions/adapters/inbox.ts';
import { type LakeWriter, LocalLakeWriter } from '../functions/adapters/lake.ts';
import { createQuietLogger, type WinbackLogger } from '../functions/adapters/logger.ts';
import { MessageLedger } from '../functions/adapters/message-ledger.ts';
import { RecallRepository, recallStartOf } from '../functions/adapters/recall-repository.ts';
import { LocalReportStore, smsStepFiguresFrom } from '../functions/adapters/report-store.ts';
import { Rewards } from '../functions/adapters/rewards.ts';
import { UserRepository } from '../functions/adapters/user-repository.ts';
import type { StartedExecution, WorkflowStarter } from '../functions/adapters/workflow-starter.ts';
import type { SmsStepRow } from '../functions/domain/effectiveness.ts';
import type { Policy } from '../functions/domain/policy.ts';
import { parsePolicy } from '../functions/domain/policy.ts';
import { prepareHandler } from '../functions/handlers/recall-prepare.ts';
import { scanSegmentHandler } from '../functions/handlers/scan-segment.ts';
import { type ScanSummary, scanSummaryHandler } from '../functions/handlers/scan-summary.ts';
import {
  type CheckInput,
  type CloseInput,
  type CloseResult,
  checkReturn,
  closeRecall,
  type PreparedRecall,
  type RecallStepDeps,
  type SendStepInput,
  type SendStepResult,
  sendStep,
} from '../functions/use-cases/recall-steps.ts';
import type { ActivityDeps } from '../functions/use-cases/record-activity.ts';
import { noRecalls, type RecallTrigger } from '../functions/use-cases/scan-segment.ts';
import { ScheduledRecalls, type StartRecallDeps } from '../functions/use-cases/start-recall.ts';
import { HANDLER_TAG } from '../lib/function.ts';
import type { TableName } from '../lib/user-store.ts';
import type { WinbackConfig } from '../lib/winback-stack.ts';
import { SimulatedClock } from './clock.ts';
import {
  createDynamoClients,
  type DynamoClients,
  type DynamoServer,
  startDynamoServer,
} from './dynamo-server.ts';
import type { FaultPlan } from './faults.ts';
import { LocalOutbox, OUTBOX_TABLE } from './outbox.ts';
import { synthTemplate } from './synth.ts';
import {
  type AslDefinition,
  type CfnTemplate,
  ensureTables,
  stateMachinesFromTemplate,
  tablesFromTemplate,
} from './template.ts';
import { type LocalExecution, type LocalTask, LocalWorkflow } from './workflow-engine.ts';

/**
 * Concurrency against the one local store. Recalls started by one scan wake at the same simulated
 * instants, thousands at once; running a bounded number of their steps at a time keeps the store
 * and this process busy without queueing thousands of requests. Scan segments (8 by default) each
 * write this many users at a time. Together they stay within the client's LOCAL_STORE_SOCKETS.
 */
export const RECALL_TASK_CONCURRENCY = 32;
export const SCAN_WRITE_CONCURRENCY = 4;

export interface RuntimeOptions {
  /** Keep the store on disk here; in memory when absent. */
  dataDir?: string;
  /** Use a DynamoDB-compatible server that is already running (tests share one). */
  endpoint?: string;
  /** Prefix for every local table name, so several runtimes can share one server. */
  tablePrefix?: string;
  start: Date;
  policy?: unknown;
  config?: Omit<WinbackConfig, 'policy'>;
  logger?: WinbackLogger;
  /** Whether the daily scan starts recalls (the foundation demo can run without them). */
  recalls?: boolean;
  /** Injects faults into the store, the providers, the task handlers and StartExecution (test/faults). */
  faults?: FaultPlan;
}

export interface RecallObserver {
  onPrepared?(plan: PreparedRecall): void | Promise<void>;
  onSent?(result: SendStepResult, input: SendStepInput): void | Promise<void>;
  onClosed?(result: CloseResult): void | Promise<void>;
}

/**
 * The embedded runtime: a DynamoDB-compatible server on loopback, the tables and state machines of
 * the synthesized stack, the real handlers behind every task, and a simulated clock driving waits.
 */
export class Runtime {
  readonly observers: RecallObserver[] = [];
  faults: FaultPlan | undefined;
  private constructor(
    readonly clock: SimulatedClock,
    readonly template: CfnTemplate,
    readonly policy: Policy,
    readonly clients: DynamoClients,
    readonly tables: Record<TableName | 'Outbox', string>,
    readonly users: UserRepository,
    readonly recalls: RecallRepository,
    readonly ledger: MessageLedger,
    readonly inbox: Inbox,
    readonly rewards: Rewards,
    readonly events: ActivityLog,
    readonly outbox: LocalOutbox,
    readonly logger: WinbackLogger,
    private readonly server: DynamoServer | undefined,
    private readonly definitions: Record<string, AslDefinition>,
    private readonly recallsEnabled: boolean,
  ) {}

  recallWorkflow!: LocalWorkflow;
  scanWorkflow!: LocalWorkflow;
  /** The embedded lake: `<data-dir>/lake`, or a temporary folder (kept after stop) for in-memory runs. */
  lakeDir!: string;
  lake!: LakeWriter;

  static async start(opts: RuntimeOptions): Promise<Runtime> {
    const policy = parsePolicy(opts.policy ?? {}, 'policy');
    const template = synthTemplate({ ...opts.config, policy });
    const server = opts.endpoint
      ? undefined
      : await startDynamoServer({ dataDir: opts.dataDir, worker: true });
    const clients = createDynamoClients(opts.endpoint ?? server!.endpoint, {
      requestHandler: server?.requestHandler,
    });
    const prefix = opts.tablePrefix ?? '';
    const defs = tablesFromTemplate(template).map((d) => ({
      ...d,
      name: prefix + d.name,
      input: { ...d.input, TableName: prefix + d.name },
    }));
    await ensureTables(clients.client, defs);
    try {
      await clients.client.send(
        new CreateTableCommand({ ...OUTBOX_TABLE, TableName: prefix + OUTBOX_TABLE.TableName }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    const tables = Object.fromEntries([
      ...defs.map((d) => [d.name.slice(prefix.length), d.name]),
      ['Outbox', prefix + OUTBOX_TABLE.TableName!],
    ]) as Record<TableName | 'Outbox', string>;

    const clock = new SimulatedClock(opts.start);
    const now = () => clock.now();
    const { doc } = clients;
    const runtime = new Runtime(
      clock,
      template,
      policy,
      clients,
      tables,
      new UserRepository(doc, tables.Users),
      new RecallRepository(doc, tables.Recalls),
      new MessageLedger(doc, tables.Messages),
      new Inbox(doc, tables.Inbox),
      new Rewards(doc, tables.Rewards),
      new ActivityLog(doc, tables.Events),
      new LocalOutbox(doc, tables.Outbox, now),
      opts.logger ?? createQuietLogger(),
      server,
      stateMachinesFromTemplate(template),
      opts.recalls ?? true,
    );
    runtime.lakeDir = opts.dataDir
      ? join(opts.dataDir, 'lake')
      : await mkdtemp(join(tmpdir(), 'winback-lake-'));
    runtime.lake = new LocalLakeWriter(runtime.lakeDir);
    runtime.faults = opts.faults;
    opts.faults?.attach(runtime);
    runtime.wireWorkflows();
    return runtime;
  }

  get stepDeps(): RecallStepDeps {
    return {
      users: this.users,
      recalls: this.recalls,
      ledger: this.ledger,
      inbox: this.inbox,
      rewards: this.rewards,
      push: this.outbox,
      sms: this.outbox,
      policy: this.policy,
      logger: this.logger,
      now: () => this.clock.now(),
      lake: this.lake,
      smsStepFigures: this.smsStepFigures,
    };
  }

  /** The last report's SMS-step figures, re-read at most hourly in simulated time. */
  private smsStepFiguresCache: (() => Promise<readonly SmsStepRow[] | undefined>) | undefined;
  private get smsStepFigures(): () => Promise<readonly SmsStepRow[] | undefined> {
    this.smsStepFiguresCache ??= smsStepFiguresFrom(
      new LocalReportStore(this.lakeDir),
      60 * 60 * 1000,
      () => this.clock.now().getTime(),
      (error) =>
        this.logger.warn('last report unreadable: no SMS step is skipped until it is', {
          error: String(error),
        }),
    );
    return this.smsStepFiguresCache;
  }

  get startDeps(): StartRecallDeps {
    return {
      users: this.users,
      recalls: this.recalls,
      workflow: this.faults?.wrapStarter(this.starter) ?? this.starter,
      notifier: this.outbox,
      policy: this.policy,
      logger: this.logger,
      lake: this.lake,
      ledger: this.ledger,
      rewards: this.rewards,
    };
  }

  get activityDeps(): ActivityDeps {
    return {
      users: this.users,
      policy: this.policy,
      events: this.events,
      inbox: this.inbox,
      rewards: this.rewards,
      logger: this.logger,
      now: () => this.clock.now(),
    };
  }

  /** Starts recall executions on the local engine, with the same naming rules as Step Functions. */
  readonly starter: WorkflowStarter = {
    start: async (name: string, input: object): Promise<StartedExecution> => {
      const existing = this.recallWorkflow.describe(name);
      // As Step Functions answers ExecutionAlreadyExists for a used name, the starter reports a repeat.
      // Like StepFunctionsStarter: a name already used (other input, or finished) is a repeat, not an error.
      if (existing) return { executionArn: existing.arn, alreadyStarted: true };
      const execution = this.recallWorkflow.start(name, input);
      return { executionArn: execution.arn, alreadyStarted: false };
    },
    isRunning: async (executionArn: string) =>
      this.recallWorkflow.list().some((e) => e.arn === executionArn && e.status === 'RUNNING'),
    consoleUrl: (executionArn: string) => `winback recall ${executionArn.split(':').at(-1)}`,
  };

  scanTrigger: RecallTrigger = noRecalls;
  /** The DailyScan's report step; set to localReportTask(...) where a lake is kept (local/report-task.ts). */
  // Skipped by default: the demo writes one report at its end rather than one per simulated day.
  reportTask: LocalTask = async () => ({ day: null, html: null, json: null, skipped: true });
  progress: ((scanned: number) => void) | undefined;

  /** The real handlers, by the handler tag the stack puts on each function. */
  private handlers(): Record<string, LocalTask> {
    const step = this.stepDeps;
    return {
      'scan-segment': (payload) =>
        scanSegmentHandler(payload, {
          users: this.users,
          policy: this.policy,
          recalls: this.scanTrigger,
          logger: this.logger,
          remainingMs: () => Number.POSITIVE_INFINITY,
          writeConcurrency: SCAN_WRITE_CONCURRENCY,
          onProgress: (n) => this.progress?.(n),
          lake: this.lake,
        }),
      'scan-summary': (payload) =>
        scanSummaryHandler(payload as Parameters<typeof scanSummaryHandler>[0], {
          notifier: this.outbox,
          logger: this.logger,
          previousReport: () => new LocalReportStore(this.lakeDir).latest(),
        }),
      report: (payload) => this.reportTask(payload),
      'recall-prepare': async (payload) => {
        const plan = await prepareHandler(payload, step);
        for (const o of this.observers) await o.onPrepared?.(plan);
        return plan;
      },
      'recall-send': async (payload) => {
        const result = await sendStep(payload as SendStepInput, step);
        for (const o of this.observers) await o.onSent?.(result, payload as SendStepInput);
        return result;
      },
      'recall-check': (payload) => checkReturn(payload as CheckInput, step),
      'recall-close': async (payload) => {
        const result = await closeRecall(payload as CloseInput, step);
        for (const o of this.observers) await o.onClosed?.(result);
        return result;
      },
    };
  }

  private wireWorkflows(): void {
    const handlers = this.faults?.wrapTasks(this.handlers()) ?? this.handlers();
    const build = (workflow: string, maxConcurrentTasks?: number) => {
      const definition = this.definitions[workflow];
      if (!definition) throw new Error(`the synthesized stack has no ${workflow} state machine`);
      return new LocalWorkflow({
        definition,
        tasks: tasksByState(definition, this.template, handlers),
        clock: this.clock,
        name: workflow,
        maxConcurrentTasks,
      });
    };
    this.recallWorkflow = build('Recall', RECALL_TASK_CONCURRENCY);
    this.scanWorkflow = build('DailyScan');
    if (this.recallsEnabled) this.scanTrigger = new ScheduledRecalls(this.startDeps);
  }

  /** Requests this runtime has sent to its own store so far; undefined on a shared server. */
  get storeCalls(): number | undefined {
    return this.server?.requestHandler?.requests;
  }

  /** Runs the daily scan state machine for `asOf` to its end and returns its summary. */
  async runDailyScan(asOf: string): Promise<{ execution: LocalExecution; summary: ScanSummary }> {
    const name = `scan-${asOf.replace(/[^0-9]/g, '').slice(0, 12)}`;
    const execution = this.scanWorkflow.describe(name) ?? this.scanWorkflow.start(name, { asOf });
    await execution.done;
    if (execution.status !== 'SUCCEEDED') {
      // The Map's Catch hides the segment's own error; the history keeps it.
      const cause = execution.history.find((e) => e.type === 'StateFailed')?.data;
      throw new Error(
        `daily scan ${name} ${execution.status}: ${execution.error?.error}; first failure: ${JSON.stringify(cause)?.slice(0, 1500)}`,
      );
    }
    return { execution, summary: execution.output as ScanSummary };
  }

  /**
   * Executions live in this process only; an episode left open by an earlier run is started again
   * from the top. The ledger makes that safe: steps already sent answer with their first send.
   */
  async resumeOpenRecalls(): Promise<number> {
    let resumed = 0;
    for await (const r of this.recalls.scanAll()) {
      if (r.outcome || this.recallWorkflow.describe(r.recallId)) continue;
      this.recallWorkflow.start(r.recallId, recallStartOf(r));
      resumed++;
    }
    return resumed;
  }

  /** Advances simulated time to `at`, letting every recall step that falls due run at its own time. */
  async advanceTo(at: Date | string): Promise<void> {
    await this.clock.advanceTo(at);
    await this.clock.settle();
  }

  /** Resolves when every running recall is parked in a wait (or done): nothing is mid-step. */
  async idle(): Promise<void> {
    await this.clock.settle();
  }

  async stop(): Promise<void> {
    await this.recallWorkflow.stopAll();
    await this.scanWorkflow.stopAll();
    this.clients.client.destroy();
    await this.server?.stop();
  }
}

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string };
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
}

/** Maps each Task state to the handler of the function it invokes, found through the function's tag. */
export function tasksByState(
  definition: AslDefinition,
  template: CfnTemplate,
  handlers: Record<string, LocalTask>,
): Record<string, LocalTask> {
  const tasks: Record<string, LocalTask> = {};
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const fn = state.Parameters?.FunctionName ?? '';
        const logicalId = fn.split(':').at(-1) ?? '';
        const resource = template.Resources?.[logicalId];
        const tags = (resource?.Properties?.Tags ?? []) as { Key: string; Value: string }[];
        const handler = tags.find((t) => t.Key === HANDLER_TAG)?.Value;
        const local = handler ? handlers[handler] : undefined;
        if (!local)
          throw new Error(
            `task "${name}" invokes ${logicalId || fn}, which has no local handler (${handler ?? 'no handler tag'})`,
          );
        tasks[name] = local;
      }
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
      if (state.Iterator) visit(state.Iterator.States);
      for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  visit((definition as unknown as { States: Record<string, AslState> }).States);
  return tasks;
}
