import { describe, expect, it } from 'vitest';
import { smsStepFiguresFrom } from '../../functions/adapters/report-store.ts';

// Prepare asks for the last report's SMS-step figures on every recall; the report changes daily.
describe('smsStepFiguresFrom', () => {
  const smsStep = [{ lifecycle: 'growth', level: 'low', skipSms: true }];

  it('reads latest.json at most once per max age, then again', async () => {
    let reads = 0;
    let now = 0;
    const figures = smsStepFiguresFrom(
      {
        latest: async () => {
          reads++;
          return JSON.stringify({ recalls: { smsStep } });
        },
      },
      1_000,
      () => now,
    );
    expect(await figures()).toEqual(smsStep);
    now = 999;
    expect(await figures()).toEqual(smsStep);
    expect(reads).toBe(1);
    now = 1_000;
    await figures();
    expect(reads).toBe(2);
  });

  it('gives nothing (so no SMS is skipped) before the first report or without the section', async () => {
    expect(await smsStepFiguresFrom({ latest: async () => undefined })()).toBeUndefined();
    expect(await smsStepFiguresFrom({ latest: async () => '{"recalls":{}}' })()).toBeUndefined();
  });

  it('says why a report could not be read, and gives nothing', async () => {
    const heard: unknown[] = [];
    const denied = smsStepFiguresFrom(
      { latest: async () => Promise.reject(new Error('AccessDenied')) },
      1_000,
      () => 0,
      (e) => heard.push(e),
    );
    expect(await denied()).toBeUndefined();
    const garbled = smsStepFiguresFrom(
      { latest: async () => '{not json' },
      1_000,
      () => 0,
      (e) => heard.push(e),
    );
    expect(await garbled()).toBeUndefined();
    expect(heard.map((e) => (e as Error).name)).toEqual(['Error', 'SyntaxError']);
  });
});
