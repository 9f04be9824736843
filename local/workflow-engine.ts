import {
  ExecutionAbortedError,
  ExecutionError,
  type RunOptions,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { SimulatedClock } from './clock.ts';
import { type AslDefinition, PLACEHOLDER_ACCOUNT, PLACEHOLDER_REGION } from './template.ts';

/**
 * Runs an ASL definition on aws-local-stepfunctions against a SimulatedClock.
 *
 * Behaviour worth knowing (aws-local-stepfunctions 3.0.0):
 * - Task handlers: `lambda:invoke` states get the `Payload` of the task input (after Parameters) and their
 *   return value is wrapped as `{ ExecutedVersion, Payload, StatusCode: 200 }`, so `OutputPath: $.Payload`
 *   and `ResultSelector` behave as on AWS. Any other resource gets the whole task input and returns the
 *   raw result. Every Task must be mapped: an unmapped one would make the library call real AWS.
 * - Errors: the library matches Retry/Catch `ErrorEquals` against the thrown error's `name` (plus
 *   `States.ALL` and `States.TaskFailed`), and a Catch puts `{ Error: name, Cause: message }` into the
 *   data. We rethrow handler errors with the same `name` and, like Lambda, a JSON `Cause` of
 *   `{ errorType, errorMessage, trace }`. So `class Throttled extends Error { name = 'Throttled' }` is
 *   caught by `ErrorEquals: ['Throttled']`; a plain `Error` is code `Error`.
 * - Waits: the library would sleep on real timers (`setTimeout`/`Date.now`) and its `waitTimeOverrides`
 *   is a fixed number per state, which cannot express "until simulated time T". Holding the *next* state
 *   only works when that state is a Task. So each Wait is rewritten into a Task with the same
 *   InputPath/OutputPath/Next/End whose local handler computes the end time from the Wait's own fields
 *   (Seconds, Timestamp, SecondsPath, TimestampPath; paths are simple `$.a.b` / `$$.x` / `[0]` lookups
 *   against the Wait's effective input), measured from the simulated time the Wait was entered, and
 *   awaits `clock.until(end)`. History reports these states with type `Wait`.
 * - Retries happen at once (retryIntervalOverrides 0): backoff takes no simulated time. They are in the
 *   history as `StateRetried`.
 * - Top-level `TimeoutSeconds` is dropped (the library would enforce it on a real timer). Task
 *   `TimeoutSeconds` stay on real timers, capped so Node's timer cannot overflow; a Task without one gets
 *   that cap instead of the library's 60 s default.
 * - Each running Task, including a parked Wait, has such a real timer armed inside the library, so an
 *   execution left waiting on the clock keeps the Node process alive: call `stopAll()` before exiting.
 * - The library overwrites `$$.Execution.StartTime` with the real time and, inside Map iterations,
 *   `$$.Execution.Input` with the item. Paths reading either are rewritten to private context fields
 *   holding the simulated start time and the execution input.
 */

type JsonValue = Parameters<StateMachine['run']>[0];
type Overrides = NonNullable<RunOptions['overrides']>;
type LocalHandlers = NonNullable<Overrides['taskResourceLocalHandlers']>;
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type JsonObject = Record<string, unknown>;

export type LocalTask = (payload: unknown) => Promise<unknown>;

export interface LocalWorkflowOptions {
  definition: AslDefinition;
  /** Task state name -> handler. */
  tasks: Record<string, LocalTask>;
  clock: SimulatedClock;
  /** State machine name used in ARNs and `$$.StateMachine`; defaults to `local`. */
  name?: string;
  /**
   * At most this many task handlers run at once across the workflow's executions (like a Lambda
   * concurrency limit); others queue. Unlimited when absent.
   */
  maxConcurrentTasks?: number;
}

export type LocalExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface LocalHistoryEvent {
  /** Simulated ISO time. */
  at: string;
  type: string;
  state?: string;
  stateType?: string;
  /** Map iteration index, for events inside a Map. */
  index?: number;
  data?: unknown;
}

export interface LocalExecution {
  name: string;
  arn: string;
  input: unknown;
  status: LocalExecutionStatus;
  startedAt: string;
  stoppedAt?: string;
  output?: unknown;
  error?: { error: string; cause: string };
  history: LocalHistoryEvent[];
  /** Settles (never rejects) once the execution stopped and its history is complete. */
  done: Promise<void>;
}

export class ExecutionAlreadyExistsError extends Error {
  override readonly name = 'ExecutionAlreadyExists';
}

export class UnmappedTaskError extends Error {
  override readonly name = 'UnmappedTaskError';
}

const LAMBDA_INVOKE = /^arn:[\w-]+:states:::lambda:invoke$/;
const WAIT_RESOURCE = `arn:aws:lambda:${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}:function:winback-local-wait`;
// setTimeout overflows (fires at once) past 2^31-1 ms; the library arms one per Task.
const MAX_TASK_TIMEOUT_SECONDS = 2_147_483;
const CONTEXT_PATH = /\$\$\.Execution\.(StartTime|Input)(?![\w$])/g;
const CONTEXT_ALIASES: Record<string, string> = { StartTime: 'LocalStartTime', Input: 'LocalInput' };

interface TaskSpec {
  lambda: boolean;
  handler: LocalTask;
}

interface WaitSpec {
  Seconds?: number;
  Timestamp?: string;
  SecondsPath?: string;
  TimestampPath?: string;
}

interface Prepared {
  definition: AslDefinition;
  tasks: Map<string, TaskSpec>;
  waits: Map<string, WaitSpec>;
  retryOverrides: Record<string, number>;
}

export class LocalWorkflow {
  readonly name: string;
  readonly arn: string;
  readonly #clock: SimulatedClock;
  readonly #prepared: Prepared;
  readonly #machine: StateMachine;
  readonly #executions = new Map<string, LocalExecution>();
  readonly #controllers = new Map<string, AbortController>();
  readonly #slots: TaskSlots | undefined;

  constructor(opts: LocalWorkflowOptions) {
    this.name = opts.name ?? 'local';
    this.arn = `arn:aws:states:${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}:stateMachine:${this.name}`;
    this.#clock = opts.clock;
    this.#slots = opts.maxConcurrentTasks ? new TaskSlots(opts.maxConcurrentTasks) : undefined;
    this.#prepared = prepare(opts.definition, opts.tasks);
    this.#machine = createMachine(this.#prepared.definition);
  }

  /**
   * Starts an execution. As on AWS, a name is unique for good: reusing it returns the running execution
   * when the input is the same, and otherwise throws ExecutionAlreadyExistsError.
   */
  start(name: string, input: unknown = {}): LocalExecution {
    if (!isValidExecutionName(name)) {
      throw Object.assign(new Error(`Invalid execution name: '${name}'`), { name: 'InvalidName' });
    }
    const normalized = toJson(input);
    const existing = this.#executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && jsonEqual(existing.input, normalized)) return existing;
      throw new ExecutionAlreadyExistsError(`Execution already exists: '${existing.arn}'`);
    }
    const execution: LocalExecution = {
      name,
      arn: `arn:aws:states:${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}:execution:${this.name}:${name}`,
      input: normalized,
      status: 'RUNNING',
      startedAt: this.#clock.nowIso(),
      history: [],
      done: Promise.resolve(),
    };
    const controller = new AbortController();
    this.#executions.set(name, execution);
    this.#controllers.set(name, controller);
    execution.done = this.#run(execution, controller.signal);
    return execution;
  }

  describe(name: string): LocalExecution | undefined {
    return this.#executions.get(name);
  }

  list(): LocalExecution[] {
    return [...this.#executions.values()];
  }

  /** Executions started and not yet stopped; kept as a count, cheap enough for a progress line. */
  running(): number {
    return this.#controllers.size;
  }

  /** Aborts a running execution (status ABORTED), like StopExecution. */
  async stop(name: string): Promise<void> {
    const execution = this.#executions.get(name);
    if (!execution) return;
    this.#controllers.get(name)?.abort(runtimeError('Execution aborted'));
    await execution.done;
  }

  /** Aborts every running execution: nothing is left waiting on the clock or on the library's timers. */
  async stopAll(): Promise<void> {
    await Promise.all(this.list().map((e) => this.stop(e.name)));
  }

  async #run(execution: LocalExecution, signal: AbortSignal): Promise<void> {
    const input = execution.input as JsonValue;
    const context = {
      Execution: {
        Id: execution.arn,
        Name: execution.name,
        Input: input,
        StartTime: execution.startedAt,
        LocalInput: input,
        LocalStartTime: execution.startedAt,
        RoleArn: `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:role/local`,
      },
      StateMachine: { Id: this.arn, Name: this.name },
    };
    const handlers: LocalHandlers = {};
    for (const [state, spec] of this.#prepared.tasks) handlers[state] = (value) => this.#invoke(spec, value);
    for (const [state, spec] of this.#prepared.waits) {
      handlers[state] = (value) => this.#wait(spec, value, context, signal);
    }
    const run = this.#machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: handlers,
        retryIntervalOverrides: this.#prepared.retryOverrides,
      },
      context,
    });
    signal.addEventListener('abort', () => run.abort(), { once: true });
    const logged = this.#consume(execution, run.eventLogs);

    let outcome: Pick<LocalExecution, 'status' | 'output' | 'error'>;
    try {
      outcome = { status: 'SUCCEEDED', output: await run.result };
    } catch (err) {
      outcome =
        err instanceof ExecutionAbortedError
          ? { status: 'ABORTED' }
          : { status: 'FAILED', error: failure(err) };
    }
    const stoppedAt = this.#clock.nowIso();
    await logged;
    this.#controllers.delete(execution.name);
    // Status flips last, so whoever sees a final status also sees the complete history.
    Object.assign(execution, outcome, { stoppedAt });
  }

  async #invoke(spec: TaskSpec, input: JsonValue): Promise<JsonValue> {
    // Handlers do real I/O (dynalite); the hold keeps clock.settle() from moving time under them.
    const release = this.#clock.hold();
    const slot = this.#slots ? await this.#slots.acquire() : undefined;
    try {
      if (!spec.lambda) return toJson(await spec.handler(toJson(input))) as JsonValue;
      const payload = isObject(input) && 'Payload' in input ? input.Payload : {};
      const result = await spec.handler(toJson(payload));
      return { ExecutedVersion: '$LATEST', Payload: toJson(result) as JsonValue, StatusCode: 200 };
    } catch (err) {
      throw lambdaError(err);
    } finally {
      slot?.();
      release();
    }
  }

  async #wait(
    spec: WaitSpec,
    input: JsonValue,
    context: JsonObject,
    signal: AbortSignal,
  ): Promise<JsonValue> {
    await this.#clock.until(waitEnd(spec, input, context, this.#clock.nowMs()), signal);
    return input;
  }

  async #consume(execution: LocalExecution, events: AsyncGenerator<EventLog>): Promise<void> {
    // Stamped on arrival: events are consumed on microtasks, and the clock only moves between macrotasks.
    for await (const event of events) execution.history.push(this.#toHistory(event));
  }

  #toHistory(event: EventLog): LocalHistoryEvent {
    const out: LocalHistoryEvent = { at: this.#clock.nowIso(), type: event.type };
    if ('state' in event) {
      out.state = event.state.name;
      out.stateType = this.#prepared.waits.has(event.state.name) ? 'Wait' : event.state.type;
      if (event.index !== undefined) out.index = event.index;
      if (event.type === 'StateEntered') out.data = { input: event.state.input };
      else if (event.type === 'StateExited') out.data = { output: event.state.output };
      else if (event.type === 'StateFailed') out.data = { error: event.Error, cause: causeText(event.Cause) };
      else if (event.type === 'StateRetried')
        out.data = { attempt: event.retry.attempt, retrier: event.retry.retrier };
      else if (event.type === 'StateCaught') out.data = { catcher: event.catch.catcher };
    } else if ('parentState' in event) {
      out.state = event.parentState.name;
      out.stateType = event.parentState.type;
      if ('index' in event) out.index = event.index;
      if ('Error' in event) out.data = { error: event.Error, cause: causeText(event.Cause) };
    } else if (event.type === 'ExecutionStarted') {
      out.data = { input: event.input };
    } else if (event.type === 'ExecutionSucceeded') {
      out.data = { output: event.output };
    } else if (event.type === 'ExecutionFailed') {
      out.data = { error: event.Error, cause: causeText(event.Cause) };
    }
    return out;
  }
}

