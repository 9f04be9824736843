import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_RETRY, RECALL_STEPS } from '../../lib/recall-workflow.ts';
import { TRANSIENT_LAMBDA_ERRORS } from '../../lib/retries.ts';
import { synthTemplate } from '../../local/synth.ts';
import { type AslDefinition, stateMachinesFromTemplate } from '../../local/template.ts';

// asl-validator 4.0.0 is CommonJS without type declarations: `(definition, opts?) => result`.
// It writes a default QueryLanguage into every state it visits, so it only ever sees a copy.
type AslValidator = (
  definition: unknown,
  opts?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: { message?: string }[]; errorsText: (separator?: string) => string };
const validate = createRequire(import.meta.url)('asl-validator') as AslValidator;

interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
  Error?: string;
}

interface Found {
  name: string;
  state: AslState;
  /** The Map or Parallel state this one runs inside, if any. */
  parent?: { name: string; state: AslState };
}

/** Every state, nested ones included. */
function allStates(definition: AslDefinition): Found[] {
  const out: Found[] = [];
  const visit = (states: Record<string, AslState>, parent?: Found['parent']) => {
    for (const [name, state] of Object.entries(states)) {
      out.push(parent ? { name, state, parent } : { name, state });
      const nested = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])];
      for (const machine of nested) if (machine) visit(machine.States, { name, state });
    }
  };
  visit((definition as unknown as { States: Record<string, AslState> }).States);
  return out;
}

function keysDeep(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysDeep(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysDeep(v, out);
    }
  }
  return out;
}

let machines: Record<string, AslDefinition>;

beforeAll(() => {
  machines = stateMachinesFromTemplate(synthTemplate());
});

const machine = (name: string): AslDefinition => {
  const definition = machines[name];
  if (!definition) throw new Error(`no ${name} state machine in the template`);
  return definition;
};
const stateOf = (definition: AslDefinition, name: string): AslState => {
  const found = allStates(definition).find((s) => s.name === name);
  if (!found) throw new Error(`no state "${name}"`);
  return found.state;
};

describe('the synthesized state machines', () => {
  it('are exactly Recall and DailyScan', () => {
    expect(Object.keys(machines).sort()).toEqual(['DailyScan', 'Recall']);
  });

  it.each(['Recall', 'DailyScan'])(
    '%s is valid Amazon States Language (asl-validator, paths and ARNs)',
    (name) => {
      const result = validate(structuredClone(machine(name)), { checkPaths: true, checkArn: true });
      expect(result.errorsText('\n')).toBe('');
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    },
  );

  it('the validator catches a broken definition (it is really checking)', () => {
    const broken = structuredClone(machine('Recall')) as unknown as { States: Record<string, AslState> };
    broken.States['Wait for sending hours']!.Next = 'No such state';
    const result = validate(broken);
    expect(result.isValid).toBe(false);
    expect(result.errors.length).toBeGreaterThan(0);
  });

  it.each(['Recall', 'DailyScan'])('%s uses JSONPath only: no QueryLanguage anywhere', (name) => {
    const keys = keysDeep(machine(name));
    expect(keys.has('QueryLanguage')).toBe(false);
    expect(keys.has('Arguments')).toBe(false);
    expect(keys.has('Output')).toBe(false);
    expect(keys.has('Parameters')).toBe(true);
  });

  it.each(['Recall', 'DailyScan'])(
    '%s invokes Lambda only through lambda:invoke (no .sync, no task tokens)',
    (name) => {
      const tasks = allStates(machine(name)).filter((s) => s.state.Type === 'Task');
      expect(tasks.length).toBeGreaterThan(0);
      for (const { state } of tasks) expect(state.Resource).toBe('arn:aws:states:::lambda:invoke');
    },
  );
});

