import { AsyncLocalStorage } from 'node:async_hooks';
import { type DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { DeliveryRef } from '../functions/adapters/delivery.ts';
import type { StartedExecution, WorkflowStarter } from '../functions/adapters/workflow-starter.ts';
import { fnv1a } from '../functions/domain/recall.ts';
import type { LocalOutbox } from './outbox.ts';
import { mulberry32 } from './seed.ts';
import type { LocalTask } from './workflow-engine.ts';

/**
 * A seeded fault plan for the embedded runtime: it decides, at every point where production can
 * fail, whether this run fails there, and counts what it injected.
 *
 * Where faults go in (all only inside an invocation scope, so seeding and checking never see one):
 * - DynamoDB, every table but the outbox: an SDK middleware above the SDK's own retries throws
 *   `ProvisionedThroughputExceededException` or `TimeoutError` before the request leaves, or a
 *   `TimeoutError` after DynamoDB applied it (what a client sees once its retries are spent).
 * - Lambda crashes: a task throws `Sandbox.Timedout` before its handler runs, or `Runtime.ExitError`
 *   after it returned; or the process dies just before or just after one of its writes (DynamoDB or
 *   the provider): from then on every call it makes fails, and the task ends in `Runtime.ExitError`
 *   whatever the handler did with the errors it saw.
 * - Providers (the local outbox that stands in for SNS and End User Messaging): a definite refusal
 *   before acceptance, or an in-doubt outcome: the message is accepted, then the call times out.
 * - `StartExecution`: `ThrottlingException` (the starter's own backoff spent) or `ExecutionLimitExceeded`.
 *
 * Draws are keyed, not sequential: each decision hashes the seed with what is being decided (the
 * task and its payload, the command and the item key, the recall step, the occurrence number), so
 * the same seed injects the same faults at the same points however concurrent work interleaves.
 */

export const FAULT_KINDS = [
  'dynamo.throttled',
  'dynamo.timeout_before_send',
  'dynamo.timeout_after_apply',
  'lambda.crash_before_handler',
  'lambda.crash_after_handler',
  'lambda.crash_before_write',
  'lambda.crash_after_write',
  'provider.refused',
  'provider.in_doubt',
  'start.throttled',
  'start.execution_limit',
  // Scenario faults: injected by whoever drives the runtime, counted here so one report lists all.
  'scan.twice_same_day',
  'recall.manual_racing_scan',
  'event.duplicate_delivery',
  'event.out_of_order',
  'event.retried_after_error',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Probability per opportunity (a DynamoDB call, a task invocation, a write, a delivery, a start). */
export interface FaultRates {
  dynamoThrottled: number;
  dynamoTimeoutBeforeSend: number;
  dynamoTimeoutAfterApply: number;
  crashBeforeHandler: number;
  crashAfterHandler: number;
  crashAtWrite: number;
  providerRefused: number;
  providerInDoubt: number;
  startThrottled: number;
  startExecutionLimit: number;
  /**
   * Per-call rates are multiplied by this inside a scan segment, which makes thousands of calls per
   * invocation: at the recall steps' rate almost every segment would fail every attempt.
   */
  scanCallFactor: number;
}

export const DEFAULT_FAULT_RATES: FaultRates = {
  dynamoThrottled: 0.004,
  dynamoTimeoutBeforeSend: 0.002,
  dynamoTimeoutAfterApply: 0.003,
  crashBeforeHandler: 0.01,
  crashAfterHandler: 0.01,
  crashAtWrite: 0.006,
  providerRefused: 0.04,
  providerInDoubt: 0.04,
  startThrottled: 0.03,
  startExecutionLimit: 0.03,
  scanCallFactor: 0.02,
};

/** One injected fault, for reproducing a failure: what, where, and the draw key. */
export interface FaultEvent {
  kind: FaultKind;
  scope: string;
  detail: string;
}

interface Scope {
  /** An invocation can be faulted; an execution only labels the invocations it makes. */
  kind: 'invocation' | 'execution';
  /** The task's handler tag, or the API action the driver names. */
  tag: string;
  /** The execution this work belongs to: concurrent executions with equal task payloads draw apart. */
  execution: string;
  key: string;
  dead: boolean;
  calls: Map<string, number>;
}

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

export class FaultPlan {
  readonly rates: FaultRates;
  readonly counts: Record<FaultKind, number>;
  /** Provider deliveries accepted and then answered in doubt, by `recallId|step`. */
  readonly inDoubt = new Map<string, number>();
  /** Every fault injected, in order of injection (bounded). */
  readonly log: FaultEvent[] = [];
  /** False switches every injection off (the runtime keeps working normally). */
  active = true;
  readonly #scope = new AsyncLocalStorage<Scope>();
  readonly #occurrences = new Map<string, number>();
  #outboxTable = '';

  constructor(
    readonly seed: number,
    rates: Partial<FaultRates> = {},
  ) {
    this.rates = { ...DEFAULT_FAULT_RATES, ...rates };
    this.counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  }

  /** A uniform number in [0, 1) determined by the seed and the key alone. */
  draw(key: string): number {
    return hashUnit(this.seed, key);
  }

  /** A sequential PRNG on the seed (mulberry32), for drivers that generate a scenario up front. */
  random(stream: string): () => number {
    return mulberry32(hashUnit(this.seed, `stream|${stream}`) * 0x1_0000_0000);
  }

  count(kind: FaultKind, scope = '', detail = ''): void {
    this.counts[kind]++;
    if (this.log.length < 50_000) this.log.push({ kind, scope, detail });
  }

  /** Faults injected so far, per kind, as lines `kind  count`. */
  summary(): string {
    const width = Math.max(...FAULT_KINDS.map((k) => k.length));
    return FAULT_KINDS.map((k) => `${k.padEnd(width)}  ${this.counts[k]}`).join('\n');
  }

  /**
   * Runs `work` as one invocation (a Lambda task, an API request): faults are injected only inside
   * one. `key` names the invocation for the draws; repeats of the same key are told apart by count.
   */
  async invoke<T>(tag: string, key: string, work: () => Promise<T>): Promise<T> {
    const execution = this.#scope.getStore()?.execution ?? '';
    const occurrence = this.#next(`invoke|${tag}|${execution}|${key}`);
    const scope: Scope = {
      kind: 'invocation',
      tag,
      execution,
      key: `${tag}|${execution}|${key}|${occurrence}`,
      dead: false,
      calls: new Map(),
    };
    return this.#scope.run(scope, async () => {
      if (this.#roll(scope, 'crash-before', this.rates.crashBeforeHandler)) {
        this.count('lambda.crash_before_handler', scope.key);
        throw crash('Sandbox.Timedout', `${tag}: task timed out before the handler ran (injected)`);
      }
      let result: T;
      try {
        result = await work();
      } catch (error) {
        if (scope.dead) throw crash('Runtime.ExitError', `${tag}: process exited mid-handler (injected)`);
        throw error;
      }
      if (scope.dead) throw crash('Runtime.ExitError', `${tag}: process exited mid-handler (injected)`);
      if (this.#roll(scope, 'crash-after', this.rates.crashAfterHandler)) {
        this.count('lambda.crash_after_handler', scope.key);
        throw crash('Runtime.ExitError', `${tag}: process exited after the handler returned (injected)`);
      }
      return result;
    });
  }

  /**
   * Starts an execution (`start` must start it synchronously) labelled with its name: the draws of
   * its tasks are keyed by it, so two executions with equal task payloads (two scans of one day)
   * get their own faults whichever runs first.
   */
  execution<T>(name: string, start: () => T): T {
    return this.#scope.run(
      { kind: 'execution', tag: 'execution', execution: name, key: name, dead: false, calls: new Map() },
      start,
    );
  }

  /** Runs `work` outside any invocation: nothing in it is faulted (the checker's own reads). */
  outside<T>(work: () => T): T {
    return this.#scope.exit(work);
  }

  /** Every local task handler, wrapped as a Lambda invocation keyed by its payload. */
  wrapTasks(handlers: Record<string, LocalTask>): Record<string, LocalTask> {
    return Object.fromEntries(
      Object.entries(handlers).map(([tag, handler]) => [
        tag,
        (payload: unknown) => this.invoke(tag, payloadKey(payload), () => handler(payload)),
      ]),
    );
  }

  /** Adds the DynamoDB middleware and the provider faults to a runtime's clients and outbox. */
  attach(target: { clients: { client: DynamoDBClient }; outbox: LocalOutbox }): void {
    this.#outboxTable = target.outbox.tableName;
    this.instrumentDynamo(target.clients.client);
    this.instrumentOutbox(target.outbox);
  }

  instrumentDynamo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const scope = this.#faultable();
        if (!scope) return next(args);
        const command = context.commandName ?? 'Command';
        const input = args.input as { TableName?: string; Key?: unknown; Item?: Record<string, unknown> };
        const table =
          input.TableName ??
          Object.keys((args.input as { RequestItems?: object }).RequestItems ?? {})[0] ??
          '';
        const what = `${command} ${table} ${stableKey(input.Key ?? keyOfItem(input.Item))}`;
        const callKey = `${what}|${this.#nextIn(scope, what)}`;
        if (scope.dead) throw crash('Runtime.ExitError', 'the process has exited (injected)');
        const factor = scope.tag === 'scan-segment' ? this.rates.scanCallFactor : 1;
        const isWrite = WRITES.has(command);
        const provider = table === this.#outboxTable;
        if (isWrite && this.#roll(scope, `${callKey}|crash-before`, this.rates.crashAtWrite * factor)) {
          scope.dead = true;
          this.count('lambda.crash_before_write', scope.key, what);
          throw crash('Runtime.ExitError', 'the process exited before a write (injected)');
        }
        if (!provider) {
          const roll = this.draw(`${scope.key}|${callKey}|dynamo`);
          const r = this.rates;
          if (roll < r.dynamoThrottled * factor) {
            this.count('dynamo.throttled', scope.key, what);
            throw new ProvisionedThroughputExceededException({
              message: 'The level of configured provisioned throughput for the table was exceeded (injected)',
              $metadata: { httpStatusCode: 400 },
            });
          }
          if (roll < (r.dynamoThrottled + r.dynamoTimeoutBeforeSend) * factor) {
            this.count('dynamo.timeout_before_send', scope.key, what);
            throw timeout('connection timed out before the request was sent (injected)');
          }
        }
        const result = await next(args);
        if (scope.dead) throw crash('Runtime.ExitError', 'the process has exited (injected)');
        if (isWrite && this.#roll(scope, `${callKey}|crash-after`, this.rates.crashAtWrite * factor)) {
          scope.dead = true;
          this.count('lambda.crash_after_write', scope.key, what);
          throw crash('Runtime.ExitError', 'the process exited after a write (injected)');
        }
        if (
          !provider &&
          this.#roll(scope, `${callKey}|timeout-after`, this.rates.dynamoTimeoutAfterApply * factor)
        ) {
          this.count('dynamo.timeout_after_apply', scope.key, what);
          throw timeout('socket timed out after the request was applied (injected)');
        }
        return result;
      },
      { step: 'initialize', name: 'winbackFaultInjection', priority: 'high' },
    );
  }

  /** Provider faults on push and SMS: a refusal before acceptance, or acceptance then a timeout. */
  instrumentOutbox(outbox: LocalOutbox): void {
    const send = outbox.send.bind(outbox);
    outbox.send = async (address, message, ref: DeliveryRef) => {
      const scope = this.#faultable();
      if (!scope) return send(address, message, ref);
      const channel = typeof message === 'string' ? 'sms' : 'push';
      const step = `${ref.recallId}|${ref.step}`;
      const roll = this.draw(`${scope.key}|provider|${step}|${this.#nextIn(scope, `provider|${step}`)}`);
      if (roll < this.rates.providerRefused) {
        this.count('provider.refused', scope.key, step);
        throw channel === 'sms'
          ? providerError('ThrottledException', 'Rate exceeded (injected, before acceptance)')
          : providerError('TooManyRequestsException', 'Too many requests (injected, before acceptance)');
      }
      const result = await send(address, message, ref);
      if (roll < this.rates.providerRefused + this.rates.providerInDoubt) {
        this.count('provider.in_doubt', scope.key, step);
        this.inDoubt.set(step, (this.inDoubt.get(step) ?? 0) + 1);
        throw timeout('the provider accepted the message, then the connection timed out (injected)');
      }
      return result;
    };
  }

  /** `StartExecution` faults: the start is refused before it happens. */
  wrapStarter(starter: WorkflowStarter): WorkflowStarter {
    return {
      start: async (name: string, input: object): Promise<StartedExecution> => {
        const scope = this.#faultable();
        if (scope && !scope.dead) {
          const roll = this.draw(`${scope.key}|start|${name}|${this.#nextIn(scope, `start|${name}`)}`);
          if (roll < this.rates.startThrottled) {
            this.count('start.throttled', scope.key, name);
            throw providerError(
              'ThrottlingException',
              'Rate exceeded (injected; the starter backoff is spent)',
            );
          }
          if (roll < this.rates.startThrottled + this.rates.startExecutionLimit) {
            this.count('start.execution_limit', scope.key, name);
            throw providerError(
              'ExecutionLimitExceeded',
              'The maximum number of running executions has been reached (injected)',
            );
          }
        }
        return this.execution(name, () => starter.start(name, input));
      },
      isRunning: (arn) => starter.isRunning(arn),
      consoleUrl: (arn) => starter.consoleUrl(arn),
    };
  }

  #faultable(): Scope | undefined {
    const scope = this.#scope.getStore();
    return scope?.kind === 'invocation' && this.active ? scope : undefined;
  }

  #roll(scope: Scope, what: string, p: number): boolean {
    return p > 0 && this.draw(`${scope.key}|${what}`) < p;
  }

  #next(key: string): number {
    const n = this.#occurrences.get(key) ?? 0;
    this.#occurrences.set(key, n + 1);
    return n;
  }

  #nextIn(scope: Scope, key: string): number {
    const n = scope.calls.get(key) ?? 0;
    scope.calls.set(key, n + 1);
    return n;
  }
}

function crash(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

function timeout(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', $metadata: {} });
}

function providerError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function keyOfItem(item: Record<string, unknown> | undefined): unknown {
  if (!item) return undefined;
  // The key attributes the local tables use; enough to tell one item's writes from another's.
  const { userId, recallId, step, eventId, rewardId, messageId, outboxId } = item as Record<string, unknown>;
  return { userId, recallId, step, eventId, rewardId, messageId, outboxId };
}

function stableKey(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
  return text.length > 200 ? fnv(text).toString(36) : text;
}

function payloadKey(payload: unknown): string {
  return fnv(stableKey(payload) || 'null').toString(36);
}

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The holdout's hash (FNV-1a with a murmur3 finalizer), seeded: uniform in [0, 1). */
function hashUnit(seed: number, key: string): number {
  return fnv1a(key, seed) / 0x1_0000_0000;
}
