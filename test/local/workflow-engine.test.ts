import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../local/clock.ts';
import type { AslDefinition } from '../../local/template.ts';
import {
  countTaskInvocations,
  countTransitions,
  ExecutionAlreadyExistsError,
  type LocalTask,
  LocalWorkflow,
  TaskSlots,
  UnmappedTaskError,
} from '../../local/workflow-engine.ts';

const T0 = '2026-06-01T08:00:00.000Z';
const plus = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const LAMBDA = 'arn:aws:states:::lambda:invoke';
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:Fn';

function invoke(next: { Next: string } | { End: true }, extra: Record<string, unknown> = {}) {
  return {
    Type: 'Task' as const,
    Resource: LAMBDA,
    Parameters: { FunctionName: FN, 'Payload.$': '$' },
    OutputPath: '$.Payload',
    ...extra,
    ...next,
  };
}

// Task -> Wait(SecondsPath) -> Task -> Choice -> Map(Task) : the shape of a recall workflow.
const recall = {
  StartAt: 'Load',
  States: {
    Load: invoke(
      { Next: 'Pause' },
      {
        Parameters: { FunctionName: FN, Payload: { 'user.$': '$.user', 'execution.$': '$$.Execution.Name' } },
      },
    ),
    Pause: { Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'Check' },
    Check: invoke({ Next: 'AtRisk' }),
    AtRisk: {
      Type: 'Choice',
      Choices: [{ Variable: '$.atRisk', BooleanEquals: true, Next: 'SendAll' }],
      Default: 'Fine',
    },
    Fine: { Type: 'Succeed' },
    SendAll: {
      Type: 'Map',
      ItemsPath: '$.channels',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Send',
        States: { Send: invoke({ End: true }) },
      },
      ResultPath: '$.sent',
      End: true,
    },
  },
} as AslDefinition;

function recallWorkflow(clock: SimulatedClock, log: string[]) {
  const tasks: Record<string, LocalTask> = {
    Load: async (p) => {
      const { user, execution } = p as { user: string; execution: string };
      log.push(`Load ${user} ${execution} @${clock.nowIso()}`);
      return { user, waitSeconds: user === 'slow' ? 300 : 60, channels: ['push', 'email'] };
    },
    Check: async (p) => {
      const data = p as { user: string };
      log.push(`Check ${data.user} @${clock.nowIso()}`);
      return { ...data, atRisk: true };
    },
    Send: async (channel) => {
      // Real I/O inside a handler must not let simulated time move.
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`Send ${String(channel)} @${clock.nowIso()}`);
      return { channel, delivered: true };
    },
  };
  return new LocalWorkflow({ definition: recall, tasks, clock, name: 'Recall' });
}