describe('the Recall definition', () => {
  const recallStates = () => allStates(machine('Recall'));

  it('has the states operators read in the console, with their types', () => {
    const types = Object.fromEntries(recallStates().map((s) => [s.name, s.state.Type]));
    const expected: Record<string, string> = {
      'Prepare the recall': 'Task',
      'Wait for sending hours': 'Wait',
      'Which way does the recall go?': 'Choice',
      'Close the recall': 'Task',
      'Close the recall as failed': 'Task',
      'Recall failed': 'Fail',
      'Recall could not be closed': 'Fail',
    };
    for (const step of RECALL_STEPS) {
      expected[step.send] = 'Task';
      expected[step.wait] = 'Wait';
      expected[step.check] = 'Task';
      expected[step.decide] = 'Choice';
    }
    expect(types).toEqual(expected);
    expect((machine('Recall') as unknown as { StartAt: string }).StartAt).toBe('Prepare the recall');
    expect((machine('Recall') as unknown as { TimeoutSeconds: number }).TimeoutSeconds).toBe(60 * 86_400);
  });

  it('gives every Task a Retry and a Catch', () => {
    const tasks = recallStates().filter((s) => s.state.Type === 'Task');
    expect(tasks).toHaveLength(9);
    for (const { name, state } of tasks) {
      expect(state.Retry?.length, `${name} Retry`).toBeGreaterThan(0);
      expect(state.Catch?.length, `${name} Catch`).toBeGreaterThan(0);
      // Transient Lambda errors are retried everywhere.
      expect(
        state.Retry!.some((r) => TRANSIENT_LAMBDA_ERRORS.every((e) => r.ErrorEquals.includes(e))),
        `${name} retries transient Lambda errors`,
      ).toBe(true);
      // Whatever else is caught first, the last catcher takes everything: no error leaves a recall hanging.
      expect(state.Catch!.at(-1)!.ErrorEquals, `${name} catches States.ALL last`).toEqual(['States.ALL']);
    }
  });

  it('sends retry DeliveryFailed with the delivery budget, then fall through to their own check; other errors fail the recall', () => {
    for (const step of RECALL_STEPS) {
      const send = stateOf(machine('Recall'), step.send);
      expect(send.Retry![0]).toMatchObject({
        ErrorEquals: ['DeliveryFailed'],
        IntervalSeconds: DELIVERY_RETRY.intervalSeconds,
        MaxAttempts: DELIVERY_RETRY.maxAttempts,
        BackoffRate: DELIVERY_RETRY.backoffRate,
      });
      expect(DELIVERY_RETRY).toEqual({
        errors: ['DeliveryFailed'],
        intervalSeconds: 20,
        backoffRate: 3,
        maxAttempts: 3,
      });
      expect(send.Catch).toEqual([
        { ErrorEquals: ['DeliveryFailed'], ResultPath: `$.${step.resultKey}`, Next: step.check },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Close the recall as failed' },
      ]);
      expect(send.Next).toBe(step.wait);
    }
  });

  it('closes as failed on any other error, and the failure closer ends in a Fail either way', () => {
    for (const name of ['Prepare the recall', 'Close the recall', ...RECALL_STEPS.map((s) => s.check)]) {
      expect(stateOf(machine('Recall'), name).Catch, name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Close the recall as failed' },
      ]);
    }
    const closer = stateOf(machine('Recall'), 'Close the recall as failed');
    expect(closer.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.closeError', Next: 'Recall could not be closed' },
    ]);
    expect(closer.Next).toBe('Recall failed');
    expect(stateOf(machine('Recall'), 'Recall failed')).toMatchObject({
      Type: 'Fail',
      Error: 'RecallFailed',
    });
    expect(stateOf(machine('Recall'), 'Recall could not be closed')).toMatchObject({
      Type: 'Fail',
      Error: 'RecallCloseFailed',
    });
    expect(stateOf(machine('Recall'), 'Close the recall').End).toBe(true);
  });

  it('makes every Wait read its end time from the state (TimestampPath)', () => {
    const waits = Object.fromEntries(
      recallStates()
        .filter((s) => s.state.Type === 'Wait')
        .map(({ name, state }) => {
          expect(state.Seconds, name).toBeUndefined();
          expect(state.SecondsPath, name).toBeUndefined();
          expect(state.Timestamp, name).toBeUndefined();
          return [name, state.TimestampPath];
        }),
    );
    expect(waits).toEqual({
      'Wait for sending hours': '$.plan.sendAt',
      'Wait for a reply to the in-app message': '$.inApp.waitUntil',
      'Wait for a reply to the push notification': '$.push.waitUntil',
      'Wait for a reply to the SMS': '$.sms.waitUntil',
    });
  });
});

describe('the DailyScan definition', () => {
  const scanStates = () => allStates(machine('DailyScan'));

  it('retries every Task; a failed segment is noted and the run goes on; the summary fails the run after the digest', () => {
    const tasks = scanStates().filter((s) => s.state.Type === 'Task');
    expect(tasks.map((t) => t.name).sort()).toEqual([
      'Assess users in the segment',
      'Summarize the run and tell operators',
      'Write the daily report',
    ]);
    for (const { name, state } of tasks) {
      expect(state.Retry?.[0]?.ErrorEquals, name).toEqual(TRANSIENT_LAMBDA_ERRORS);
    }
    const segment = tasks.find((t) => t.name === 'Assess users in the segment')!;
    expect(segment.parent?.name).toBe('Assess every segment');
    expect(segment.state.Catch?.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [['States.ALL'], 'Note the failed segment'],
    ]);
    const summary = tasks.find((t) => t.name === 'Summarize the run and tell operators')!;
    expect(summary.state.Catch?.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [['SegmentsFailed'], 'Some segments failed'],
      [['States.ALL'], 'Digest failed'],
    ]);
    for (const c of summary.state.Catch ?? [])
      expect(stateOf(machine('DailyScan'), c.Next).Type).toBe('Fail');
  });

  it('has no Wait states and a 6 h timeout', () => {
    expect(scanStates().filter((s) => s.state.Type === 'Wait')).toEqual([]);
    expect((machine('DailyScan') as unknown as { TimeoutSeconds: number }).TimeoutSeconds).toBe(6 * 3600);
  });
});