/** A counting semaphore: `acquire()` resolves with a release once a slot is free, first come first served. */
export class TaskSlots {
  #free: number;
  readonly #queue: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`TaskSlots needs a size ≥ 1, got ${size}`);
    this.#free = size;
  }

  acquire(): Promise<() => void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve) => this.#queue.push(() => resolve(this.#releaser())));
  }

  /** Callers waiting for a slot. */
  waiting(): number {
    return this.#queue.length;
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next caller in line; only with nobody waiting is it freed.
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

// asl-validator compiles its schemas on every call (~100 ms); a definition is validated once per process.
const validatedDefinitions = new Set<string>();

function createMachine(definition: AslDefinition): StateMachine {
  const key = JSON.stringify(definition);
  const validated = validatedDefinitions.has(key);
  const machine = new StateMachine(
    definition,
    validated ? { validationOptions: { noValidate: true } } : undefined,
  );
  validatedDefinitions.add(key);
  return machine;
}

/**
 * State transitions as Step Functions bills Standard workflows: every state entered, including states
 * inside Map iterations and Parallel branches (the library forwards those into the root history), plus
 * every retry, which AWS also bills as a transition.
 */
export function countTransitions(history: LocalHistoryEvent[]): number {
  return history.filter((e) => e.type === 'StateEntered' || e.type === 'StateRetried').length;
}

/** Task handler invocations (first attempts plus retries), optionally for one state. */
export function countTaskInvocations(history: LocalHistoryEvent[], state?: string): number {
  return history.filter(
    (e) =>
      (e.type === 'StateEntered' || e.type === 'StateRetried') &&
      e.stateType === 'Task' &&
      (state === undefined || e.state === state),
  ).length;
}

function prepare(definition: AslDefinition, tasks: Record<string, LocalTask>): Prepared {
  const def = rewriteContextPaths(structuredClone(definition)) as AslDefinition & JsonObject;
  if (def.QueryLanguage === 'JSONata') throw new Error('JSONata state machines are not supported locally');
  delete def.TimeoutSeconds;
  const prepared: Prepared = { definition: def, tasks: new Map(), waits: new Map(), retryOverrides: {} };
  const seen = new Set<string>();

  const visit = (machine: JsonObject) => {
    const states = machine.States as Record<string, JsonObject>;
    for (const [name, state] of Object.entries(states)) {
      // Overrides are keyed by state name across nested Map/Parallel machines, so names must be unique.
      if (seen.has(name))
        throw new Error(`State name '${name}' is used twice; local handlers are keyed by name`);
      seen.add(name);
      if (state.QueryLanguage === 'JSONata')
        throw new Error(`State '${name}' uses JSONata, not supported locally`);
      if (Array.isArray(state.Retry)) prepared.retryOverrides[name] = 0;
      switch (state.Type) {
        case 'Task':
          prepared.tasks.set(name, taskSpec(name, state, tasks));
          // The library defaults to a 60 s real-time limit; AWS's default is effectively unlimited, and a big
          // local batch on a slow machine must not time out where it would not on AWS.
          if (typeof state.TimeoutSeconds === 'number') {
            state.TimeoutSeconds = Math.min(state.TimeoutSeconds, MAX_TASK_TIMEOUT_SECONDS);
          } else if (state.TimeoutSecondsPath === undefined) {
            state.TimeoutSeconds = MAX_TASK_TIMEOUT_SECONDS;
          }
          break;
        case 'Wait':
          prepared.waits.set(name, {
            Seconds: state.Seconds as number | undefined,
            Timestamp: state.Timestamp as string | undefined,
            SecondsPath: state.SecondsPath as string | undefined,
            TimestampPath: state.TimestampPath as string | undefined,
          });
          states[name] = waitAsTask(state);
          break;
        case 'Map': {
          if (state.ItemReader !== undefined)
            throw new Error(`Map state '${name}' uses ItemReader (distributed map)`);
          visit((state.ItemProcessor ?? state.Iterator) as JsonObject);
          break;
        }
        case 'Parallel':
          for (const branch of state.Branches as JsonObject[]) visit(branch);
          break;
      }
    }
  };
  visit(def);
  return prepared;
}

function taskSpec(name: string, state: JsonObject, tasks: Record<string, LocalTask>): TaskSpec {
  const resource = String(state.Resource);
  if (/\.(sync|waitForTaskToken)(:\d+)?$/.test(resource)) {
    throw new Error(
      `Task state '${name}' uses ${resource}; .sync and .waitForTaskToken are not supported locally`,
    );
  }
  const handler = Object.hasOwn(tasks, name) ? tasks[name] : undefined;
  if (!handler) {
    throw new UnmappedTaskError(
      `Task state '${name}' (${resource}) has no local handler; add it to tasks so it never calls real AWS`,
    );
  }
  return { lambda: LAMBDA_INVOKE.test(resource), handler };
}

function waitAsTask(state: JsonObject): JsonObject {
  const task: JsonObject = {
    Type: 'Task',
    Resource: WAIT_RESOURCE,
    TimeoutSeconds: MAX_TASK_TIMEOUT_SECONDS,
  };
  // Copy only keys that are present: the library treats `InputPath: null` differently from no InputPath.
  for (const key of ['Comment', 'InputPath', 'OutputPath', 'Next', 'End']) {
    if (key in state) task[key] = state[key];
  }
  return task;
}

function rewriteContextPaths(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteContextPaths(v));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteContextPaths(v, k)]));
  }
  // Only path-valued fields: a literal string that happens to mention $$ stays as written.
  if (typeof value === 'string' && (key.endsWith('.$') || key.endsWith('Path') || key === 'Variable')) {
    return value.replace(CONTEXT_PATH, (_, field: string) => `$$.Execution.${CONTEXT_ALIASES[field]}`);
  }
  return value;
}

