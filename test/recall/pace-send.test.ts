import { describe, expect, it } from 'vitest';
import { createQuietLogger } from '../../functions/adapters/logger.ts';
import type { SendSlotStore } from '../../functions/adapters/send-slots.ts';
import type { RecallChannel } from '../../functions/domain/assessment.ts';
import { SlotBook } from '../../functions/domain/pacing.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../functions/domain/policy.ts';
import {
  firstPacedChannel,
  nextPacedChannel,
  type PacingDeps,
  paceAfterSend,
  pacePrepared,
} from '../../functions/use-cases/pace-send.ts';
import type { PreparedRecall, SendOutcome, SendStepInput } from '../../functions/use-cases/recall-steps.ts';

/** The in-memory book behind the store interface: the same claims the DynamoDB table answers. */
function bookStore(book = new SlotBook()): SendSlotStore & { book: SlotBook } {
  return {
    book,
    tryClaim: async (channel, second, rate) => book.tryClaim(channel, second, rate),
    skip: async (channel, skip) => book.skip(channel, skip),
  };
}

function deps(overrides: Partial<PacingDeps> = {}, logs: string[] = []): PacingDeps {
  return {
    slots: bookStore(),
    users: { get: async (userId) => (userId === 'gone' ? undefined : { userId, timeZone: 'Asia/Shanghai' }) },
    policy: parsePolicy({ recall: { sendRatePerSecond: { sms: 2, push: 2, in_app: 2 } } }),
    logger: createQuietLogger((line) => logs.push(line)),
    ...overrides,
  };
}

const input = (
  channel: RecallChannel,
  channels: RecallChannel[] = ['in_app', 'push', 'sms'],
): SendStepInput => ({
  recallId: 'rc-1',
  userId: 'u1',
  channel,
  plan: { channels, strategies: [] },
});
const result = (channel: RecallChannel, outcome: SendOutcome, waitUntil: string) => ({
  channel,
  result: outcome,
  at: '2026-11-24T01:00:00.000Z',
  waitUntil,
});

describe('which send is paced', () => {
  it.each([
    ['escalate', ['in_app', 'push', 'sms'], 'in_app'],
    ['escalate', ['push', 'sms'], 'push'],
    ['sms_first', ['in_app', 'push', 'sms'], 'sms'],
    ['sms_first', ['push'], undefined],
    ['skip', ['sms'], undefined],
  ] as const)('route %s over %j starts with %s', (route, channels, expected) => {
    expect(firstPacedChannel(route, channels)).toBe(expected);
  });

  it.each([
    ['in_app', 'sent', ['in_app', 'push', 'sms'], 'push'],
    ['in_app', 'no_consent', ['in_app', 'sms'], 'sms'],
    ['push', 'deferred', ['in_app', 'push', 'sms'], 'push'],
    ['push', 'sent', ['in_app', 'push'], undefined],
    ['sms', 'sent', ['in_app', 'push', 'sms'], undefined],
    ['in_app', 'not_planned', ['push', 'sms'], undefined],
  ] as const)('after %s %s over %j the next send is %s', (channel, outcome, channels, expected) => {
    expect(nextPacedChannel(input(channel, [...channels]), result(channel, outcome, 'x'))).toBe(expected);
  });
});

describe('paceAfterSend', () => {
  it('moves the wait to a free second: the third push due at 09:00:00 at 2 a second goes at 09:00:01', async () => {
    const d = deps();
    const due = '2026-11-26T01:00:00.000Z';
    const waits: string[] = [];
    for (let i = 0; i < 3; i++)
      waits.push((await paceAfterSend(input('in_app'), result('in_app', 'sent', due), d)).waitUntil);
    expect(waits).toEqual([due, due, '2026-11-26T01:00:01.000Z']);
  });

  it('moves a send that would spill into quiet hours to 08:00 the next morning, in the user’s zone', async () => {
    const d = deps();
    const lastSecond = '2026-11-26T12:59:59.000Z'; // 20:59:59 in Shanghai
    const waits: string[] = [];
    for (let i = 0; i < 3; i++)
      waits.push((await paceAfterSend(input('push'), result('push', 'sent', lastSecond), d)).waitUntil);
    expect(waits).toEqual([lastSecond, lastSecond, '2026-11-27T00:00:00.000Z']);
  });

  it('leaves the result alone when nothing sends next, or the user is gone', async () => {
    const d = deps();
    const last = result('sms', 'sent', '2026-12-03T01:00:00.000Z');
    expect(await paceAfterSend(input('sms'), last, d)).toBe(last);
    const gone = { ...input('in_app'), userId: 'gone' };
    const r = result('in_app', 'sent', '2026-11-26T01:00:00.000Z');
    expect(await paceAfterSend(gone, r, d)).toEqual(r);
  });

  it('keeps the due time, and says so, when the slot store fails: pacing never costs a send', async () => {
    const logs: string[] = [];
    const failing: SendSlotStore = {
      tryClaim: async () => {
        throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      },
      skip: async () => {},
    };
    const r = result('in_app', 'sent', '2026-11-26T01:00:00.000Z');
    expect(await paceAfterSend(input('in_app'), r, deps({ slots: failing }, logs))).toEqual(r);
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      {
        level: 'WARN',
        message: 'send not paced; it goes at its due time',
        userId: 'u1',
        channel: 'push',
        error: 'ProvisionedThroughputExceededException',
      },
    ]);
  });
});

describe('pacePrepared', () => {
  const prepared = (route: PreparedRecall['route'], sendAt: string): PreparedRecall => ({
    route,
    channels: ['in_app', 'push', 'sms'],
    strategies: [],
    holdout: false,
    sendAt,
  });

  it('paces the first send of the route: SMS-first recalls share the SMS rate', async () => {
    const d = deps();
    const at = '2026-11-26T01:00:00.000Z';
    const sendAts: string[] = [];
    for (let i = 0; i < 3; i++) sendAts.push((await pacePrepared('u1', prepared('sms_first', at), d)).sendAt);
    expect(sendAts).toEqual([at, at, '2026-11-26T01:00:01.000Z']);
    // The SMS seconds are taken; in-app (another channel) still starts at once.
    expect((await pacePrepared('u1', prepared('escalate', at), d)).sendAt).toBe(at);
  });

  it('leaves a skipped recall alone', async () => {
    const p = prepared('skip', '2026-11-26T01:00:00.000Z');
    expect(await pacePrepared('u1', p, deps())).toBe(p);
  });

  it('uses the policy’s rates (defaults 10 SMS a second)', async () => {
    const d = deps({ policy: DEFAULT_POLICY });
    const at = '2026-11-26T01:00:00.000Z';
    const sendAts = new Set<string>();
    for (let i = 0; i < 11; i++) sendAts.add((await pacePrepared('u1', prepared('sms_first', at), d)).sendAt);
    expect([...sendAts]).toEqual([at, '2026-11-26T01:00:01.000Z']);
  });
});