describe('LocalWorkflow', () => {
  it('runs Task -> Wait -> Task -> Choice -> Map in simulated time', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const log: string[] = [];
    const workflow = recallWorkflow(clock, log);
    const execution = workflow.start('exec-1', { user: 'fast' });
    expect(execution.status).toBe('RUNNING');
    expect(execution.arn).toBe('arn:aws:states:us-east-1:123456789012:execution:Recall:exec-1');

    await clock.advanceBy(59_000);
    expect(log).toEqual([`Load fast exec-1 @${T0}`]);
    expect(execution.status).toBe('RUNNING');
    expect(clock.pending()).toBe(1);

    await clock.advanceBy(10_000);
    await execution.done;
    expect(log).toEqual([
      `Load fast exec-1 @${T0}`,
      `Check fast @${plus(60)}`,
      `Send push @${plus(60)}`,
      `Send email @${plus(60)}`,
    ]);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.stoppedAt).toBe(plus(60));
    expect(execution.output).toEqual({
      user: 'fast',
      atRisk: true,
      waitSeconds: 60,
      channels: ['push', 'email'],
      sent: [
        { channel: 'push', delivered: true },
        { channel: 'email', delivered: true },
      ],
    });

    const entered = execution.history.filter((e) => e.type === 'StateEntered');
    expect(entered.map((e) => [e.state, e.stateType, e.at])).toEqual([
      ['Load', 'Task', T0],
      ['Pause', 'Wait', T0],
      ['Check', 'Task', plus(60)],
      ['AtRisk', 'Choice', plus(60)],
      ['SendAll', 'Map', plus(60)],
      ['Send', 'Task', plus(60)],
      ['Send', 'Task', plus(60)],
    ]);
    expect(execution.history.at(-1)?.type).toBe('ExecutionSucceeded');
    // Map iterations are billed: 5 top-level states + 2 iterations of one state.
    expect(countTransitions(execution.history)).toBe(7);
    expect(countTaskInvocations(execution.history)).toBe(4);
    expect(clock.pending()).toBe(0);
  });

  it('finishes side-by-side executions in simulated-time order', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const log: string[] = [];
    const workflow = recallWorkflow(clock, log);
    const slow = workflow.start('slow', { user: 'slow' });
    const fast = workflow.start('fast', { user: 'fast' });
    await clock.advanceBy(3600_000);
    await Promise.all([slow.done, fast.done]);
    expect(fast.stoppedAt).toBe(plus(60));
    expect(slow.stoppedAt).toBe(plus(300));
    expect(log.filter((l) => l.startsWith('Check'))).toEqual([
      `Check fast @${plus(60)}`,
      `Check slow @${plus(300)}`,
    ]);
    expect(workflow.list().map((e) => e.name)).toEqual(['slow', 'fast']);
    expect(workflow.describe('fast')).toBe(fast);
  });

  it('runs at most maxConcurrentTasks task handlers at once, and every execution still finishes', async () => {
    const clock = new SimulatedClock(new Date(T0));
    let running = 0;
    let peak = 0;
    const task: LocalTask = async (payload) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      return payload;
    };
    const workflow = new LocalWorkflow({
      definition: {
        StartAt: 'One',
        States: { One: invoke({ Next: 'Two' }), Two: invoke({ End: true }) },
      } as unknown as AslDefinition,
      tasks: { One: task, Two: task },
      clock,
      maxConcurrentTasks: 3,
    });
    const executions = Array.from({ length: 10 }, (_, i) => workflow.start(`e${i}`, { i }));
    await clock.settle();
    await Promise.all(executions.map((e) => e.done));
    expect(executions.map((e) => e.status)).toEqual(Array(10).fill('SUCCEEDED'));
    expect(peak).toBe(3);
  });

  it('hands a freed task slot to the caller waiting longest', async () => {
    const slots = new TaskSlots(1);
    const order: string[] = [];
    const first = await slots.acquire();
    const second = slots.acquire().then((release) => {
      order.push('second');
      return release;
    });
    const third = slots.acquire().then((release) => {
      order.push('third');
      release();
    });
    expect(slots.waiting()).toBe(2);
    first();
    first(); // a second release of the same slot frees nothing
    (await second)();
    await third;
    expect(order).toEqual(['second', 'third']);
    expect(() => new TaskSlots(0)).toThrow(RangeError);
  });

  it('applies the AWS rule for duplicate execution names', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const workflow = recallWorkflow(clock, []);
    const first = workflow.start('u-1', { user: 'fast' });
    expect(workflow.start('u-1', { user: 'fast' })).toBe(first);
    expect(() => workflow.start('u-1', { user: 'other' })).toThrow(ExecutionAlreadyExistsError);
    await clock.advanceBy(120_000);
    await first.done;
    expect(() => workflow.start('u-1', { user: 'fast' })).toThrow(/already exists/);
    expect(() => workflow.start('has space', {})).toThrow(/Invalid execution name/);
  });

  it('retries a failing task without real waiting, recording the retries', async () => {
    const clock = new SimulatedClock(new Date(T0));
    let calls = 0;
    class Throttled extends Error {
      override name = 'Throttled';
    }
    const definition = {
      StartAt: 'Flaky',
      States: {
        Flaky: invoke(
          { End: true },
          { Retry: [{ ErrorEquals: ['Throttled'], IntervalSeconds: 60, MaxAttempts: 3, BackoffRate: 2 }] },
        ),
      },
    } as AslDefinition;
    const workflow = new LocalWorkflow({
      definition,
      clock,
      tasks: {
        Flaky: async () => {
          calls++;
          if (calls <= 2) throw new Throttled(`attempt ${calls}`);
          return { ok: calls };
        },
      },
    });
    const started = Date.now();
    const execution = workflow.start('retry', {});
    await execution.done;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toEqual({ ok: 3 });
    expect(execution.history.filter((e) => e.type === 'StateFailed').map((e) => e.data)).toMatchObject([
      { error: 'Throttled' },
      { error: 'Throttled' },
    ]);
    expect(execution.history.filter((e) => e.type === 'StateRetried')).toHaveLength(2);
    expect(countTaskInvocations(execution.history)).toBe(3);
    expect(countTransitions(execution.history)).toBe(3);
  });

  it('routes a custom error through Catch with a Lambda-style Cause', async () => {
    const clock = new SimulatedClock(new Date(T0));
    class UserGone extends Error {
      override name = 'UserGone';
    }
    const definition = {
      StartAt: 'Lookup',
      States: {
        Lookup: invoke(
          { Next: 'Done' },
          { Catch: [{ ErrorEquals: ['UserGone'], ResultPath: '$.error', Next: 'Forget' }] },
        ),
        Forget: invoke({ End: true }, { OutputPath: '$.Payload' }),
        Done: { Type: 'Succeed' },
      },
    } as AslDefinition;
    const workflow = new LocalWorkflow({
      definition,
      clock,
      tasks: {
        Lookup: async () => {
          throw new UserGone('no such user');
        },
        Forget: async (p) => ({ forgotten: p }),
      },
    });
    const execution = workflow.start('catch', { user: 'u9' });
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
    const forgotten = (
      execution.output as { forgotten: { user: string; error: { Error: string; Cause: string } } }
    ).forgotten;
    expect(forgotten.user).toBe('u9');
    expect(forgotten.error.Error).toBe('UserGone');
    expect(JSON.parse(forgotten.error.Cause)).toMatchObject({
      errorType: 'UserGone',
      errorMessage: 'no such user',
    });
    expect(execution.history.some((e) => e.type === 'StateCaught' && e.state === 'Lookup')).toBe(true);
  });

  it('fails the execution on an uncaught error', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const workflow = new LocalWorkflow({
      definition: { StartAt: 'Boom', States: { Boom: invoke({ End: true }) } } as AslDefinition,
      clock,
      tasks: {
        Boom: async () => {
          throw new TypeError('bad input');
        },
      },
    });
    const execution = workflow.start('fail', {});
    await execution.done;
    expect(execution.status).toBe('FAILED');
    expect(execution.error?.error).toBe('TypeError');
    expect(JSON.parse(execution.error?.cause ?? '{}')).toMatchObject({ errorMessage: 'bad input' });
    expect(execution.history.at(-1)?.type).toBe('ExecutionFailed');
  });

  it('refuses a definition with an unmapped task, even inside a Map', () => {
    const clock = new SimulatedClock(new Date(T0));
    expect(() => new LocalWorkflow({ definition: recall, clock, tasks: { Load: async () => ({}) } })).toThrow(
      UnmappedTaskError,
    );
    expect(
      () =>
        new LocalWorkflow({
          definition: recall,
          clock,
          tasks: { Load: async () => ({}), Check: async () => ({}) },
        }),
    ).toThrow(/Task state 'Send'/);
  });

  it('handles Timestamp waits, waits inside Map iterations, and a Wait as the last state', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const definition = {
      StartAt: 'Until',
      States: {
        Until: { Type: 'Wait', TimestampPath: '$.at', Next: 'PerItem' },
        PerItem: {
          Type: 'Map',
          ItemsPath: '$.items',
          Iterator: {
            StartAt: 'ItemWait',
            States: {
              ItemWait: { Type: 'Wait', SecondsPath: '$.s', Next: 'Stamp' },
              Stamp: { Type: 'Task', Resource: FN, End: true },
            },
          },
          ResultPath: '$.stamps',
          Next: 'Tail',
        },
        Tail: { Type: 'Wait', Seconds: 10, End: true },
      },
    } as AslDefinition;
    const workflow = new LocalWorkflow({
      definition,
      clock,
      // A plain Lambda ARN resource: the handler gets and returns raw values.
      tasks: { Stamp: async (item) => `${(item as { s: number }).s}@${clock.nowIso()}` },
    });
    const execution = workflow.start('ts', { at: plus(100), items: [{ s: 30 }, { s: 5 }] });
    await clock.advanceBy(86_400_000);
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
    expect((execution.output as { stamps: string[] }).stamps).toEqual([`30@${plus(130)}`, `5@${plus(105)}`]);
    expect(execution.stoppedAt).toBe(plus(140));
  });

  it('runs Parallel branches with their own waits, counting branch transitions', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Short',
              States: {
                Short: { Type: 'Wait', Seconds: 5, Next: 'A' },
                A: { Type: 'Task', Resource: FN, End: true },
              },
            },
            { StartAt: 'B', States: { B: { Type: 'Task', Resource: FN, End: true } } },
          ],
          End: true,
        },
      },
    } as AslDefinition;
    const workflow = new LocalWorkflow({
      definition,
      clock,
      tasks: { A: async () => `A@${clock.nowIso()}`, B: async () => `B@${clock.nowIso()}` },
    });
    const execution = workflow.start('par', {});
    await clock.advanceBy(60_000);
    await execution.done;
    expect(execution.output).toEqual([`A@${plus(5)}`, `B@${T0}`]);
    expect(countTransitions(execution.history)).toBe(4);
  });

  it('gives the context simulated start time and execution name', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const definition = {
      StartAt: 'Ctx',
      States: {
        Ctx: {
          Type: 'Pass',
          Parameters: {
            'name.$': '$$.Execution.Name',
            'start.$': '$$.Execution.StartTime',
            'id.$': '$$.Execution.Id',
          },
          End: true,
        },
      },
    } as AslDefinition;
    const workflow = new LocalWorkflow({ definition, clock, tasks: {} });
    const execution = workflow.start('ctx', {});
    await execution.done;
    expect(execution.output).toEqual({ name: 'ctx', start: T0, id: execution.arn });
  });

  it('stops a waiting execution as ABORTED and releases its clock waiter', async () => {
    const clock = new SimulatedClock(new Date(T0));
    const workflow = recallWorkflow(clock, []);
    const execution = workflow.start('stop-me', { user: 'slow' });
    await clock.settle();
    expect(clock.pending()).toBe(1);
    await workflow.stop('stop-me');
    expect(execution.status).toBe('ABORTED');
    expect(clock.pending()).toBe(0);
    expect(execution.history.at(-1)?.type).toBe('ExecutionAborted');
  });
});