function waitEnd(spec: WaitSpec, input: unknown, context: JsonObject, enteredAt: number): number {
  if (spec.Seconds !== undefined) return enteredAt + spec.Seconds * 1000;
  if (spec.Timestamp !== undefined) return timestamp(spec.Timestamp, 'Timestamp');
  if (spec.SecondsPath !== undefined) {
    const seconds = readPath(spec.SecondsPath, input, context);
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
      throw runtimeError(
        `SecondsPath ${spec.SecondsPath} is not a non-negative integer: ${JSON.stringify(seconds)}`,
      );
    }
    return enteredAt + seconds * 1000;
  }
  if (spec.TimestampPath !== undefined) {
    return timestamp(readPath(spec.TimestampPath, input, context), spec.TimestampPath);
  }
  throw runtimeError('Wait state has none of Seconds, Timestamp, SecondsPath, TimestampPath');
}

function timestamp(value: unknown, source: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw runtimeError(`${source} is not a timestamp: ${JSON.stringify(value)}`);
  return ms;
}

/** `$`, `$.a.b`, `$['a']`, `$.list[0]`, and `$$.` for the context object. No filters or wildcards. */
function readPath(path: string, input: unknown, context: JsonObject): unknown {
  const isContext = path.startsWith('$$');
  if (!path.startsWith('$')) throw runtimeError(`Unsupported path: ${path}`);
  let current: unknown = isContext ? context : input;
  const rest = path.slice(isContext ? 2 : 1);
  const step = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  while (step.lastIndex < rest.length) {
    const m = step.exec(rest);
    if (!m) throw runtimeError(`Unsupported path: ${path}`);
    const segment = m[1] ?? m[3] ?? m[4];
    if (segment !== undefined) current = isObject(current) ? current[segment] : undefined;
    else current = Array.isArray(current) ? current[Number(m[2])] : undefined;
    if (current === undefined) throw runtimeError(`Path ${path} matched nothing`);
  }
  return current;
}

/** The library reads these duck-typed flags: States.Runtime is neither retried nor caught, as on AWS. */
function runtimeError(message: string): Error {
  return Object.assign(new Error(message), {
    name: 'States.Runtime',
    isRetryable: false,
    isCatchable: false,
  });
}

/** The StartExecution name rule: 1-80 characters, no whitespace, brackets, wildcards, punctuation or control characters. */
function isValidExecutionName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/u.test(name)) return false;
  return ![...name].some((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
  });
}

function lambdaError(err: unknown): Error {
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const trace = err instanceof Error ? (err.stack ?? '').split('\n') : [];
  const wrapped = new Error(JSON.stringify({ errorType: name, errorMessage: message, trace }));
  wrapped.name = name;
  return wrapped;
}

function failure(err: unknown): { error: string; cause: string } {
  const inner = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : err;
  if (inner instanceof Error) return { error: inner.name, cause: inner.message };
  return { error: 'Error', cause: String(inner) };
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause) ?? '';
}

function toJson(value: unknown): unknown {
  // Mirrors the JSON boundary of Lambda and Step Functions: no shared references, Dates become strings.
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]))
    );
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
  );
}
